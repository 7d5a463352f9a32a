/**
 * examples/nextjs run for real, twice: `next build` of the example (App Router and Pages Router
 * pages, the SDK in a client provider, its proxy calling `middlewareEnv`, the relay in route
 * handlers), then `next start` on a socket, and a Chromium on its pages. First with the official
 * @usermaven/nextjs in the browser in place of `umbeacon/next` (USERMAVEN_SDK=official,
 * next.config.mjs), the oracle; then the example as it is. The build prerenders every page on
 * the server, so a provider or hook that touched the browser there fails it, and so does an
 * export the app imports that is missing. Both send to the relay inside their Next.js server
 * (the official to its own route, /api/v1/event; umbeacon to /u/e), which forwards to one fake
 * upstream; each run's events are told apart by their page's origin. SIGTERM stops each server.
 *
 * Its own suite (vitest.next.config.ts, `npm run test:next`): the builds take a minute or more.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Cookie, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shape, types } from '../../e2e/parity/shape.ts';
import { createExpectUpstream, type UpstreamEvent } from '../../e2e/support/upstream.ts';
import { launchChromium, visitorPage } from '../support/chromium.ts';
import { startChild } from '../support/child.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { buildIfStale, ROOT } from '../support/cli-process.mjs';

const APP = join(ROOT, 'examples/nextjs');
const NEXT = join(ROOT, 'node_modules/next/dist/bin/next');
type Sdk = 'official' | 'umbeacon';

let upstream: FakeUpstream;
let browser: Browser;

beforeAll(async () => {
  // The example imports `umbeacon/node` and `umbeacon/next`, which resolve to this package's dist/.
  buildIfStale(['dist/cli.js', 'dist/node.js', 'dist/app/next.js', 'dist/app/next-server.js']);
  upstream = await startFakeUpstream();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await upstream?.close();
});

interface App {
  url: string;
  stop(): Promise<void>;
}

/**
 * `next build` with this SDK (into the one `.next`: the runs take turns), then `next start` with
 * a DATA_DIR of its own. The app's key is the workspace's: the relay takes the official SDK's
 * events only with the API key it forwards with.
 */
