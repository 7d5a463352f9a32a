/**
 * The e2e `test`: Playwright's, plus the umbeacon harness.
 *
 * - `stack` (per worker): fake Usermaven upstream + the real relay CLI serving `e2e/site`.
 * - `adblock` (per project): when true, every page runs behind EasyList + EasyPrivacy.
 * - `site.url(path)`: a page of the fixture site, through the relay.
 * - `expectUpstream(matcher)`: polls for this test's events at the upstream (see upstream.ts).
 * - `outbox`: every request the browser made to the relay's event routes, in order.
 * - `newPage()`: another tab in the same context, with the blocker on when it is on.
 * - After every test: no response the browser saw contained the server token, and no
 *   request to the relay (127.0.0.1) was blocked by the ad-blocker.
 */
import { test as base, expect, type Page, type Request } from '@playwright/test';
import { enableBlocking } from './adblock.ts';
import { scanResponses, type ResponseScanner } from './scanner.ts';
import { SERVER_TOKEN, startStack, type Stack } from './stack.ts';
import { createExpectUpstream, type ExpectUpstream, type UpstreamEvent } from './upstream.ts';

export { expect };
export type { UpstreamEvent };

/** Paths at which the browser hands events to the relay. */
export const EVENT_ROUTES = ['/u/e', '/u/p.gif', '/api/v1/event'];

export interface Site {
  readonly origin: string;
  url(path: string): string;
}

export interface OutboxEntry {
  url: string;
  path: string;
  method: string;
  body: string | null;
  /** Playwright's resource type: `ping` for sendBeacon, `fetch`, `xhr`, `image`. */
  type: string;
}

/** Options a Playwright project can set. */
export interface Options {
  adblock: boolean;
}

interface WorkerFixtures extends Options {
  stack: Stack;
  baseUserAgent: string;
}

interface TestFixtures {
  /** Requests the ad-blocker refused (any origin), for the after-test check. */
  blocked: string[];
  /** Unique per test; appended to the user agent so events can be told apart upstream. */
  tag: string;
  site: Site;
  expectUpstream: ExpectUpstream;
  outbox: OutboxEntry[];
  newPage: () => Promise<Page>;
  scanner: ResponseScanner;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  adblock: [false, { option: true, scope: 'worker' }],

  stack: [
    async ({}, use) => {
      const stack = await startStack();
      await use(stack);
      await stack.close();
      // The server token never reaches a log line or an error message either.
      expect(stack.relay.log(), 'relay output contains the server token').not.toContain(SERVER_TOKEN);
    },
    { scope: 'worker', timeout: 30_000 },
  ],

  baseUserAgent: [
    async ({ browser }, use) => {
      const page = await browser.newPage();
      const ua = await page.evaluate(() => navigator.userAgent);
      await page.close();
      await use(ua);
    },
    { scope: 'worker' },
  ],

  tag: async ({}, use, testInfo) => {
    await use(`umbeacon-e2e/${testInfo.testId}`);
  },

  userAgent: async ({ baseUserAgent, tag }, use) => {
    await use(`${baseUserAgent} ${tag}`);
  },

  scanner: [
    async ({ context }, use) => {
      const scanner = scanResponses(context);
      await use(scanner);
      await scanner.settle();
      expect(scanner.find(SERVER_TOKEN), 'responses that carried the server token').toEqual([]);
    },
    { auto: true },
  ],

  blocked: [
    async ({ context }, use) => {
      const blocked: string[] = [];
      context.on('requestfailed', (request) => {
        if (request.failure()?.errorText.startsWith('net::ERR_BLOCKED_BY_CLIENT')) blocked.push(request.url());
      });
      await use(blocked);
      expect(blocked.filter((url) => new URL(url).hostname === '127.0.0.1'), 'first-party requests the ad-blocker blocked').toEqual([]);
    },
    { auto: true },
  ],

  page: async ({ page, adblock }, use) => {
    if (adblock) await enableBlocking(page);
    await use(page);
  },

  newPage: async ({ context, adblock }, use) => {
    await use(async () => {
      const page = await context.newPage();
      if (adblock) await enableBlocking(page);
      return page;
    });
  },

  site: async ({ stack }, use) => {
    const origin = stack.relay.url;
    await use({ origin, url: (path) => new URL(path, origin).href });
  },

  expectUpstream: async ({ stack, tag }, use) => {
    await use(createExpectUpstream(stack.upstream, (e) => String(e['user_agent'] ?? '').includes(tag), stack.relay.log));
  },

  outbox: async ({ context, site }, use) => {
    const outbox: OutboxEntry[] = [];
    const onRequest = (request: Request) => {
      const url = new URL(request.url());
      if (url.origin !== site.origin || !EVENT_ROUTES.includes(url.pathname)) return;
      outbox.push({ url: url.href, path: url.pathname, method: request.method(), body: request.postData(), type: request.resourceType() });
    };
    context.on('request', onRequest);
    await use(outbox);
    context.off('request', onRequest);
  },
});

/** Events of one type, in arrival order. */
export function ofType(events: UpstreamEvent[], type: string): UpstreamEvent[] {
  return events.filter((e) => e['event_type'] === type);
}
