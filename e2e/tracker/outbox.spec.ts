/**
 * The outbox lets go of an event only once the relay answered for it (src/tracker/transport.ts):
 * back-pressure from the real relay (spool full, rate limit), a burst, an oversized super
 * property and a page that changed the built-ins lose nothing.
 */
import type { Page } from '@playwright/test';
import { startStack, type Stack } from '../support/stack.ts';
import { expect, loaded, test } from './fixture.ts';

type Ev = Record<string, any>;

/** Every answer the page got from the collect route, by status. */
const answers = (page: Page) => {
  const seen: number[] = [];
  page.on('response', (r) => r.url().includes('/u/e') && seen.push(r.status()));
  return seen;
};

/** Posts to the relay from outside the browser (same client address, 127.0.0.1). */
const post = (stack: Stack, events: Ev[]) =>
  fetch(stack.relay.url + '/u/e', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(events) });

const filler = (pad = 0) => ({ event_type: 'filler', event_id: crypto.randomUUID(), event_attributes: { pad: 'x'.repeat(pad) } });

/** Waits until the upstream holds an accepted event of each type (page and event type). */
const arrived = (stack: Stack, wanted: [string, string?][], timeout = 60_000) =>
  stack.upstream.waitFor((u) => wanted.every(([type, path]) => u.events.some((e) => e['event_type'] === type && (!path || e['doc_path'] === path))), timeout);

test.describe('back-pressure from the relay', () => {
  let stack: Stack;
  test.afterEach(async () => stack?.close());

  test('503 spool_full: the events stay, and arrive with the next page once the relay recovered', async ({ page }) => {
    test.setTimeout(120_000);
    stack = await startStack({ DATA_MAX_MB: '1' });
    // The upstream is down and the spool fills up: the relay answers 503 spool_full.
    stack.upstream.fail(503);
    // (Filled to the last byte: a small event fits in what a big one left.)
    for (const pad of [60_000, 5_000, 300, 0]) for (let i = 0; i < 40 && (await post(stack, [filler(pad)])).status !== 503; i++);
    expect((await post(stack, [filler()])).status).toBe(503);

    const seen = answers(page);
    await page.goto(stack.relay.url + '/second.html');
    await loaded(page);
    await page.evaluate(() => window.usermaven.track('order_completed', { total: 42 }));
    await expect.poll(() => seen.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    // The track() waits for the back-off (Retry-After: 30), so both are kept.
    // (A call's event is written at the end of its tick: polled, as the 503 may be the pageview's.)
    await expect.poll(() => page.evaluate(() => (JSON.parse(localStorage.getItem('um_o')!) as Ev[]).map((e) => e['e']))).toEqual(['pageview', 'order_completed']);

    // The visitor goes on to another page while the relay still refuses: it is refused too.
    const before = seen.length;
    await page.goto(stack.relay.url + '/index.html');
    await expect.poll(() => seen.slice(before).filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);

    // The upstream heals and the spool drains; the visitor opens a third page.
    stack.upstream.heal();
    await expect.poll(async () => (await post(stack, [filler()])).status, { timeout: 60_000, intervals: [1000] }).toBe(200);
    await page.goto(stack.relay.url + '/second.html?third');
    await arrived(stack, [['pageview', '/second.html'], ['order_completed'], ['pageview', '/index.html']]);
    await stack.upstream.waitFor((u) => u.events.some((e) => e['doc_search'] === '?third'), 30_000);
    // Each once: what was sent again came under its own event_id.
    const ids = stack.upstream.events.filter((e) => e['event_type'] !== 'filler').map((e) => e['event_id']);
    expect(new Set(ids).size).toBe(4);
    await expect.poll(() => page.evaluate(() => localStorage.getItem('um_o'))).toBe('[]');
  });

  test('429 rate_limited: the events stay, and this page sends them again after Retry-After', async ({ page }) => {
    test.setTimeout(90_000);
    stack = await startStack({ RATE_LIMIT: '1' });
    // Keep the bucket of 127.0.0.1 (the browser's address too) empty until the page was refused.
    let flooding = true;
    let limited!: () => void;
    const empty = new Promise<void>((ok) => (limited = ok));
    const flood = (async () => {
      await post(stack, Array.from({ length: 500 }, () => filler()));
      while (flooding) {
        if ((await post(stack, [filler()])).status === 429) limited();
        await new Promise((ok) => setTimeout(ok, 50));
      }
    })();
    await empty;
    const seen = answers(page);
    await page.goto(stack.relay.url + '/second.html');
    await loaded(page);
    await page.evaluate(() => window.usermaven.track('signup', { plan: 'pro' }));
    await expect.poll(() => seen.filter((s) => s === 429).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    flooding = false;
    await flood;
    // No navigation: the same page tries again once Retry-After has passed.
    await arrived(stack, [['pageview', '/second.html'], ['signup']]);
    expect(seen).toContain(200);
    await expect.poll(() => page.evaluate(() => localStorage.getItem('um_o'))).toBe('[]');
  });
});

test('1,000 calls in one tick all arrive', async ({ page, site }) => {
  test.setTimeout(180_000);
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    for (let i = 0; i < 1000; i++) window.usermaven.track('burst', { i });
  });
  // Several requests of up to 64 KiB, one after the other (a slow machine needs the time).
  await expect.poll(() => site.events().filter((e) => e.event_type === 'burst').length, { timeout: 120_000 }).toBe(1000);
  const events = site.events().filter((e) => e.event_type === 'burst');
  expect(new Set(events.map((e) => (e.event_attributes as { i: number }).i)).size).toBe(1000);
});

