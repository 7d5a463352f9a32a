// Pieces every relay benchmark needs: child servers (spawned by test/support/cli-process.mjs, as
// in the tests), a counting fake upstream, /proc readings, tracker-like bodies, autocannon runs.
// Benchmarks print figures; nothing here asserts.
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { FREE_PORT, startCli, startNode } from '../../test/support/cli-process.mjs';

/** A bare node:http server answering 204 after reading the body: the baseline. */
export const bareSource = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); });
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: 'http://127.0.0.1:' + s.address().port })));
`;

/** How long a child may take to log "listening" on a busy machine. */
const START_MS = 60_000;

/**
 * Spawn `node ...args` (cwd and relative paths: this process's); resolves with `{ child, url, ... }`
 * once it logs a JSON line with msg "listening" and a url. Its stderr goes to ours.
 */
export function startChild(args, env = {}) {
  return startNode({ args, env, cwd: process.cwd(), inheritStderr: true, label: 'child', timeoutMs: START_MS });
}

/** Node flags for the relay child: `RELAY_NODE_ARGS` (e.g. `--cpu-prof`). */
const relayNodeArgs = () => (process.env.RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The relay CLI: `RELAY_CLI` or bin/umbeacon.js, relative to this process's cwd. */
const relayBin = () => process.env.RELAY_CLI ?? 'bin/umbeacon.js';

/**
 * The CLI the benchmarks start: `bin/umbeacon.js` (dist/), or `RELAY_CLI=path/to/cli.js` to
 * compare two builds without a rebuild of dist/ by someone else changing what is measured.
 * `RELAY_NODE_ARGS` adds node flags to the relay child (e.g. `--cpu-prof`).
 */
export function relayArgs() {
  return [...relayNodeArgs(), relayBin(), 'serve'];
}

/**
 * `umbeacon serve` (built CLI, see `relayArgs`) forwarding to `upstreamUrl`, durable spool under
 * `dataDir`; `nodeArgs` come after `RELAY_NODE_ARGS`.
 */
export function startRelay({ upstreamUrl, dataDir, env = {}, nodeArgs = [] }) {
  return startCli({
    bin: relayBin(),
    nodeArgs: [...relayNodeArgs(), ...nodeArgs],
    cwd: process.cwd(),
    inheritStderr: true,
    label: 'relay',
    timeoutMs: START_MS,
    env: {
      ...FREE_PORT, DATA_DIR: dataDir, RATE_LIMIT: '0',
      USERMAVEN_API_KEY: 'bench-key', USERMAVEN_SERVER_TOKEN: 'bench-token', USERMAVEN_URL: upstreamUrl,
      ...env,
    },
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Peak and current RSS of a process in MB, from /proc (Linux); null elsewhere. */
export function rss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

/** Sample a process's RSS every `everyMs`; `stop()` returns the samples (MB). */
export function sampleRss(pid, everyMs = 1000) {
  const samples = [];
  const take = () => {
    const r = rss(pid);
    if (r) samples.push(r.nowMb);
  };
  take();
  const timer = setInterval(take, everyMs);
  return { samples, stop: () => (clearInterval(timer), take(), samples) };
}

/** One tracker-like event (unique event_id, so de-duplication never skips a write). */
export function trackerEvent() {
  return {
    event_type: 'pageview', event_id: randomUUID(), _timestamp: Date.now(), sent_at: Date.now(),
    user: { anonymous_id: randomUUID() }, url: 'https://shop.example/pricing?plan=pro', doc_path: '/pricing',
    doc_host: 'shop.example', page_title: 'Pricing', referer: 'https://www.google.com/', vp_size: '1280x720',
    screen_resolution: '1920x1080', user_language: 'en-US', doc_encoding: 'UTF-8',
    event_attributes: { plan: 'pro' },
  };
}

export const batchBody = (n = 1) => JSON.stringify(Array.from({ length: n }, trackerEvent));

/** autocannon POSTing fresh tracker bodies of `events` events; `rate` = overall req/s (fixed-rate run). */
export function load(url, { connections = 50, duration = 8, events = 1, rate, amount } = {}) {
  return autocannon({
    url,
    connections,
    ...(amount ? { amount } : { duration }),
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'bench' }, setupRequest: (req) => ({ ...req, body: batchBody(events) }) }],
  });
}

/** A fake Usermaven upstream counting requests and events; `stats.failing` makes it answer 503. */
export function fakeUpstream() {
  const stats = { requests: 0, events: 0, failing: false, firstOkAt: 0, lastOkAt: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      if (stats.failing) {
        res.writeHead(503);
        return res.end('{"status":"error"}');
      }
      stats.events += JSON.parse(Buffer.concat(chunks).toString('utf8')).length;
      const t = performance.now();
      stats.firstOkAt ||= t;
      stats.lastOkAt = t;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, stats, url: `http://127.0.0.1:${server.address().port}` })));
}

/** The relay's /healthz. */
export async function health(relayUrl) {
  return (await fetch(relayUrl + '/healthz')).json();
}

/** Poll /healthz until the spool is empty or `timeoutMs` passes; returns ms taken (or NaN). */
export async function waitEmpty(relayUrl, timeoutMs = 120_000, everyMs = 50) {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if ((await health(relayUrl)).spool.depth === 0) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return NaN;
}

export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
