import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay-node/config.ts';
import { startRelayServer, type RelayServer, type StartOptions } from '../../src/relay-node/server.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const TOKEN = 'srv-token-7Qk2Zx9Lp4';
const KEY = 'key-node';
let dataDir: string;
let siteDir: string;
let logs: string[];
let up: FakeUpstream;
let relay: RelayServer | undefined;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-node-'));
  siteDir = mkdtempSync(join(tmpdir(), 'umbeacon-site-'));
  writeFileSync(join(siteDir, 'index.html'), '<h1>home</h1>');
  mkdirSync(join(siteDir, 'docs'));
  writeFileSync(join(siteDir, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(siteDir, '.env'), 'SECRET=1');
  writeFileSync(join(dataDir, 'outside.txt'), 'outside');
  writeFileSync(join(siteDir, 'u.js'), 'var x="/u/e";');
  logs = [];
  up = await startFakeUpstream({ apiKey: KEY, serverToken: TOKEN });
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  relay = undefined;
  await up.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(siteDir, { recursive: true, force: true });
});

async function start(options: StartOptions = {}) {
  relay = await startRelayServer({
    port: 0,
    apiKey: KEY,
    serverToken: TOKEN,
    upstreamUrl: up.url,
    dataDir,
    siteDir,
    rateLimit: 0,
    scriptFile: join(siteDir, 'u.js'),
    log: (line) => logs.push(line),
    forwarder: { lingerMs: 10, retryDelay: () => 20 },
    ...options,
  });
  return relay;
}