async function serve(sdk: Sdk): Promise<App> {
  const env = { NEXT_TELEMETRY_DISABLED: '1', USERMAVEN_SDK: sdk, NEXT_PUBLIC_USERMAVEN_KEY: upstream.apiKey };
  const build = spawnSync(process.execPath, [NEXT, 'build'], { cwd: APP, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`next build (${sdk}) failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-next-'));
  const app = await startChild(process.execPath, [NEXT, 'start', '-p', '0', '-H', '127.0.0.1'], {
    cwd: APP,
    env: { ...env, DATA_DIR: dataDir, USERMAVEN_API_KEY: upstream.apiKey, USERMAVEN_SERVER_TOKEN: upstream.serverToken, USERMAVEN_URL: upstream.url },
    urlPattern: /(http:\/\/127\.0\.0\.1:\d+)/,
  });
  return {
    url: app.url,
    async stop() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Visit {
  /** The run's events up to its closing `done`, in arrival order. */
  events: UpstreamEvent[];
  /** The id the proxy's `middlewareEnv` gave the new visitor (its `x-visitor-id` header), and its `Set-Cookie`. */
  visitor: string;
  setCookie: string;
  /** The visitor cookies left in the browser. */
  cookies: Cookie[];
}

const PAGES = { '/': 'Next.js + umbeacon', '/about': 'About', '/legacy': 'Pages Router', '/legacy-two': 'Pages Router, second page' };
const path = (e: UpstreamEvent) => new URL(String(e['url'])).pathname;
const isPageview = (e: UpstreamEvent) => e['event_type'] === 'pageview';
const pageviews = (events: UpstreamEvent[]) => events.filter(isPageview);
const call = (page: Page, method: string, ...args: unknown[]) =>
  page.evaluate(([m, a]) => (window as unknown as { um: Record<string, (...x: unknown[]) => unknown> }).um[m as string]!(...(a as unknown[])), [method, args] as const);

/**
 * What a visitor does, the same with either SDK: each page's HTML from the server; then in
 * Chromium the home page (App Router), a client-side link to /about and one back, a full load
 * into the Pages Router (/legacy), a client-side link to /legacy-two and back; then identify,
 * set, track, unset, track through `useUsermaven()`, and `done`.
 */
async function visit(app: App): Promise<Visit> {
  for (const [route, heading] of Object.entries(PAGES)) {
    const res = await fetch(app.url + route);
    expect(res.status, route).toBe(200);
    expect(await res.text(), route).toContain(`<h1>${heading}</h1>`);
  }
  const run = createExpectUpstream(upstream, (e) => String(e['url'] ?? '').startsWith(`${app.url}/`));
  const page = await visitorPage(browser);
  const hydrated = () => page.waitForFunction(() => typeof (window as { um?: { track?: unknown } }).um?.track === 'function', null, { timeout: 20_000 });
  /** Does `act`, then waits for the page's heading and for one pageview of it more than before (the official may send two). */
  const step = async <T>(act: () => Promise<T>, to: keyof typeof PAGES): Promise<T> => {
    const before = pageviews(run.events()).filter((e) => path(e) === to).length;
    const result = await act();
    await page.waitForFunction((h) => document.querySelector('h1')?.textContent === h, PAGES[to], { timeout: 20_000 });
    await run((e) => isPageview(e) && path(e) === to, { count: before + 1, timeoutMs: 30_000 });
    return result;
  };

  const first = await step(() => page.goto(`${app.url}/`), '/');
  await hydrated();
  await step(() => page.click('#to-about'), '/about');
  await step(() => page.click('#to-home'), '/');
  await step(() => page.click('#to-legacy'), '/legacy');
  await hydrated();
  await step(() => page.click('#to-legacy-two'), '/legacy-two');
  await step(() => page.goBack(), '/legacy');
  await call(page, 'id', { id: 'u-7', email: 'ada@example.com' });
  await call(page, 'set', { plan: 'pro' });
  await call(page, 'track', 'next_clicked', { button: 'buy' });
  await call(page, 'unset', 'plan');
  await call(page, 'track', 'after_unset');
  await call(page, 'track', 'done');
  await run((e) => e['event_type'] === 'done', { timeoutMs: 30_000 });

  const all = run.events();
  const seen = {
    events: all.slice(0, all.findIndex((e) => e['event_type'] === 'done')),
    visitor: (await first?.headerValue('x-visitor-id')) ?? '',
    setCookie: (await first?.headerValue('set-cookie')) ?? '',
    cookies: (await page.context().cookies()).filter((c) => c.name.startsWith('__eventn_id')),
  };
  await page.close();
  return seen;
}

/** identify, set, track, unset did what they say, with either SDK. */
function expectCalls(events: UpstreamEvent[]) {
  const of = (type: string) => events.filter((e) => e['event_type'] === type);
  expect(of('user_identify')).toHaveLength(1);
  expect(of('next_clicked')[0]).toMatchObject({ plan: 'pro', event_attributes: { button: 'buy' }, user: { id: 'u-7', email: 'ada@example.com' } });
  expect(of('after_unset')[0]).not.toHaveProperty('plan');
}

const visits: Partial<Record<Sdk, Visit>> = {};

describe('Next.js example with the official @usermaven/nextjs in the browser (the oracle)', () => {
  let app: App | undefined;
  beforeAll(async () => {
    app = await serve('official');
  });
  afterAll(() => app?.stop());

  it('sends every route and every call through the relay', async () => {
    const seen = await visit(app!);
    expectCalls(seen.events);
    // Its history tracking and its usePageView() both count a route change (docs/frameworks.md).
    console.log(`@usermaven/nextjs: ${pageviews(seen.events).length} pageviews for 6 routes`);
    visits.official = seen;
  });
});

describe('Next.js example (next build, next start) with umbeacon/next', () => {
  let app: App | undefined;
  beforeAll(async () => {
    app = await serve('umbeacon');
  });
  afterAll(() => app?.stop());

  it('one pageview per route with its own title, App Router and Pages Router, and the calls of useUsermaven(), reach Usermaven through the relay in the Next.js server', async () => {
    const seen = await visit(app!);
    visits.umbeacon = seen;
    const views = pageviews(seen.events);
    expect(views.map(path)).toEqual(['/', '/about', '/', '/legacy', '/legacy-two', '/legacy']);
    // The Pages Router's client-side pages too: their pageview waits until next/head has set the title (src/next/pages-router.ts).
    expect(views.map((e) => e['page_title'])).toEqual(['Home', 'About', 'Home', 'Legacy', 'Legacy two', 'Legacy']);
    expect(views[0]).toMatchObject({ api_key: upstream.apiKey, url: `${app!.url}/`, source_ip: '127.0.0.1' });
    expectCalls(seen.events);
    // One visitor: the id the proxy set is the one every event carries, in one cookie.
    expect(seen.visitor).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.setCookie).toContain(`__eventn_id=${seen.visitor}`);
    expect([...new Set(seen.events.map((e) => (e['user'] as { anonymous_id: string }).anonymous_id))]).toEqual([seen.visitor]);
    expect(seen.cookies.map((c) => [c.name, c.value])).toEqual([['__eventn_id', seen.visitor]]);
  });

  it('sends a Pages Router pageview still waiting for its title when the tab closes', async () => {
    const page = await visitorPage(browser);
    await page.goto(`${app!.url}/legacy`);
    // This visitor's events: the proxy gave it its id with the page.
    const visitor = (await page.context().cookies()).find((c) => c.name === '__eventn_id')?.value;
    expect(visitor).toMatch(/^[0-9a-f-]{36}$/);
    const run = createExpectUpstream(upstream, (e) => (e['user'] as { anonymous_id?: string } | undefined)?.anonymous_id === visitor);
    await page.waitForFunction(() => typeof (window as { um?: { track?: unknown } }).um?.track === 'function', null, { timeout: 20_000 });
    await run((e) => isPageview(e) && path(e) === '/legacy', { timeoutMs: 30_000 });
    // next/head sets document.title; made to set nothing, no title change ends the wait, which
    // then lasts 500 ms after routeChangeComplete: the tab closes within it.
    await page.evaluate(() => {
      const title = Object.getOwnPropertyDescriptor(Document.prototype, 'title')!;
      Object.defineProperty(document, 'title', { get: () => title.get!.call(document), set: () => {} });
    });
    await page.click('#to-legacy-two');
    await page.waitForURL(/\/legacy-two$/);
    await page.close({ runBeforeUnload: true });
    const [view] = await run((e) => isPageview(e) && path(e) === '/legacy-two', { timeoutMs: 30_000 });
    expect(view).toMatchObject({ page_title: 'Legacy' });
  });

  it('sends the event types of @usermaven/nextjs, with its keys', () => {
    const { official, umbeacon } = visits;
    if (!official || !umbeacon) throw new Error('a run above failed; nothing to compare');
    const dump = () => Object.entries(visits).map(([sdk, v]) => `${sdk}:\n${v.events.map((e) => '  ' + JSON.stringify(e)).join('\n')}`).join('\n');
    const distinct = (events: UpstreamEvent[]) => [...new Set(types(events))];
    expect(distinct(umbeacon.events), dump()).toEqual(distinct(official.events));
    // umbeacon's pageview has the shape of one the official sends on a route change (its history
    // tracking's; its hook's carry more: `path`, `title`, …); every other event has the official's.
    const shapes = (events: UpstreamEvent[]) => [...new Set(events.map((e) => JSON.stringify(shape(e))))].sort();
    expect(shapes(pageviews(official.events)), dump()).toEqual(expect.arrayContaining(shapes(pageviews(umbeacon.events))));
    const others = (events: UpstreamEvent[]) => events.filter((e) => !isPageview(e));
    expect(shapes(others(umbeacon.events)), dump()).toEqual(shapes(others(official.events)));
  });
});
