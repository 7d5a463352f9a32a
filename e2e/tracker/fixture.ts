/**
 * The tracker specs' test: each test gets its own capture server (a fresh origin port and
 * an empty record), started before and stopped after it.
 */
import { test as base, expect, type Page } from '@playwright/test';
import type { InboundEvent } from '../../src/shared/event.ts';
import { startCapture, type Capture } from './capture.ts';

export { expect };
export { ANON_COOKIE as ANON } from '../../src/shared/visitor-id.ts';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Attrs = Record<string, string | null>;

export interface Site extends Capture {
  /**
   * URL of a fixture with attributes for its u.js tag. `data-allow-automation="true"` is on
   * by default (navigator.webdriver is true under Playwright); `null` leaves one out.
   */
  page(path: string, attrs?: Attrs): string;
  /** Polls until `count` events match, then returns them; prints everything received when it times out. */
  expectEvents(match: (e: InboundEvent) => boolean, count?: number): Promise<InboundEvent[]>;
}

export const test = base.extend<{ site: Site }>({
  site: async ({}, use, testInfo) => {
    const capture = await startCapture();
    const site = capture as Site;
    site.page = (path, attrs = {}) => {
      const u = new URL(capture.url(path));
      for (const [k, v] of Object.entries({ 'data-allow-automation': 'true', ...attrs })) if (v != null) u.searchParams.set(k, v);
      return u.href;
    };
    site.expectEvents = async (match, count = 1) => {
      try {
        await expect.poll(() => capture.events().filter(match).length, { message: `${count} matching event(s)` }).toBeGreaterThanOrEqual(count);
      } catch (e) {
        console.log('received:', JSON.stringify(capture.events(), null, 1));
        throw e;
      }
      return capture.events().filter(match);
    };
    await use(site);
    if (testInfo.status !== testInfo.expectedStatus)
      await testInfo.attach('received', { body: JSON.stringify(capture.requests, null, 2), contentType: 'application/json' });
    await capture.close();
  },
});

/** Resolves once u.js has replaced the stub (the stub has no `track` method). */
export const loaded = (page: Page) => page.waitForFunction(() => typeof window.usermaven?.track === 'function');

/**
 * Records, in the page, every call to sendBeacon and fetch (`window.__sent`), so a spec can
 * prove that nothing left: the tracker flushes synchronously on pagehide, so after a
 * dispatched pagehide the record is complete.
 */
export const spyOnSends = (page: Page) =>
  page.addInitScript(() => {
    const sent: string[] = ((window as any).__sent = []);
    const beacon = navigator.sendBeacon?.bind(navigator);
    if (beacon) navigator.sendBeacon = (url, body) => (sent.push('beacon ' + url), beacon(url, body));
    const f = window.fetch.bind(window);
    window.fetch = (input, init) => (sent.push('fetch ' + input), f(input, init));
  });

/** Flushes the tracker's queue now (it sends synchronously on pagehide) and returns what left. */
export const flushAndListSends = (page: Page) =>
  page.evaluate(() => {
    dispatchEvent(new Event('pagehide'));
    return (window as any).__sent as string[];
  });

/**
 * The event types, without `$pageleave`: a page left for another sends one when the next page
 * takes over 100 ms to answer (the official SDK's rule), which these tests do not control.
 * e2e/parity/automatic.spec.ts tests it.
 */
export const names = (events: InboundEvent[]) => events.map((e) => e.event_type).filter((t) => t != '$pageleave');