/** Opens a page with the tracker loaded, collecting its console errors (the "too big" reports). */
const openWatchingErrors = async (page: Page, url: string) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await loaded(page);
  return errors;
};

test('a 70 KB set() is refused at the call, with a console error, and later events and pages arrive', async ({ page, site }) => {
  const errors = await openWatchingErrors(page, site.page('/index.html'));
  await page.evaluate(() => {
    window.usermaven('set', { plan: 'pro' });
    window.usermaven('set', { cart: 'x'.repeat(70_000) });
    window.usermaven.track('after_big_set');
  });
  await expect.poll(() => errors).toEqual(['umbeacon: too big set']); // (console messages arrive asynchronously)
  const [after] = await site.expectEvents((e) => e.event_type === 'after_big_set');
  // The call was refused whole: what was set before stays, the oversized property never was.
  expect(after).toMatchObject({ plan: 'pro' });
  expect(after).not.toHaveProperty('cart');
  await page.goto(site.page('/index.html?again'));
  await site.expectEvents((e) => e.event_type === 'pageview' && String(e.url).includes('again'));
});

test('super properties an older u.js stored too big are dropped once, not every event', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => localStorage.setItem('um_p', JSON.stringify({ '': { cart: 'x'.repeat(70_000) } })));
  await page.evaluate(() => {
    window.usermaven.track('refused_once');
    window.usermaven.track('after_drop');
  });
  await site.expectEvents((e) => e.event_type === 'after_drop');
  expect(site.events().some((e) => e.event_type === 'refused_once')).toBe(false);
});

test('a too-big track() is refused alone: the signed-in user and super properties stay', async ({ page, site }) => {
  const errors = await openWatchingErrors(page, site.page('/index.html'));
  await page.evaluate(() => {
    window.usermaven.identify({ id: 'u-big', email: 'ada@example.com' });
    window.usermaven('set', { plan: 'pro' });
    window.usermaven.track('huge', { blob: 'x'.repeat(70_000) });
    window.usermaven.track('after_huge');
  });
  await expect.poll(() => errors).toEqual(['umbeacon: too big huge']); // (console messages arrive asynchronously)
  const [after] = await site.expectEvents((e) => e.event_type === 'after_huge');
  expect(after).toMatchObject({ plan: 'pro', user: { id: 'u-big' } });
  expect(site.events().some((e) => e.event_type === 'huge')).toBe(false);
});

test("Prototype.js's Array.prototype.toJSON on the page changes nothing upstream", async ({ page, context, site }) => {
  // What Prototype.js 1.6 does: an enumerable toJSON on Array.prototype that returns a string.
  await context.addInitScript(() => {
    (Array.prototype as any).toJSON = function (this: unknown[]) {
      return '[' + this.map((x) => JSON.stringify(x)).join(', ') + ']';
    };
  });
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    window.usermaven('set', { tags: ['a', 'b'] });
    window.usermaven.track('cart', { items: [{ sku: 'x', qty: [1, 2] }], at: new Date(0) });
  });
  const [cart] = await site.expectEvents((e) => e.event_type === 'cart');
  expect(cart).toMatchObject({ tags: ['a', 'b'], event_attributes: { items: [{ sku: 'x', qty: [1, 2] }], at: '1970-01-01T00:00:00.000Z' } });
  expect(site.requests.every((r) => Array.isArray(JSON.parse(r.body)))).toBe(true);
});

test('a sendBeacon replaced by one that sends nothing loses nothing: the next page sends what it carried', async ({ page, context, site }) => {
  await context.addInitScript(() => {
    navigator.sendBeacon = () => true;
  });
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    // Timers frozen: only the beacon of the page's last moments can carry the event.
    window.setTimeout = (() => 0) as unknown as typeof window.setTimeout;
    window.usermaven.track('leaving_by_beacon');
    document.getElementById('away')!.click();
  });
  await expect(page).toHaveTitle('Away, no tracker');
  expect(site.events().some((e) => e.event_type === 'leaving_by_beacon')).toBe(false);
  await page.goto(site.page('/index.html?next'));
  await site.expectEvents((e) => e.event_type === 'leaving_by_beacon');
});
