import { expect, test } from './support/test.ts';

test('calls made before u.js loaded arrive in order with the page context of their moment', async ({ page, site, expectUpstream }) => {
  const started = Date.now();
  await page.goto(site.url('/early.html'));
  await expectUpstream({ event_type: /^early_/ }, { count: 2 });
  const early = expectUpstream.events().filter((e) => String(e['event_type']).startsWith('early_'));

  expect(early.map((e) => e['event_type'])).toEqual(['early_first', 'early_second']);
  expect(early[0]).toMatchObject({ doc_path: '/early.html', doc_search: '', page_title: 'Early — step 1', event_attributes: { step: 1 } });
  expect(early[1]).toMatchObject({ doc_path: '/early/step-2', doc_search: '?step=2', page_title: 'Early — step 2', event_attributes: { step: 2 } });
  const [t1, t2] = early.map((e) => Number(e['_timestamp']));
  expect(t1).toBeGreaterThanOrEqual(started - 1000);
  expect(t1).toBeLessThanOrEqual(t2 ?? 0);
});

test('calls queued by the official stub run first, in order, before the load pageview', async ({ page, site, expectUpstream }) => {
  await page.goto(site.url('/queue-official.html'));
  await expectUpstream({ event_type: 'pageview', doc_path: '/queue-official.html' });
  await expectUpstream({ event_type: /^queued_/ }, { count: 2 });
  const arrived = [...expectUpstream.events()].sort((a, b) => Number(a['_timestamp']) - Number(b['_timestamp']));
  expect(arrived.map((e) => e['event_type'])).toEqual(['user_identify', 'queued_first', 'queued_second', 'pageview']);
  for (const e of arrived) expect(e).toMatchObject({ user: { id: 'u-7', email: 'grace@example.com' }, doc_path: '/queue-official.html' });
});
