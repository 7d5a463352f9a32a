/**
 * The relay as users run it: `node bin/umbeacon.js serve`, killed with SIGKILL and restarted,
 * stopped with SIGTERM, started with wrong settings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { buildOnce, ROOT, spawnRelay, type RelayProcess } from '../support/relay-process.ts';

const KEY = 'cli-key';
const TOKEN = 'cli-srv-token-Hq8Vd3';
let dataDir: string;
let up: FakeUpstream;
const children: RelayProcess[] = [];

beforeAll(() => buildOnce());
beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-cli-'));
  up = await startFakeUpstream({ apiKey: KEY, serverToken: TOKEN });
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await c.exited;
  }
  await up.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const env = () => ({ USERMAVEN_API_KEY: KEY, USERMAVEN_SERVER_TOKEN: TOKEN, USERMAVEN_URL: up.url, DATA_DIR: dataDir, RATE_LIMIT: '0', UPSTREAM_TIMEOUT_MS: '500' });
async function relay(extra: Record<string, string> = {}) {
  const r = await spawnRelay({ ...env(), ...extra });
  children.push(r);
  return r;
}
const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ event_type: 'pageview', event_id: `${prefix}-${i}`, user: { anonymous_id: crypto.randomUUID() } }));
const post = (url: string, events: unknown[]) => fetch(`${url}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(events) });

describe('umbeacon serve', () => {
  it('loses nothing acknowledged when killed with SIGKILL and restarted', async () => {
    // A slow upstream keeps a backlog in the spool at the moment of the kill.
    up.slow(100);
    const first = await relay();
    const acknowledged = new Set<string>();
    let stop = false;
    let n = 0;
    const poster = async () => {
      while (!stop) {
        const events = batch(`k${n++}`, 20);
        try {
          const res = await post(first.url, events);
          if (res.status === 200) for (const e of events) acknowledged.add(e.event_id);
        } catch {
          // the kill cut this request: not acknowledged, nothing owed
        }
      }
    };
    const posters = Array.from({ length: 4 }, poster);
    await expect.poll(() => acknowledged.size, { timeout: 15_000 }).toBeGreaterThanOrEqual(400);
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    stop = true;
    await Promise.all(posters);
    expect(exit.signal).toBe('SIGKILL');
    const delivered = up.eventIds().size;
    up.heal();

    const second = await relay();
    await up.waitFor((u) => [...acknowledged].every((id) => u.eventIds().has(id)), 20_000);
    const missing = [...acknowledged].filter((id) => !up.eventIds().has(id));
    expect(missing).toEqual([]);
    // The kill happened with a backlog, so the restart really had work to resume.
    expect(delivered).toBeLessThan(acknowledged.size);
    expect(second.lines().find((l) => l['msg'] === 'listening')?.['spoolDepth']).toBeGreaterThan(0);
  });

  it('on SIGTERM answers, sends what it can within DRAIN_MS, exits 0, and keeps the rest', async () => {
    up.hang();
    const r = await relay({ DRAIN_MS: '300' });
    expect((await post(r.url, batch('t', 10))).status).toBe(200);
    r.child.kill('SIGTERM');
    const exit = await r.exited;
    expect(exit.code).toBe(0);
    expect(r.lines().find((l) => l['msg'] === 'stopped')).toMatchObject({ drained: false, keptForNextStart: 10 });
    up.heal();
    await relay();
    await up.waitFor((u) => u.eventIds().size === 10);
  });

  it('on SIGTERM with a healthy upstream delivers everything before exiting', async () => {
    const r = await relay({ DRAIN_MS: '5000' });
    up.slow(50);
    for (let i = 0; i < 5; i++) expect((await post(r.url, batch(`d${i}`, 50))).status).toBe(200);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(up.eventIds().size).toBe(250);
    expect(r.lines().find((l) => l['msg'] === 'stopped')).toMatchObject({ drained: true, keptForNextStart: 0 });
  });

  it('never prints the token, and never serves it', async () => {
    up.fail(401);
    const r = await relay({ DRAIN_MS: '100' });
    await post(r.url, batch('s', 3));
    await up.waitFor((u) => u.requests.length >= 2);
    const served = await Promise.all(['/u.js', '/healthz', '/', '/u/p.gif'].map(async (p) => {
      const res = await fetch(r.url + p);
      return [...res.headers].join('\n') + Buffer.from(await res.arrayBuffer()).toString('latin1');
    }));
    r.child.kill('SIGTERM');
    await r.exited;
    const all = r.output() + served.join('');
    expect(all).toContain('upstream failing');
    expect(all).not.toContain(TOKEN);
  });

  it.each([
    [{ PORT: 'abc' }, /^umbeacon serve: PORT: "abc" is not a whole number from 0 to 65535\n$/],
    [{ USERMAVEN_API_KEY: 'k' }, /^umbeacon serve: USERMAVEN_SERVER_TOKEN: is missing/],
    [{ TRUST_PROXY: 'nonsense!' }, /^umbeacon serve: TRUST_PROXY: /],
  ])('stops on a wrong setting %j with one line', (bad, message) => {
    const run = spawnSync(process.execPath, ['bin/umbeacon.js', 'serve'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', DATA_DIR: dataDir, ...bad }, encoding: 'utf8', timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('lets flags override the environment', async () => {
    const r = await spawnRelay({ ...env(), RATE_LIMIT: 'not-a-number' }, ['--rate-limit', '0', '--collect-path', '/in']);
    children.push(r);
    expect((await post(r.url.replace(/\/$/, ''), [])).status).toBe(404);
    const res = await fetch(`${r.url}/in`, { method: 'POST', body: JSON.stringify(batch('f', 1)) });
    expect(res.status).toBe(200);
  });

  it('explains every setting in --help', () => {
    const run = spawnSync(process.execPath, ['bin/umbeacon.js', 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const name of ['PORT', 'HOST', 'USERMAVEN_API_KEY', 'USERMAVEN_SERVER_TOKEN', 'USERMAVEN_URL', 'DATA_DIR', 'SITE_DIR', 'TRUST_PROXY', 'ALLOWED_ORIGINS', 'RATE_LIMIT', 'DATA_MAX_MB', 'METRICS_PORT', 'METRICS_HOST']) {
      expect(run.stdout).toContain(name);
    }
    expect(run.stdout).toContain('--trust-proxy');
  });
});
