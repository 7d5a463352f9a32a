import { trackerLoaded } from './support/browser.ts';
import { SERVER_TOKEN, startStack } from './support/stack.ts';
import { createExpectUpstream } from './support/upstream.ts';
import { expect, ofType, test } from './support/test.ts';

test.describe('an event tracked right before the page goes away arrives', () => {
  // In both, timers are frozen right before the call (see leave.html), so the event cannot
  // leave on the tracker's send delay: it arrives only if leaving the page sends it.
  test('when the page navigates away in the same task', async ({ page, site, expectUpstream }) => {
    await page.goto(site.url('/leave.html?frozen'));
    await trackerLoaded(page);
    await page.click('#go');
    await page.waitForURL('**/second.html');
    await expectUpstream({ event_type: 'left_page', doc_path: '/leave.html', event_attributes: { via: 'link' } });
  });

  test('when the page is closed', async ({ page, site, expectUpstream }) => {
    await page.goto(site.url('/second.html'));
    await trackerLoaded(page);
    await page.evaluate(() => {
      window.setTimeout = (() => 0) as unknown as typeof window.setTimeout;
      window.usermaven.track('closed_tab', { n: 1 });
    });
    await page.close({ runBeforeUnload: true });
    await expectUpstream({ event_type: 'closed_tab', doc_path: '/second.html' });
  });
});

test.describe('without a working sendBeacon events still arrive', () => {
  test('when sendBeacon does not exist', async ({ page, site, outbox, expectUpstream }) => {
    await page.goto(site.url('/no-beacon.html'));
    await trackerLoaded(page);
    await page.evaluate(() => window.usermaven.track('no_beacon'));
    await expectUpstream({ event_type: 'pageview', doc_path: '/no-beacon.html' });
    await expectUpstream({ event_type: 'no_beacon' });
    expect(outbox.map((r) => r.type)).not.toContain('ping');
  });

  test('when sendBeacon returns false', async ({ page, site, outbox, expectUpstream }) => {
    await page.goto(site.url('/beacon-false.html'));
    await trackerLoaded(page);
    await page.evaluate(() => window.usermaven.track('beacon_refused'));
    await expectUpstream({ event_type: 'pageview', doc_path: '/beacon-false.html' });
    await expectUpstream({ event_type: 'beacon_refused' });
    // (While the page lives u.js sends by fetch and reads the answer; sendBeacon is for the
    // page's last moments, and what it refuses stays in the outbox for the next page.)
    expect(outbox.map((r) => r.type)).not.toContain('ping');
  });
});

test('events tracked offline arrive once when the browser is back online', async ({ page, context, site, expectUpstream }) => {
  await page.goto(site.url('/second.html'));
  await trackerLoaded(page);
  await expectUpstream({ event_type: 'pageview', doc_path: '/second.html' });

  await context.setOffline(true);
  await page.evaluate(() => {
    for (const n of [1, 2, 3]) window.usermaven.track(`offline_${n}`, { n });
    // Make the tracker try to send now, as it does when the tab is hidden: offline, a beacon
    // "succeeds" and is lost, so these must wait for the connection instead.
    dispatchEvent(new PageTransitionEvent('pagehide'));
  });
  await context.setOffline(false);

  await expectUpstream({ event_type: /^offline_/ }, { count: 3 });
  await page.evaluate(() => window.usermaven.track('sentinel'));
  await expectUpstream({ event_type: 'sentinel' });
  const offline = expectUpstream.events().filter((e) => String(e['event_type']).startsWith('offline_'));
  expect(offline.map((e) => e['event_type']).sort()).toEqual(['offline_1', 'offline_2', 'offline_3']);
  expect(new Set(offline.map((e) => e['event_id'])).size).toBe(3);
});

test('events sent while the upstream is down all arrive, in bulk, once it is back', async ({ page, tag }) => {
  // Its own relay and upstream: the outage must not touch other tests of this worker.
  const stack = await startStack();
  try {
    const expectUpstream = createExpectUpstream(stack.upstream, (e) => String(e['user_agent'] ?? '').includes(tag), stack.relay.log);
    stack.upstream.fail(503);
    for (const path of ['/index.html', '/second.html', '/login.html']) {
      await page.goto(new URL(path, stack.relay.url).href);
      await trackerLoaded(page);
    }
    await page.evaluate(() => window.usermaven.track('while_down'));
    // The relay tried, got 503s, and kept the events.
    await stack.upstream.waitFor((u) => u.requests.some((r) => r.status === 503));
    expect(stack.upstream.events).toHaveLength(0);

    stack.upstream.heal();
    await expectUpstream({ event_type: 'pageview' }, { count: 3, timeoutMs: 20_000 });
    await expectUpstream({ event_type: 'while_down' }, { timeoutMs: 20_000 });
    const paths = ofType(expectUpstream.events(), 'pageview').map((e) => e['doc_path']);
    expect(paths).toEqual(expect.arrayContaining(['/index.html', '/second.html', '/login.html']));
    const bulk = stack.upstream.accepted().filter((r) => r.events.length > 1);
    expect(bulk.length, `bulk requests after the outage\n${expectUpstream.describe()}`).toBeGreaterThan(0);
    expect(stack.relay.log(), 'relay output').not.toContain(SERVER_TOKEN);
  } finally {
    await stack.close();
  }
});
