import { API_KEY } from './support/stack.ts';
import { expect, test } from './support/test.ts';

test('the official Usermaven SDK pointed at the relay gets its events upstream', async ({ page, site, outbox, stack, expectUpstream }) => {
  await page.goto(site.url('/official-sdk.html'));
  await expectUpstream({ event_type: 'pageview', api_key: API_KEY });
  await page.click('#signup');
  const [signup] = await expectUpstream({ event_type: 'signed_up' });
  expect(signup).toMatchObject({ api_key: API_KEY, source_ip: '127.0.0.1' });
  expect(JSON.stringify(signup)).toContain('"plan":"pro"');

  // It went first-party: to the relay's SDK route with the public key only.
  const sdkRequests = outbox.filter((r) => r.path === '/api/v1/event');
  expect(sdkRequests.length).toBeGreaterThan(0);
  for (const r of sdkRequests) expect(new URL(r.url).searchParams.get('token')).toBe(API_KEY);
  expect(outbox.filter((r) => r.path !== '/api/v1/event')).toEqual([]);
  const carrier = stack.upstream.accepted().find((r) => r.events.some((e) => e['event_id'] === signup?.['event_id']));
  expect(carrier?.path).toBe('/api/v1/s2s/event');
});
