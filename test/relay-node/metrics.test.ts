/**
 * Prometheus metrics (METRICS_PORT): scraped over HTTP from the relay's own `/metrics`
 * listener while the fake upstream fails, hangs and refuses, and after it heals.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay-node/config.ts';
import { FAMILIES } from '../../src/relay-node/metrics.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { cliEnv, startCli, startTestRelay, tempDir, type CliRelay, type InProcessRelay } from '../support/fault-relay.ts';
import { scrape, type Scrape } from '../support/scrape.ts';

let up: FakeUpstream;
let relay: InProcessRelay | undefined;
let data: ReturnType<typeof tempDir>;
let cli: CliRelay | undefined;

beforeEach(async () => {
  up = await startFakeUpstream();
  data = tempDir('metrics');
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  relay = undefined;
  if (cli) {
    cli.child.kill('SIGKILL');
    await cli.exited;
    cli = undefined;
  }
  await up.close();
  data.remove();
});

const event = (type = 'pageview') => ({ event_type: type, event_id: crypto.randomUUID(), user: { anonymous_id: crypto.randomUUID() } });
const post = (path: string, body: unknown) => fetch(relay!.url + path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const metricsUrl = () => relay!.metricsListener!.url;

/** Scrape until `ready` holds (the forwarder works in the background). */
async function scrapeUntil(ready: (s: Scrape) => boolean, what: string, timeoutMs = 10_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape(metricsUrl());
    if (ready(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms\n${s.text.split('\n').filter((l) => l.startsWith('umbeacon_')).join('\n')}\n${up.describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const received = (s: Scrape) => s.value('umbeacon_events_received_total');
const settled = (s: Scrape) => s.value('umbeacon_events_forwarded_total') + s.value('umbeacon_events_dead_lettered_total') + s.value('umbeacon_spool_events');

describe('GET /metrics on METRICS_PORT', () => {
  it('follows an upstream outage and its end, and received = forwarded + dead-lettered + spooled throughout', async () => {
    relay = await startTestRelay(up, data.dir, { metricsPort: 0 });
    expect(relay.metricsListener!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(JSON.parse(relay.lines[0]!)).toMatchObject({ msg: 'listening', metrics: relay.metricsListener!.url });

    // Healthy: every route counts under its own label.
    expect((await post('/u/e', [event(), event(), event()])).status).toBe(200);
    expect((await post(`/api/v1/event?token=${up.apiKey}`, [event(), event()])).status).toBe(200);
    expect((await fetch(`${relay.url}/u/p.gif?url=https%3A%2F%2Fsite.test%2F`)).status).toBe(200);
    let s = await scrapeUntil((x) => x.value('umbeacon_events_forwarded_total') === 6, 'six forwarded');
    expect(s.value('umbeacon_events_received_total', { route: 'tracker' })).toBe(3);
    expect(s.value('umbeacon_events_received_total', { route: 'official' })).toBe(2);
    expect(s.value('umbeacon_events_received_total', { route: 'pixel' })).toBe(1);
    expect(s.value('umbeacon_upstream_requests_total', { status: '200' })).toBeGreaterThanOrEqual(1);
    expect(s.value('umbeacon_spool_oldest_age_seconds')).toBe(0);

    // Outage: the backlog grows and ages, 503s are counted, nothing is forwarded.
    up.fail(503);
    expect((await post('/u/e', [event(), event(), event(), event()])).status).toBe(200);
    s = await scrapeUntil((x) => x.value('umbeacon_upstream_requests_total', { status: '503' }) >= 2 && x.value('umbeacon_spool_oldest_age_seconds') > 0, 'a backlog during a 503 outage');
    expect(s.value('umbeacon_spool_events')).toBe(4);
    expect(s.value('umbeacon_spool_bytes')).toBeGreaterThan(0);
    expect(s.value('umbeacon_events_forwarded_total')).toBe(6);
    expect(received(s)).toBe(settled(s));

    // An upstream that never answers: timeouts (UPSTREAM_TIMEOUT_MS 300 in this relay).
    up.heal();
    up.hang();
    s = await scrapeUntil((x) => x.value('umbeacon_upstream_requests_total', { status: 'timeout' }) >= 1, 'a timeout');
    expect(received(s)).toBe(settled(s));

    // The end of the outage, with one event the upstream refuses for good.
    up.heal();
    up.reject((e) => e['event_type'] === 'poison', 400);
    expect((await post('/u/e', [event(), event('poison')])).status).toBe(200);
    s = await scrapeUntil((x) => x.value('umbeacon_spool_events') === 0 && x.value('umbeacon_events_dead_lettered_total') === 1, 'the backlog drained');
    expect(received(s)).toBe(12);
    expect(s.value('umbeacon_events_forwarded_total')).toBe(11);
    expect(up.eventIds().size).toBe(11);
    expect(received(s)).toBe(settled(s));
    expect(s.value('umbeacon_spool_oldest_age_seconds')).toBe(0);
    expect(s.value('umbeacon_upstream_requests_total', { status: '400' })).toBeGreaterThanOrEqual(1);
    // Every request is timed: the histogram counts as many as the counter.
    expect(s.value('umbeacon_upstream_request_duration_seconds_count')).toBe(s.value('umbeacon_upstream_requests_total'));
    expect(s.value('umbeacon_spool_max_bytes')).toBe(1024 ** 3);
  });

  it('counts refused events one per event, under the code the answer names', async () => {
    relay = await startTestRelay(up, data.dir, { metricsPort: 0 });
    // Two bad events in a batch whose third is stored: the answer names each.
    const partial = await post('/u/e', [event(), { event_id: 'no-type' }, { event_type: 7 }]);
    expect(((await partial.json()) as { refused: { error: string }[] }).refused.map((r) => r.error)).toEqual(['event_type', 'event_type']);
    // A batch of three bad events is refused whole: three events, the one code the answer names.
    const whole = await post('/u/e', [{}, {}, {}]);
    expect(whole.status).toBe(400);
    expect(((await whole.json()) as { error: string }).error).toBe('event_type');
    expect((await post('/u/e', '{broken')).status).toBe(400);
    expect((await post('/api/v1/event?token=wrong', [event()])).status).toBe(403);
    const s = await scrape(metricsUrl());
    expect(s.value('umbeacon_events_rejected_total', { reason: 'event_type' })).toBe(5);
    expect(s.value('umbeacon_events_rejected_total', { reason: 'bad_json' })).toBe(1);
    expect(s.value('umbeacon_events_rejected_total', { reason: 'wrong_key' })).toBe(1);
    expect(s.value('umbeacon_events_received_total', { route: 'tracker' })).toBe(1);
    expect(s.value('umbeacon_rate_limited_total')).toBe(0);
  });

  it('counts requests the rate limit refused, and their events as rejected', async () => {
    // RATE_LIMIT 1: a burst of 500 events (one full request), then 1 per second.
    relay = await startTestRelay(up, data.dir, { metricsPort: 0, rateLimit: 1 });
    const batch = () => Array.from({ length: 500 }, () => ({ event_type: 'a' }));
    expect((await post('/u/e', batch())).status).toBe(200);
    expect((await post('/u/e', batch())).status).toBe(429);
    const s = await scrape(metricsUrl());
    expect(s.value('umbeacon_rate_limited_total')).toBe(1);
    expect(s.value('umbeacon_events_rejected_total', { reason: 'rate_limited' })).toBe(500);
    expect(s.value('umbeacon_events_received_total', { route: 'tracker' })).toBe(500);
  });

  it('counts connections the per-IP cap closed', async () => {
    relay = await startTestRelay(up, data.dir, { metricsPort: 0, maxConnectionsPerIp: 1 });
    const { port } = new URL(relay.url);
    const open = (): Promise<Socket> => new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
      socket.on('error', () => {});
    });
    const first = await open();
    const second = await open();
    const s = await scrapeUntil((x) => x.value('umbeacon_connections_refused_total') === 1, 'one connection refused');
    expect(s.value('umbeacon_connections_refused_total')).toBe(1);
    first.destroy();
    second.destroy();
  });

  it('exports every documented family, and the process metrics of prom-client', async () => {
    relay = await startTestRelay(up, data.dir, { metricsPort: 0 });
    const s = await scrape(metricsUrl());
    for (const name of Object.keys(FAMILIES)) expect(s.families, name).toContain(name);
    expect(s.families).toContain('process_cpu_seconds_total');
    expect(s.families).toContain('nodejs_eventloop_lag_seconds');
  });

  it('serves /metrics on its own port only, never on the site port', async () => {
    relay = await startTestRelay(up, data.dir, { metricsPort: 0 });
    const onSite = await fetch(`${relay.url}/metrics`);
    expect(onSite.status).toBe(404);
    expect(await onSite.text()).not.toContain('umbeacon_');
    expect((await fetch(metricsUrl().replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(metricsUrl(), { method: 'POST' })).status).toBe(405);
    const res = await fetch(metricsUrl());
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('has no registry and no listener when METRICS_PORT is unset', async () => {
    relay = await startTestRelay(up, data.dir);
    expect(relay.metrics).toBeUndefined();
    expect(relay.metricsListener).toBeUndefined();
    expect(JSON.parse(relay.lines[0]!)).not.toHaveProperty('metrics');
  });
});

/** TCP ports a process listens on, from its socket descriptors and /proc/net/tcp{,6} (Linux). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // st 0A = LISTEN; field 9 is the socket's inode.
      if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

describe.runIf(process.platform === 'linux')('umbeacon serve', () => {
  it('listens on the site port only when METRICS_PORT is unset, and on both when it is set', async () => {
    cli = await startCli(cliEnv(up, data.dir));
    expect(listeningPorts(cli.child.pid!)).toEqual([Number(new URL(cli.url).port)]);
    cli.child.kill('SIGKILL');
    await cli.exited;

    cli = await startCli(cliEnv(up, data.dir, { METRICS_PORT: '0' }));
    const line = cli.output().split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } }).find((l) => l['msg'] === 'listening')!;
    const metrics = new URL(String(line['metrics']));
    expect(listeningPorts(cli.child.pid!).sort()).toEqual([Number(new URL(cli.url).port), Number(metrics.port)].sort());
    expect((await scrape(metrics.href)).families).toContain('umbeacon_events_received_total');
  });
});

describe('METRICS_PORT and METRICS_HOST settings', () => {
  const base = { DATA_DIR: '/tmp/umbeacon-metrics-config', SITE_DIR: '' };
  it('is off by default, on 127.0.0.1 when set', () => {
    expect(loadConfig(base).metricsPort).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_PORT: '9464' })).toMatchObject({ metricsPort: 9464, metricsHost: '127.0.0.1' });
    expect(loadConfig({ ...base, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metricsHost).toBe('0.0.0.0');
  });
  it.each([
    [{ METRICS_PORT: 'abc' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '8080', PORT: '8080' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '9464', METRICS_HOST: 'a b' }, 'METRICS_HOST'],
  ])('refuses %j naming %s', (env, name) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(name);
  });
});
