/**
 * The parity harness: one scenario, run once with the official Usermaven SDK (lib.js pointed
 * at the relay with data-tracking-host) and once with u.js, each in a browser context of its
 * own, on the same relay and fake upstream. What reached the upstream and the cookies left in
 * the browser are then compared (`expectParity`).
 *
 * Each run's context has a user agent ending in `<test tag>/<sdk>`, which both trackers send
 * (the official SDK in `user_agent`, u.js in its request header), so each run sees its own
 * events. A run ends with a `done` event and waits for it upstream: both trackers send in
 * order, so what the scenario caused has arrived by then.
 */
import type { Browser, BrowserContext, Cookie, Page } from '@playwright/test';
import type { Stack } from '../support/stack.ts';
import { expect, type UpstreamEvent } from '../support/test.ts';
import { createExpectUpstream } from '../support/upstream.ts';
import { shape, types } from './shape.ts';

export const SDKS = ['official', 'umbeacon'] as const;
export type Sdk = (typeof SDKS)[number];

export interface Run {
  sdk: Sdk;
  page: Page;
  context: BrowserContext;
  /** The relay's origin on a host name (`--host-resolver-rules` maps every *.test host to 127.0.0.1). */
  origin(host?: string): string;
  /** Opens the parity page with these data-* attributes (`{ 'data-autocapture': 'true' }`). */
  open(attrs?: Record<string, string>, options?: { host?: string; ns?: string; path?: string }): Promise<void>;
  /** A call of the function form, as a page makes it (`call('track', 'signup', {...})`). */
  call(...args: unknown[]): Promise<void>;
  /** The tab is hidden (switched away from), as `visibilitychange` tells both trackers. */
  hide(): Promise<void>;
  /** This run's events upstream so far. */
  events(): UpstreamEvent[];
  /** Waits until this run's events match. */
  waitFor(match: (e: UpstreamEvent) => boolean, count?: number): Promise<UpstreamEvent[]>;
}

export interface Result {
  sdk: Sdk;
  /** What reached the upstream, in order, without the closing `done`. */
  events: UpstreamEvent[];
  cookies: Cookie[];
}

export interface Fixtures {
  browser: Browser;
  stack: Stack;
  tag: string;
  baseUserAgent: string;
}

export async function runBoth(fixtures: Fixtures, scenario: (run: Run) => Promise<void>, ns = 'usermaven'): Promise<Record<Sdk, Result>> {
  const out = {} as Record<Sdk, Result>;
  for (const sdk of SDKS) out[sdk] = await runOne(sdk, fixtures, scenario, ns);
  return out;
}

export async function runOne(sdk: Sdk, { browser, stack, tag, baseUserAgent }: Fixtures, scenario: (run: Run) => Promise<void>, ns = 'usermaven'): Promise<Result> {
  const context = await browser.newContext({ userAgent: `${baseUserAgent} ${tag}/${sdk}` });
  const page = await context.newPage();
  const port = new URL(stack.relay.url).port;
  let globalName = ns;
  const { events, waitFor } = runEvents(stack, tag, sdk);
  const run: Run = {
    sdk,
    page,
    context,
    origin: (host = '127.0.0.1') => `http://${host}:${port}`,
    async open(attrs = {}, options = {}) {
      const u = new URL(options.path ?? '/parity.html', run.origin(options.host));
      u.searchParams.set('sdk', sdk);
      u.searchParams.set('attrs', JSON.stringify(attrs));
      if (options.ns) u.searchParams.set('ns', (globalName = options.ns));
      await page.goto(u.href);
      await page.waitForFunction((name) => typeof (window as any)[name]?.track === 'function', globalName);
    },
    async call(...args) {
      await page.evaluate(([name, a]) => (window as any)[name as string](...(a as unknown[])), [globalName, args] as const);
    },
    async hide() {
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
        Object.defineProperty(document, 'hidden', { value: true, configurable: true });
        document.dispatchEvent(new Event('visibilitychange', { bubbles: true })); // as the browser fires it
        delete (document as any).visibilityState;
        delete (document as any).hidden;
      });
    },
    events,
    waitFor,
  };
  try {
    await scenario(run);
    await run.call('track', 'done');
    await waitFor((e) => e['event_type'] === 'done');
    const all = events();
    return { sdk, events: all.slice(0, all.findIndex((e) => e['event_type'] === 'done')), cookies: await context.cookies() };
  } finally {
    await context.close();
  }
}

/**
 * One run's events at the upstream: those whose user agent ends in `<tag>/<sdk>`. `waitFor`
 * waits until `count` of them match and returns the matching ones; on a timeout it fails with
 * all of them (e2e/support/upstream.ts). Also used by the package specs (e2e/packages/).
 */
export function runEvents(stack: Stack, tag: string, sdk: Sdk) {
  const expectRun = createExpectUpstream(stack.upstream, (e) => String(e['user_agent'] ?? '').endsWith(`${tag}/${sdk}`), stack.relay.log);
  return { events: expectRun.events, waitFor: (match: (e: UpstreamEvent) => boolean, count = 1) => expectRun(match, { count }) };
}

/** Same event types, and per type the same shapes (keys of the event and of its attributes). */
export function expectParity(r: Record<Sdk, Result>) {
  const describe = (sdk: Sdk) => `${sdk}:\n${r[sdk].events.map((e) => '  ' + JSON.stringify(e)).join('\n')}`;
  expect(types(r.umbeacon.events), `event types\n${describe('official')}\n${describe('umbeacon')}`).toEqual(types(r.official.events));
  const shapes = (sdk: Sdk) => [...new Set(r[sdk].events.map((e) => JSON.stringify(shape(e))))].sort().map((s) => JSON.parse(s));
  expect(shapes('umbeacon'), `event shapes\n${describe('official')}\n${describe('umbeacon')}`).toEqual(shapes('official'));
}

/** The visitor cookie each tracker keeps: u.js `__eventn_id`, the official SDK `__eventn_id_<key>`. */
export const visitorCookies = (result: Result) => result.cookies.filter((c) => /^__eventn_id/.test(c.name));

/** The cookies compared across trackers: where each visitor cookie lives and how long, not its name or value. */
export const cookieShape = (result: Result) =>
  visitorCookies(result).map((c) => ({ domain: c.domain, path: c.path, session: c.expires < 0 }));