const ids = (n: number, prefix = 'e') => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${crypto.randomUUID()}`);
const post = (r: RelayServer, eventIds: string[], path = '/u/e') =>
  fetch(r.url + path, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(eventIds.map((event_id) => ({ event_type: 'pageview', event_id, user: { anonymous_id: crypto.randomUUID() } }))),
  });

/** Raw GET with the path exactly as written (fetch would normalize `..`). */
const rawGet = (url: string, path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(url + path, { method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('startRelayServer', () => {
  it('listens on a free port and logs one listening line with its url', async () => {
    const r = await start();
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const line = JSON.parse(logs[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'listening', url: r.url, mode: 'upstream' });
  });

  it('says the full upstream endpoint in the listening line, never the token', async () => {
    await start();
    const line = JSON.parse(logs[0]!) as Record<string, unknown>;
    expect(line['upstream']).toBe(`${up.url}/api/v1/s2s/event`);
    expect(logs[0]).not.toContain(TOKEN);
  });

  it('posts under the path of a USERMAVEN_URL that has one (an egress proxy), and says so', async () => {
    const proxy = await startFakeUpstream({ apiKey: KEY, serverToken: TOKEN, prefix: '/usermaven' });
    try {
      const r = await start({ upstreamUrl: loadConfig({ SITE_DIR: siteDir, USERMAVEN_URL: `${proxy.url}/` }).upstreamUrl });
      expect((JSON.parse(logs[0]!) as Record<string, unknown>)['upstream']).toBe(`${proxy.url}/api/v1/s2s/event`);
      const sent = ids(3);
      expect((await post(r, sent)).status).toBe(200);
      await proxy.waitFor((u) => sent.every((id) => u.eventIds().has(id)));
      expect(proxy.accepted().map((q) => q.path)).toEqual(['/usermaven/api/v1/s2s/event']);
    } finally {
      await relay?.close({ drainMs: 0 });
      relay = undefined;
      await proxy.close();
    }
  });

  it('lets go of DATA_DIR when it cannot listen, so the next try can have it', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(start({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
    expect((await start()).url).toMatch(/^http:/);
  });

  it('forwards accepted events upstream in bulk with key.token', async () => {
    const r = await start();
    const sent = ids(120);
    const answers = await Promise.all([post(r, sent.slice(0, 60)), post(r, sent.slice(60))]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await up.waitFor((u) => sent.every((id) => u.eventIds().has(id)));
    expect(up.accepted().every((q) => q.token === `${KEY}.${TOKEN}`)).toBe(true);
    expect(up.accepted().length).toBeLessThanOrEqual(2);
    expect(up.events[0]).toMatchObject({ api_key: KEY, source_ip: '127.0.0.1' });
  });

  it('keeps events through an upstream outage and delivers them once it is back', async () => {
    up.fail(503);
    const r = await start();
    const sent = ids(30);
    expect((await post(r, sent)).status).toBe(200);
    await up.waitFor((u) => u.requests.length >= 3);
    const health = (await (await fetch(r.url + '/healthz')).json()) as { status: string; spool: { depth: number }; upstream: { lastStatus: number; consecutiveFailures: number } };
    expect(health).toMatchObject({ status: 'degraded', spool: { depth: 30 }, upstream: { lastStatus: 503 } });
    expect(health.upstream.consecutiveFailures).toBeGreaterThanOrEqual(3);
    up.heal();
    await up.waitFor((u) => sent.every((id) => u.eventIds().has(id)));
    await expect.poll(() => r.spool.stats().depth).toBe(0);
    const statusLines = logs.map((l) => JSON.parse(l) as { msg: string }).map((l) => l.msg);
    expect(statusLines).toContain('upstream failing');
    expect(statusLines).toContain('upstream recovered');
  });

  it('dead-letters what the upstream refuses, with the reason, and delivers the rest', async () => {
    const sent = ids(10);
    up.reject((e) => e['event_id'] === sent[4]);
    const r = await start();
    await post(r, sent);
    await up.waitFor((u) => u.eventIds().size === 9);
    await expect.poll(() => existsSync(r.spool.deadLetterPath)).toBe(true);
    const dead = readFileSync(r.spool.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; event: { event_id: string } });
    expect(dead.map((d) => d.event.event_id)).toEqual([sent[4]]);
    expect(dead[0]?.reason).toMatch(/400/);
  });

  it('answers 503 with a reason when DATA_MAX_MB is reached, never dropping silently', async () => {
    up.fail(503);
    const r = await start({ dataMaxMb: 1 });
    let full: Response | undefined;
    let accepted = 0;
    for (let i = 0; i < 100 && !full; i++) {
      const res = await post(r, ids(200, `cap${i}`));
      if (res.status === 503) full = res;
      else {
        expect(res.status).toBe(200);
        accepted += 200;
      }
    }
    expect(full?.status).toBe(503);
    expect(((await full!.json()) as { message: string }).message).toMatch(/spool is full/);
    expect(r.spool.stats().depth).toBe(accepted);
  });

  it('drains on close and keeps what it could not send for the next start', async () => {
    up.hang();
    let r = await start({ upstreamTimeoutMs: 200 });
    const sent = ids(20);
    await post(r, sent);
    await r.close({ drainMs: 300 });
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'stopped')).toMatchObject({ drained: false, keptForNextStart: 20 });
    up.heal();
    r = await start();
    await up.waitFor((u) => sent.every((id) => u.eventIds().has(id)));
  });

  it('answers a request in flight when closing, and takes no new ones', async () => {
    const r = await start();
    const body = JSON.stringify([{ event_type: 'late', event_id: 'in-flight-1' }]);
    const arrived = new Promise((resolve) => r.server.once('request', resolve));
    let finish = () => {};
    const answer = new Promise<number>((resolve, reject) => {
      const req = httpRequest(r.url + '/u/e', { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': String(body.length) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      finish = () => req.end(body.slice(10));
    });
    await arrived;
    const closing = r.close({ drainMs: 2000 });
    await expect(fetch(r.url + '/healthz')).rejects.toThrow();
    // The rest of the body arrives after shutdown began.
    finish();
    expect(await answer).toBe(200);
    await closing;
    relay = undefined;
    expect(up.eventIds().has('in-flight-1')).toBe(true);
  });

  it('never writes the token or the upstream URL to logs, even when the upstream echoes them', async () => {
    // An upstream that answers 500 with the request URL in the body (token included).
    const echo = createServer((req, res) => {
      res.writeHead(500);
      res.end(`failed for ${req.url} at ${req.headers.host}`);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const r = await start({ upstreamUrl: echoUrl });
    await post(r, ids(3));
    await expect.poll(() => r.forwarder.status().consecutiveFailures).toBeGreaterThanOrEqual(2);
    const bodies = await Promise.all(['/healthz', '/u.js', '/u/e', '/nope', '/api/v1/event?token=x'].map(async (p) => {
      const res = await fetch(r.url + p);
      return [...res.headers].join('\n') + (await res.text());
    }));
    await r.close({ drainMs: 0 });
    relay = undefined;
    echo.close();
    const everything = logs.join('') + bodies.join('');
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('/api/v1/s2s/event?token');
  });

  it('runs the embedded default without credentials: local store and a live page', async () => {
    const r = await start({ apiKey: undefined, serverToken: undefined });
    expect(r.mode).toBe('embedded');
    const sent = ids(5);
    await post(r, sent);
    await expect.poll(() => (existsSync(join(dataDir, 'events.ndjson')) ? readFileSync(join(dataDir, 'events.ndjson'), 'utf8') : '')).toContain(sent[4]);
    const data = (await (await fetch(r.url + '/_events/data')).json()) as { total: number; counts: Record<string, number> };
    expect(data).toMatchObject({ total: 5, counts: { pageview: 5 } });
    expect(up.requests).toHaveLength(0);
    await r.close({ drainMs: 1000 });
    // The page survives a restart with what the local store holds.
    const again = await start({ apiKey: undefined, serverToken: undefined });
    expect(((await (await fetch(again.url + '/_events/data')).json()) as { total: number }).total).toBe(5);
  });

  it('keeps the events page off with credentials unless asked for', async () => {
    const r = await start();
    expect((await fetch(r.url + '/_events')).status).toBe(404);
    await r.close({ drainMs: 0 });
    const on = await start({ eventsPage: true });
    expect((await fetch(on.url + '/_events')).status).toBe(200);
  });

  describe('static files', () => {
    it.each([
      ['/', 200, 'home'],
      ['/index.html', 200, 'home'],
      ['/docs/', 200, 'docs'],
      ['/missing.html', 404, ''],
      ['/.env', 404, ''],
      ['/../outside.txt', 404, ''],
      ['/%2e%2e/outside.txt', 404, ''],
      ['/docs/..%2f..%2foutside.txt', 404, ''],
      ['/..%5coutside.txt', 404, ''],
      ['/%00index.html', 404, ''],
      ['/%E0%A4%A', 404, ''],
    ])('GET %s → %i', async (path, status, text) => {
      const r = await start();
      const res = await rawGet(r.url, path);
      expect(res.status).toBe(status);
      if (text) expect(res.body).toContain(text);
      expect(res.body).not.toContain('outside');
      expect(res.body).not.toContain('SECRET');
    });

    it('does not follow a symlink out of the site', async () => {
      symlinkSync(join(dataDir, 'outside.txt'), join(siteDir, 'link.txt'));
      const r = await start();
      expect((await rawGet(r.url, '/link.txt')).status).toBe(404);
    });

    it('serves the tracker at /u.js rather than the file of the site', async () => {
      const r = await start({ paths: { collect: '/in' } });
      expect(await (await fetch(r.url + '/u.js')).text()).toBe('var x="/in";');
    });
  });
});

describe('loadConfig', () => {
  const site = process.cwd() + '/public';
  it('reads defaults', () => {
    const c = loadConfig({ SITE_DIR: site });
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', upstreamUrl: 'https://events.usermaven.com', rateLimit: 100, eventsPage: true, allowedOrigins: [] });
    expect(c.apiKey).toBeUndefined();
  });

  it('defaults DATA_DIR to ./data and SITE_DIR to ./public of the working directory', () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe(join(process.cwd(), 'data'));
    expect(c.siteDir).toBe(site);
  });

  describe('refuses a DATA_DIR that overlaps SITE_DIR, with one line saying why', () => {
    let root: string;
    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'umbeacon-overlap-'));
      mkdirSync(join(root, 'site/data'), { recursive: true });
      mkdirSync(join(root, 'data/site'), { recursive: true });
      mkdirSync(join(root, 'other'));
      symlinkSync(join(root, 'site'), join(root, 'link-to-site'));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it.each([
      ['inside it', 'site/data', 'site'],
      ['inside it, not yet made', 'site/new/spool', 'site'],
      ['the same directory', 'site', 'site'],
      ['around it', 'data', 'data/site'],
      ['inside it through a symlink', 'link-to-site/spool', 'site'],
      ['inside it, written with ..', 'other/../site/x', 'site'],
    ])('%s', (_, data, siteSub) => {
      let error: unknown;
      try {
        loadConfig({ DATA_DIR: join(root, data), SITE_DIR: join(root, siteSub) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^DATA_DIR: .* overlaps SITE_DIR .*: the spool would be published as static files/);
      expect((error as Error).message).not.toContain('\n');
    });

    it('on a programmatic start too, before the spool makes the directory', async () => {
      const dataDir = join(root, 'site', 'programmatic');
      await expect(startRelayServer({ port: 0, dataDir, siteDir: join(root, 'site'), log: () => {} })).rejects.toThrow(/^DATA_DIR: .* overlaps SITE_DIR .*: the spool would be published as static files/);
      expect(existsSync(dataDir)).toBe(false);
    });

    it('takes neighbours that only share a prefix', () => {
      mkdirSync(join(root, 'site-data'), { recursive: true });
      expect(loadConfig({ DATA_DIR: join(root, 'site-data'), SITE_DIR: join(root, 'site') }).dataDir).toBe(join(root, 'site-data'));
    });
  });

  it('runs without static files when SITE_DIR is unset and ./public is missing', () => {
    const cwd = process.cwd();
    const empty = mkdtempSync(join(tmpdir(), 'umbeacon-nosite-'));
    try {
      process.chdir(empty);
      expect(loadConfig({}).siteDir).toBeNull();
    } finally {
      process.chdir(cwd);
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.each([
    [{}, undefined],
    [{ COOKIE_DOMAIN: 'shop.example' }, 'shop.example'],
    [{ COOKIE_DOMAIN: '.Shop.Example' }, 'shop.example'],
  ])('reads COOKIE_DOMAIN %j as %j', (env, domain) => {
    expect(loadConfig({ SITE_DIR: site, ...env }).cookieDomain).toBe(domain);
  });

  it('lets flags win over the environment', () => {
    expect(loadConfig({ SITE_DIR: site, PORT: '9000' }, { PORT: '0' }).port).toBe(0);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT: "eighty" is not a whole number/],
    [{ PORT: '70000' }, /^PORT:/],
    [{ USERMAVEN_API_KEY: 'k' }, /^USERMAVEN_SERVER_TOKEN: is missing/],
    [{ USERMAVEN_SERVER_TOKEN: 't' }, /^USERMAVEN_API_KEY: is missing/],
    [{ USERMAVEN_URL: 'events.usermaven.com' }, /^USERMAVEN_URL: "events.usermaven.com" is not a URL/],
    [{ USERMAVEN_URL: 'ftp://x.example' }, /^USERMAVEN_URL: must be an http/],
    [{ USERMAVEN_URL: 'https://x.example/?token=a' }, /^USERMAVEN_URL: must be a plain base URL/],
    [{ USERMAVEN_URL: 'https://x.example/#a' }, /^USERMAVEN_URL: must be a plain base URL/],
    [{ USERMAVEN_URL: 'https://events.usermaven.com/api/v1/s2s/event' }, /^USERMAVEN_URL: names the endpoint itself; give its base \(without \/api\/v1\/s2s\/event\)/],
    [{ SITE_DIR: '/nonexistent/site' }, /^SITE_DIR: \/nonexistent\/site is not a directory/],
    [{ TRUST_PROXY: 'true' }, /^TRUST_PROXY: TRUST_PROXY=true would believe any forged/],
    [{ TRUST_PROXY: 'banana' }, /^TRUST_PROXY: "banana\/32" is not/],
    [{ ALLOWED_ORIGINS: 'shop.example' }, /^ALLOWED_ORIGINS: "shop.example" is not an origin/],
    [{ ALLOWED_ORIGINS: 'https://shop.example/path' }, /^ALLOWED_ORIGINS:/],
    [{ COOKIE_DOMAIN: 'https://shop.example' }, /^COOKIE_DOMAIN: "https:\/\/shop.example" is not a domain name/],
    [{ COOKIE_DOMAIN: 'localhost' }, /^COOKIE_DOMAIN: "localhost" is not a domain name/],
    [{ RATE_LIMIT: '-1' }, /^RATE_LIMIT:/],
    [{ DATA_MAX_MB: '0' }, /^DATA_MAX_MB:/],
    [{ COLLECT_PATH: 'u/e' }, /^COLLECT_PATH: "u\/e" is not an absolute URL path/],
    [{ COLLECT_PATH: '/u.js' }, /^COLLECT_PATH: "\/u.js" is also used by SCRIPT_PATH/],
    [{ EVENTS_PAGE: 'maybe' }, /^EVENTS_PAGE:/],
  ])('stops on %j with one line saying which and why', (env, message) => {
    let error: unknown;
    try {
      loadConfig({ SITE_DIR: site, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('never echoes the server token in an error', () => {
    expect(() => loadConfig({ SITE_DIR: site, USERMAVEN_API_KEY: 'k', USERMAVEN_SERVER_TOKEN: 'has space secret' })).toThrow(/^USERMAVEN_SERVER_TOKEN: holds whitespace/);
    try {
      loadConfig({ SITE_DIR: site, USERMAVEN_API_KEY: 'k', USERMAVEN_SERVER_TOKEN: 'has space secret' });
    } catch (e) {
      expect((e as Error).message).not.toContain('secret');
    }
  });
});
