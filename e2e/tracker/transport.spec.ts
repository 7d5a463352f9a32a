import { expect, loaded, names, spyOnSends, test } from './fixture.ts';

const outbox = (page: import('@playwright/test').Page) =>
  page.evaluate(() => ((JSON.parse(localStorage.getItem('um_o') || 'null') || []) as { e: string }[]).map((e) => e.e));

test('an event tracked right before a navigation arrives', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    window.usermaven.track('leaving', { via: 'link' });
    document.getElementById('away')!.click();
  });
  await expect(page).toHaveTitle('Away, no tracker');
  await site.expectEvents((e) => e.event_type === 'leaving');
});

test('an event tracked right before the tab closes arrives', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => window.usermaven.track('closing'));
  await page.close({ runBeforeUnload: true });
  await site.expectEvents((e) => e.event_type === 'closing');
});

// Browsers without sendBeacon, a sendBeacon that refuses (returns false: over quota or
// blocked), and one a privacy extension made throw.
const beacons = [
  { name: 'sendBeacon is missing', init: () => { delete (Navigator.prototype as any).sendBeacon; } },
  { name: 'sendBeacon returns false', init: () => { Navigator.prototype.sendBeacon = () => false; } },
  { name: 'sendBeacon throws', init: () => { Navigator.prototype.sendBeacon = () => { throw new TypeError('blocked'); }; } },
];
for (const { name, init } of beacons) {
  test(`when ${name} events still arrive, also on unload`, async ({ page, context, site }) => {
    await context.addInitScript(init);
    await page.goto(site.page('/index.html'));
    await loaded(page);
    await page.evaluate(() => window.usermaven.track('live'));
    await site.expectEvents((e) => e.event_type === 'live');
    await page.evaluate(() => {
      window.usermaven.track('leaving');
      document.getElementById('away')!.click();
    });
    await expect(page).toHaveTitle('Away, no tracker');
    // Sent by the page's last moments if a request made it out, else kept for the next page.
    await page.goto(site.page('/index.html?back'));
    await site.expectEvents((e) => e.event_type === 'leaving');
    await site.expectEvents((e) => e.event_type === 'pageview', 2);
    // At least once: a fallback racing the page's unload may deliver a batch twice, always
    // under the same event_id, which the upstream de-duplicates on.
    const byId = new Map(site.events().map((e) => [e.event_id, e.event_type]));
    // (The page left sends its $pageleave too when the next page took over 100 ms to answer.)
    expect([...byId.values()].filter((n) => n != '$pageleave')).toEqual(['pageview', 'live', 'leaving', 'pageview']);
    expect(site.requests.every((r) => r.headers['content-type'] === 'text/plain;charset=UTF-8')).toBe(true);
  });
}

test('offline events wait in localStorage and leave when the browser is online again', async ({ page, context, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine); // the renderer learns it a moment later
  await page.evaluate(() => {
    window.usermaven.track('offline_1');
    window.usermaven.track('offline_2');
  });
  await expect.poll(() => outbox(page)).toEqual(['offline_1', 'offline_2']);
  await page.evaluate(() => window.usermaven.track('offline_3'));
  await expect.poll(() => outbox(page)).toEqual(['offline_1', 'offline_2', 'offline_3']);
  expect(names(site.events())).toEqual(['pageview']);

  await context.setOffline(false);
  await site.expectEvents((e) => e.event_type.startsWith('offline_'), 3);
  expect(names(site.events())).toEqual(['pageview', 'offline_1', 'offline_2', 'offline_3']);
  await expect.poll(() => outbox(page)).toEqual([]); // the answer reaches the page after the relay stored the events
  const offline = site.events().slice(1);
  for (const e of offline) expect(e.sent_at).toBeGreaterThan(e._timestamp!);
});

test('events of a tab closed offline leave with the next page', async ({ context, site }) => {
  const first = await context.newPage();
  await first.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  // A second tab of the site, on a page without the tracker, watching localStorage.
  const second = await context.newPage();
  await second.goto(site.url('/away.html'));
  await context.setOffline(true);
  await first.waitForFunction(() => !navigator.onLine);
  await first.evaluate(() => window.usermaven.track('closed_offline'));
  // localStorage reaches other tabs asynchronously (in Chromium through the browser
  // process); a tab killed at once (page.close) could take the last write with it.
  await expect.poll(() => second.evaluate(() => localStorage.getItem('um_o'))).toContain('closed_offline');
  // Playwright's offline emulation is lifted while a page closes, so its pagehide could see
  // navigator.onLine true and post into a network that is still down (a lost beacon, about
  // one run in four on a loaded machine). A tab closed offline stays offline to the end.
  await first.evaluate(() => Object.defineProperty(navigator, 'onLine', { get: () => false }));
  await first.close();
  await context.setOffline(false);

  await second.goto(site.page('/next.html'));
  await site.expectEvents((e) => e.event_type === 'closed_offline');
  await site.expectEvents((e) => e.doc_path === '/next.html');
  expect(names(site.events()).sort()).toEqual(['closed_offline', 'pageview', 'pageview']);
});

