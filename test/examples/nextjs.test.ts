/**
 * examples/nextjs run for real: `next build` of the example as it is, then `next start` on a
 * socket, and a Chromium on its page. The tracker (served by the example's catch-all route at
 * /u/s.js) sends its pageview to /u/e, the relay inside the Next.js server stores it and
 * forwards it to the fake upstream; SIGTERM stops the server.
 *
 * Its own suite (vitest.next.config.ts, `npm run test:next`): the build takes a minute.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, visitorPage } from '../support/chromium.ts';
import { startChild, type ChildServer } from '../support/child.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { buildOnce, ROOT } from '../support/relay-process.ts';

const APP = join(ROOT, 'examples/nextjs');
const NEXT = join(ROOT, 'node_modules/next/dist/bin/next');

let upstream: FakeUpstream;
let app: ChildServer;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  // The example imports `umbeacon/node`, which resolves to this package's dist/.
  buildOnce();
  const build = spawnSync(process.execPath, [NEXT, 'build'], { cwd: APP, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`next build failed (${build.status}):\n${build.stdout}\n${build.stderr}`);
  upstream = await startFakeUpstream();
  dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-next-'));
  app = await startChild(process.execPath, [NEXT, 'start', '-p', '0', '-H', '127.0.0.1'], {
    cwd: APP,
    env: {
      NEXT_TELEMETRY_DISABLED: '1',
      DATA_DIR: dataDir,
      USERMAVEN_API_KEY: upstream.apiKey,
      USERMAVEN_SERVER_TOKEN: upstream.serverToken,
      USERMAVEN_URL: upstream.url,
    },
    urlPattern: /(http:\/\/127\.0\.0\.1:\d+)/,
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await upstream?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('Next.js example (next build, next start)', () => {
  it("renders the page, and the tracker's events reach Usermaven through the relay in the Next.js server", async () => {
    const page = await visitorPage(browser);
    await page.goto(`${app.url}/`);
    expect(await page.locator('h1').textContent()).toBe('Next.js + umbeacon');
    await page.waitForFunction(() => typeof (window as { usermaven?: { track?: unknown } }).usermaven?.track === 'function', null, { timeout: 20_000 });
    await page.evaluate(() => (window as unknown as { usermaven: { track(t: string, a: object): void } }).usermaven.track('next_clicked', { button: 'buy' }));
    await upstream.waitFor((u) => u.events.some((e) => e['event_type'] === 'pageview') && u.events.some((e) => e['event_type'] === 'next_clicked'), 30_000);
    const pageview = upstream.events.find((e) => e['event_type'] === 'pageview')!;
    expect(pageview).toMatchObject({ api_key: upstream.apiKey, url: `${app.url}/`, source_ip: '127.0.0.1' });
    const cookie = (await page.context().cookies()).find((c) => c.name === '__eventn_id');
    expect((pageview['user'] as { anonymous_id: string }).anonymous_id).toBe(cookie?.value);
    await page.close();
  });

  it('serves the official SDK route', async () => {
    const res = await fetch(`${app.url}/api/v1/event?token=${upstream.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ event_type: 'sdk_event', event_id: 'next-sdk-1' }]),
    });
    expect(res.status).toBe(200);
    await upstream.waitFor((u) => u.eventIds().has('next-sdk-1'), 30_000);
  });
});
