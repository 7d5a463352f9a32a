/**
 * examples/express.mjs run for real: the example file itself, with the real `express`, started
 * as a process on a socket. A Chromium loads its page; the tracker's pageview and a custom
 * event go through the relay mounted in Express to the fake upstream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, visitorPage } from '../support/chromium.ts';
import { startChild, type ChildServer } from '../support/child.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { buildOnce, ROOT } from '../support/relay-process.ts';

let upstream: FakeUpstream;
let app: ChildServer;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  buildOnce();
  upstream = await startFakeUpstream();
  dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-express-'));
  app = await startChild(process.execPath, ['examples/express.mjs'], {
    cwd: ROOT,
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, USERMAVEN_API_KEY: upstream.apiKey, USERMAVEN_SERVER_TOKEN: upstream.serverToken, USERMAVEN_URL: upstream.url },
    urlPattern: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  const code = await app?.stop();
  expect(code).toBe(0);
  await upstream?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Express example', () => {
  it("serves the app's page, and the tracker's events reach Usermaven through the relay", async () => {
    const page = await visitorPage(browser);
    await page.goto(`${app.url}/`);
    expect(await page.locator('h1').textContent()).toBe('Express + umbeacon');
    await page.waitForFunction(() => typeof (window as { usermaven?: { track?: unknown } }).usermaven?.track === 'function');
    await page.evaluate(() => (window as unknown as { usermaven: { track(t: string, a: object): void } }).usermaven.track('express_clicked', { button: 'buy' }));
    await upstream.waitFor((u) => u.events.some((e) => e['event_type'] === 'pageview') && u.events.some((e) => e['event_type'] === 'express_clicked'));
    const pageview = upstream.events.find((e) => e['event_type'] === 'pageview')!;
    expect(pageview).toMatchObject({ api_key: upstream.apiKey, url: `${app.url}/`, source_ip: '127.0.0.1' });
    const cookie = (await page.context().cookies()).find((c) => c.name === '__eventn_id');
    expect((pageview['user'] as { anonymous_id: string }).anonymous_id).toBe(cookie?.value);
    await page.close();
  });

  it('leaves paths that are not the relay to Express', async () => {
    const res = await fetch(`${app.url}/not-a-relay-route`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-powered-by')).toBe('Express');
    const health = await fetch(`${app.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'upstream' });
  });
});