test('a 5xx answer keeps the batch and sends it with the next one', async ({ page, context, site }) => {
  // Only fetch reports the answer; a beacon's answer is invisible to the page.
  await context.addInitScript(() => { delete (Navigator.prototype as any).sendBeacon; });
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  site.failNext(1, 503);
  await page.evaluate(() => window.usermaven.track('refused_once'));
  await expect.poll(() => site.refused).toBe(1);
  await expect.poll(() => outbox(page)).toEqual(['refused_once']);
  await page.evaluate(() => window.usermaven.track('next'));
  await site.expectEvents((e) => e.event_type === 'next');
  expect(names(site.events())).toEqual(['pageview', 'refused_once', 'next']);
});

test('a 4xx answer drops the batch: the relay refuses it for good', async ({ page, context, site }) => {
  await context.addInitScript(() => { delete (Navigator.prototype as any).sendBeacon; });
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  site.failNext(1, 400);
  await page.evaluate(() => window.usermaven.track('refused'));
  await expect.poll(() => site.refused).toBe(1);
  await page.evaluate(() => window.usermaven.track('next'));
  await site.expectEvents((e) => e.event_type === 'next');
  expect(names(site.events())).toEqual(['pageview', 'next']);
  await expect.poll(() => outbox(page)).toEqual([]); // the answer reaches the page after the relay stored the events
});

test('batches are split to stay under 64 KiB, and an event over the limit is dropped', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    const text = (n: number) => 'é'.repeat(n); // 2 bytes each in UTF-8
    for (let i = 0; i < 5; i++) window.usermaven.track('big_' + i, { text: text(10_000) });
    window.usermaven.track('huge', { text: text(40_000) });
    window.usermaven.track('small');
  });
  await site.expectEvents((e) => e.event_type === 'small');
  await site.expectEvents((e) => e.event_type.startsWith('big_'), 5);
  expect(names(site.events())).not.toContain('huge');
  const sizes = site.requests.map((r) => Buffer.byteLength(r.body));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
  expect(site.requests.length).toBeGreaterThanOrEqual(3);
});

// The tracker holds events 100 ms to batch them; these prove the flush is immediate, with
// no waiting: the request is made inside the same task as the event that hides the page.
const hides = [
  { name: 'pagehide', hide: () => dispatchEvent(new Event('pagehide')) },
  {
    name: 'visibilitychange to hidden',
    hide: () => {
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true })); // as the browser fires it
    },
  },
];
for (const { name, hide } of hides) {
  test(`${name} sends queued events at once`, async ({ page, site }) => {
    await spyOnSends(page);
    await page.goto(site.page('/index.html'));
    await site.expectEvents((e) => e.event_type === 'pageview');
    const sent = await page.evaluate((hideSource) => {
      const w = window as any;
      w.__sent.length = 0;
      window.usermaven.track('queued');
      const before = w.__sent.length;
      new Function(`(${hideSource})()`)();
      return { before, after: w.__sent.length };
    }, hide.toString());
    expect(sent).toEqual({ before: 0, after: 1 });
    await site.expectEvents((e) => e.event_type === 'queued');
  });
}

test('a browser where every storage and transport API throws gets no errors in the page', async ({ page, context, site }) => {
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  await context.addInitScript(() => {
    const deny = () => { throw new DOMException('blocked', 'SecurityError'); };
    Object.defineProperty(Document.prototype, 'cookie', { get: deny, set: deny, configurable: true });
    Object.defineProperty(window, 'localStorage', { get: deny, configurable: true });
    Navigator.prototype.sendBeacon = deny;
    window.fetch = () => { throw new TypeError('fetch blocked'); };
  });
  await page.goto(site.page('/index.html'));
  await loaded(page);
  const results = await page.evaluate(() => {
    const um = window.usermaven;
    return [
      um.identify({ id: 'u' }, { id: 'c' }),
      um.track('t', { a: 1 }),
      um.page(),
      um.group({ id: 'c2', name: 'C2', created_at: '2024-01-01' }),
      um.reset(),
      um.consent(false),
      um.consent(true),
      history.pushState(null, '', '/elsewhere'),
      dispatchEvent(new Event('pagehide')),
      dispatchEvent(new Event('online')),
    ].map((r) => r ?? null);
  });
  expect(results.slice(0, 8)).toEqual(Array(8).fill(null));
  // The SPA pageview runs a task after pushState; a task queued now runs after it. Then a
  // pagehide flushes what it queued, at once.
  await page.evaluate(() => new Promise((ok) => setTimeout(ok)));
  await page.evaluate(() => dispatchEvent(new Event('pagehide')));
  expect(errors).toEqual([]);
  expect(site.requests).toEqual([]);
});
