/**
 * umbeacon/react in a real app: the React app of e2e/packages/app/, bundled with esbuild as an
 * app ships it, in Chromium, through the real relay, beside the same app with the official
 * @usermaven/react (the oracle, pointed at the relay with trackingHost as a site going
 * first-party does). Each run has a context of its own whose user agent ends in
 * `<test tag>/<sdk>`, so its events can be told apart upstream (as e2e/parity/ does).
 */
import type { BrowserContext, Page } from '@playwright/test';
import { join } from 'node:path';
import { buildIfStale } from '../../test/support/cli-process.mjs';
import { runEvents } from '../parity/parity.ts';
import { shape, types } from '../parity/shape.ts';
import { SITE_DIR } from '../support/stack.ts';
import { expect, test, type UpstreamEvent } from '../support/test.ts';
import { bundleApp } from './bundle.ts';

const SDKS = ['official', 'umbeacon'] as const;
// Each test runs the app twice (the official, then umbeacon), five routes each on a busy machine.
test.describe.configure({ timeout: 90_000 });
type Sdk = (typeof SDKS)[number];

test.beforeAll(async () => {
  buildIfStale(['dist/app/browser.js', 'dist/app/react.js', 'dist/app/next.js']);
  for (const sdk of SDKS) await bundleApp(sdk, join(SITE_DIR, 'apps', sdk), true);
});

interface Run {
  page: Page;
  context: BrowserContext;
  events(): UpstreamEvent[];
  waitFor(match: (e: UpstreamEvent) => boolean, count?: number): Promise<UpstreamEvent[]>;
  /** A method of the client `useUsermaven()` returned, called as the app calls it. */
  call(method: string, ...args: unknown[]): Promise<void>;
  /** Waits for everything sent so far: a `done` event, sent after it, arrived. */
  settle(): Promise<UpstreamEvent[]>;
}

type Fixtures = Pick<Parameters<Parameters<typeof test>[2]>[0], 'browser' | 'stack' | 'tag' | 'baseUserAgent'>;

async function open({ browser, stack, tag, baseUserAgent }: Fixtures, sdk: Sdk, context?: BrowserContext, query = ''): Promise<Run> {
  context ??= await browser.newContext({ userAgent: `${baseUserAgent} ${tag}/${sdk}` });
  const page = await context.newPage();
  const { events, waitFor } = runEvents(stack, tag, sdk);
  const run: Run = {
    page,
    context,
    events,
    waitFor,
    async call(method, ...args) {
      await page.evaluate(([m, a]) => (window as any).um[m as string](...(a as unknown[])), [method, args] as const);
    },
    async settle() {
      await run.call('track', 'done');
      await waitFor((e) => e['event_type'] == 'done');
      const all = events();
      return all.slice(0, all.findIndex((e) => e['event_type'] == 'done'));
    },
  };
  await page.goto(new URL(`/apps/index.html?sdk=${sdk}${query}`, stack.relay.url).href);
  await page.waitForFunction(() => typeof (window as any).um?.track == 'function');
  return run;
}

const pageviews = (events: UpstreamEvent[]) => events.filter((e) => e['event_type'] == 'pageview');
const path = (e: UpstreamEvent) => new URL(String(e['url'])).pathname;

/** Load, three links, back: five routes. Returns each run's events. */
async function visitRoutes(fixtures: Fixtures, query = '') {
  const result = {} as Record<Sdk, UpstreamEvent[]>;
  for (const sdk of SDKS) {
    const run = await open(fixtures, sdk, undefined, query);
    await run.waitFor((e) => e['event_type'] == 'pageview');
    for (const to of ['pricing', 'docs', 'account']) {
      await run.page.click(`#to-${to}`);
      await expect(run.page.locator('h1')).toHaveText(to[0]!.toUpperCase() + to.slice(1));
      // a route is counted a task after the URL changes; the next click waits for it
      await run.waitFor((e) => e['event_type'] == 'pageview' && path(e) == `/apps/${to}`);
    }
    await run.page.goBack();
    await expect(run.page.locator('h1')).toHaveText('Docs');
    await run.waitFor((e) => e['event_type'] == 'pageview' && path(e) == '/apps/docs', 2);
    result[sdk] = await run.settle();
    await run.context.close();
  }
  const counts = Object.fromEntries(SDKS.map((sdk) => [sdk, pageviews(result[sdk]).length]));
  test.info().annotations.push({ type: 'pageviews for 5 routes', description: JSON.stringify(counts) });
  console.log(`pageviews for 5 routes${query}: ${JSON.stringify(counts)}`);
  return result;
}

const ROUTES = ['/apps/index.html', '/apps/pricing', '/apps/docs', '/apps/account', '/apps/docs'];

test('one pageview per route change with the defaults: load, three links, back (the official counts some twice)', async ({ browser, stack, tag, baseUserAgent }) => {
  const result = await visitRoutes({ browser, stack, tag, baseUserAgent });
  expect(pageviews(result.umbeacon).map(path)).toEqual(ROUTES);
  expect(pageviews(result.umbeacon).map((e) => e['page_title'])).toEqual(['Home', 'Pricing', 'Docs', 'Account', 'Docs']);
  // umbeacon's pageview has the shape of one the official sends on a route change: its history
  // tracking's (its hook's own carry one attribute more, `path`).
  const shapes = (sdk: Sdk) => [...new Set(pageviews(result[sdk]).map((e) => JSON.stringify(shape(e))))];
  expect(shapes('official'), JSON.stringify({ official: shapes('official'), umbeacon: shapes('umbeacon') })).toEqual(expect.arrayContaining(shapes('umbeacon')));
});

