import { anonymousIdCookie, trackerLoaded } from './support/browser.ts';
import { expect, test } from './support/test.ts';

const ada = { id: 'u-1815', email: 'ada@example.com', first_name: 'Ada', created_at: '2024-01-02T03:04:05Z' };
const company = { id: 'c-42', name: 'Analytical Engines Ltd', created_at: '2023-06-07T08:09:10Z', custom: { plan: 'starter' } };

test('sign-in identifies the user and company for later events, and logout (reset(true)) forgets them', async ({ page, site, expectUpstream }) => {
  await page.goto(site.url('/login.html'));
  await trackerLoaded(page);
  const anonymousBefore = await anonymousIdCookie(page.context());
  await page.click('button[type=submit]');
  await expectUpstream({ event_type: 'user_identify', user: { ...ada, anonymous_id: anonymousBefore }, company });

  await page.click('#upgrade');
  await page.waitForURL('**/upgrade.html');
  await trackerLoaded(page);
  await page.click('#upgrade');
  const [upgrade] = await expectUpstream({ event_type: 'plan_upgraded', doc_path: '/upgrade.html' });
  expect(upgrade).toMatchObject({
    event_attributes: { amount: 100, currency: 'USD' },
    user: { ...ada, anonymous_id: anonymousBefore },
    company,
  });

  await page.click('#logout');
  await page.waitForURL('**/index.html');
  const [after] = await expectUpstream({ event_type: 'pageview', doc_path: '/index.html' });
  const user = after?.['user'] as Record<string, unknown>;
  expect(user['anonymous_id'], 'a new anonymous id after reset(true)').toEqual(expect.any(String));
  expect(user['anonymous_id']).not.toBe(anonymousBefore);
  expect(user).not.toHaveProperty('id');
  expect(user).not.toHaveProperty('email');
  expect(after?.['company']).toEqual({});
  expect(await anonymousIdCookie(page.context())).toBe(user['anonymous_id']);
});