test('with autoPageview: false, usePageView alone counts each route once', async ({ browser, stack, tag, baseUserAgent }) => {
  const result = await visitRoutes({ browser, stack, tag, baseUserAgent }, '&auto=false');
  for (const sdk of SDKS) expect(pageviews(result[sdk]).map(path), sdk).toEqual(ROUTES);
});

test('identify, track, set, unset, lead, rawTrack through useUsermaven(): the same event types and keys as the official', async ({ browser, stack, tag, baseUserAgent }) => {
  const fixtures = { browser, stack, tag, baseUserAgent };
  const result = {} as Record<Sdk, UpstreamEvent[]>;
  for (const sdk of SDKS) {
    const run = await open(fixtures, sdk);
    await run.waitFor((e) => e['event_type'] == 'pageview');
    await run.call('id', { id: 'u-1', email: 'ada@example.com', first_name: 'Ada', company: { id: 'c-1', name: 'Acme', created_at: '2023-01-01' } });
    await run.call('track', 'signup', { plan: 'pro' });
    await run.call('set', { tier: 'gold' });
    await run.call('track', 'after_set');
    await run.call('unset', 'tier');
    await run.call('track', 'after_unset');
    await run.call('lead', { email: 'lead@example.com', source: 'webinar' });
    await run.call('rawTrack', { raw_field: 1 });
    result[sdk] = await run.settle();
    await run.context.close();
  }
  const describe = () => SDKS.map((sdk) => `${sdk}:\n${result[sdk].map((e) => '  ' + JSON.stringify(e)).join('\n')}`).join('\n');
  const distinct = (events: UpstreamEvent[]) => [...new Set(types(events))];
  expect(distinct(result.umbeacon), describe()).toEqual(distinct(result.official));
  // Every event but the pageview has the official's shape (the pageview's is compared across
  // route changes, in the test above).
  const shapes = (sdk: Sdk) => [...new Set(result[sdk].filter((e) => e['event_type'] != 'pageview').map((e) => JSON.stringify(shape(e))))].sort();
  expect(shapes('umbeacon'), describe()).toEqual(shapes('official'));
  for (const sdk of SDKS) {
    const [afterSet] = result[sdk].filter((e) => e['event_type'] == 'after_set');
    const [afterUnset] = result[sdk].filter((e) => e['event_type'] == 'after_unset');
    expect(afterSet, sdk).toMatchObject({ tier: 'gold', user: { id: 'u-1', email: 'ada@example.com' } });
    expect(afterUnset, sdk).not.toHaveProperty('tier');
    expect(result[sdk].filter((e) => e['event_type'] == 'user_identify'), sdk).toHaveLength(1);
  }
});

test('one anonymous id across the script tag and the package on one site', async ({ browser, stack, tag, baseUserAgent }) => {
  const fixtures = { browser, stack, tag, baseUserAgent };
  const context = await browser.newContext({ userAgent: `${baseUserAgent} ${tag}/umbeacon` });
  const tagPage = await context.newPage();
  await tagPage.goto(new URL('/parity.html?sdk=umbeacon', stack.relay.url).href);
  const run = await open(fixtures, 'umbeacon', context);
  const events = await run.settle();
  const [fromTag, fromApp] = [events.find((e) => path(e) == '/parity.html'), events.find((e) => path(e) == '/apps/index.html')];
  const ids = [fromTag, fromApp].map((e) => (e?.['user'] as { anonymous_id?: string } | undefined)?.anonymous_id);
  expect(ids[0]).toBeTruthy();
  expect(ids[1]).toBe(ids[0]);
  const cookies = (await context.cookies()).filter((c) => c.name.startsWith('__eventn_id'));
  expect(cookies.map((c) => [c.name, c.value])).toEqual([['__eventn_id', ids[0]]]);
  await context.close();
});

test('autocapture, loaded on demand from its own chunk: the official\'s $autocapture event and keys', async ({ browser, stack, tag, baseUserAgent }) => {
  const fixtures = { browser, stack, tag, baseUserAgent };
  const result = {} as Record<Sdk, UpstreamEvent[]>;
  for (const sdk of SDKS) {
    const run = await open(fixtures, sdk, undefined, '&autocapture');
    await run.waitFor((e) => e['event_type'] == 'pageview');
    // the lazy chunk has loaded once a click is captured
    await expect(async () => {
      await run.page.click('#buy');
      await run.waitFor((e) => e['event_type'] == '$autocapture');
    }).toPass({ timeout: 20_000 });
    result[sdk] = (await run.settle()).filter((e) => e['event_type'] == '$autocapture');
    await run.context.close();
  }
  const shapes = (sdk: Sdk) => [...new Set(result[sdk].map((e) => JSON.stringify(shape(e))))].sort();
  expect(shapes('umbeacon'), JSON.stringify(result)).toEqual(shapes('official'));
  expect(result.umbeacon[0]).toMatchObject({ autocapture_attributes: { tag_name: 'button', el_text: 'Buy now' } });
});
