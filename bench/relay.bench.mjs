#!/usr/bin/env node
// Relay throughput against a bare node:http server, side by side in one run (a benchmark:
// it prints figures and never fails on them).
//
//   1. bare     a child process answering 204 to every request
//   2. relay    `umbeacon serve` (the built CLI) with durable writes, forwarding to a local
//               fake upstream that counts requests and events
//   3. outage   the same relay while the upstream answers 503: RSS should stay flat, since the
//               backlog is on disk
//
// Both servers run as child processes of this one, loaded by autocannon from here, with the
// same connection count and a one-event tracker body (unique event_id per request, so the
// relay's de-duplication never skips a write). Goals: ratio ≥ 0.5, ≤ 10 upstream requests per
// 1,000 events, RSS flat during the outage.
//
//   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50 npm run bench -- relay
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { relayArgs } from './support/harness.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const KEY = 'bench-key';
const TOKEN = 'bench-token';

const bareSource = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); });
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', url: 'http://127.0.0.1:' + s.address().port })));
`;

function startChild(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      for (const line of out.split('\n')) {
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === 'listening') return resolve({ child, url: parsed.url });
        } catch {}
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code} before listening:\n${out}`)));
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return NaN;
  }
}

/** Peak and current RSS of a process, from /proc (Linux); null elsewhere. */
function rss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

function body() {
  return JSON.stringify([{
    event_type: 'pageview', event_id: randomUUID(), _timestamp: Date.now(), sent_at: Date.now(),
    user: { anonymous_id: randomUUID() }, url: 'https://shop.example/pricing?plan=pro', doc_path: '/pricing',
    doc_host: 'shop.example', page_title: 'Pricing', referer: 'https://www.google.com/', vp_size: '1280x720',
    screen_resolution: '1920x1080', user_language: 'en-US', doc_encoding: 'UTF-8',
    event_attributes: { plan: 'pro' },
  }]);
}

async function load(url, path, duration = seconds) {
  return autocannon({
    url: url + path,
    connections,
    duration,
    requests: [{ method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'bench' }, setupRequest: (req) => ({ ...req, body: body() }) }],
  });
}

function fakeUpstream() {
  const stats = { requests: 0, events: 0, failing: false };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      stats.requests++;
      if (stats.failing) {
        res.writeHead(503);
        return res.end('{"status":"error"}');
      }
      stats.events += JSON.parse(text).length;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, stats, url: `http://127.0.0.1:${server.address().port}` })));
}

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

// 1 + 2. bare and relay, both running; loaded in turn, alternating for `rounds` rounds so that
// noise from other work on the machine falls on both sides alike.
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const loadBefore = loadavg()[0];
const bare = await startChild(['-e', bareSource]);
const upstream = await fakeUpstream();
const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-bench-'));
const relay = await startChild(relayArgs(), {
  PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RATE_LIMIT: '0',
  USERMAVEN_API_KEY: KEY, USERMAVEN_SERVER_TOKEN: TOKEN, USERMAVEN_URL: upstream.url,
});
await load(bare.url, '/', 1); // warm-up
await load(relay.url, '/u/e', 1);
const bareRuns = [];
const relayRuns = [];
let events = 0;
let upstreamRequests = 0;
// CPU per request is the figure least disturbed by other work on a shared machine.
const cpu = { bare: 0, bareReqs: 0, relay: 0, relayReqs: 0 };
for (let round = 0; round < rounds; round++) {
  let c0 = cpuMs(bare.child.pid);
  const b = await load(bare.url, '/');
  cpu.bare += cpuMs(bare.child.pid) - c0;
  cpu.bareReqs += b.requests.total;
  bareRuns.push(b);
  const eventsBefore = upstream.stats.events;
  const requestsBefore = upstream.stats.requests;
  c0 = cpuMs(relay.child.pid);
  const r = await load(relay.url, '/u/e');
  relayRuns.push(r);
  // Let the forwarder finish, then count upstream requests for the events of this run.
  for (let i = 0; i < 200; i++) {
    const h = await (await fetch(relay.url + '/healthz')).json();
    if (h.spool.depth === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  cpu.relay += cpuMs(relay.child.pid) - c0; // includes forwarding these events upstream
  cpu.relayReqs += r.requests.total;
  events += upstream.stats.events - eventsBefore;
  upstreamRequests += upstream.stats.requests - requestsBefore;
}
bare.child.kill();
const rssAfterLoad = rss(relay.child.pid);
const mean = (runs, f) => runs.reduce((n, r) => n + f(r), 0) / runs.length;
const summary = (runs) => ({
  requests: { average: mean(runs, (r) => r.requests.average) },
  latency: { p50: mean(runs, (r) => r.latency.p50), p99: mean(runs, (r) => r.latency.p99) },
  non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
});
const bareResult = summary(bareRuns);
const relayResult = summary(relayRuns);

// 3. outage: upstream down, load continues; sample RSS
upstream.stats.failing = true;
const samples = [];
const sampler = setInterval(() => {
  const r = rss(relay.child.pid);
  if (r) samples.push(r.nowMb);
}, 500);
const outageResult = await load(relay.url, '/u/e', Math.max(3, Math.round(seconds / 2)));
clearInterval(sampler);
const health = await (await fetch(relay.url + '/healthz')).json();
const peak = rss(relay.child.pid);
relay.child.kill('SIGKILL');
upstream.server.close();
rmSync(dataDir, { recursive: true, force: true });

const ratio = relayResult.requests.average / bareResult.requests.average;
console.log(`load average (1 min): ${fmt(loadBefore, 1)} before, ${fmt(loadavg()[0], 1)} after (on a busy machine compare the two sides of one run, and CPU per request)`);
console.log(`per-round ratio relay/bare: ${relayRuns.map((r, i) => fmt(r.requests.average / bareRuns[i].requests.average, 2)).join(', ')}`);
console.log(`connections ${connections}, ${rounds} alternating rounds of ${seconds} s (means shown), one-event bodies, durable writes (synced: O_DSYNC or fdatasync; group commit)`);
console.log(`${'run'.padEnd(22)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'non-2xx'.padStart(9)}`);
for (const [name, r] of [['bare node:http 204', bareResult], ['relay', relayResult], ['relay, upstream down', outageResult]]) {
  console.log(`${name.padEnd(22)}${fmt(r.requests.average).padStart(10)}${fmt(r.latency.p50, 1).padStart(9)}${fmt(r.latency.p99, 1).padStart(9)}${String(r.non2xx).padStart(9)}`);
}
console.log(`ratio relay/bare req/s: ${fmt(ratio, 2)} (goal ≥ 0.5)`);
const usPerReq = (ms, n) => fmt((ms * 1000) / Math.max(n, 1), 0);
console.log(`CPU per request: bare ${usPerReq(cpu.bare, cpu.bareReqs)} µs, relay ${usPerReq(cpu.relay, cpu.relayReqs)} µs (store + forward; less disturbed by other load than req/s)`);
console.log(`upstream requests per 1,000 events: ${fmt((upstreamRequests / Math.max(events, 1)) * 1000, 1)} (${upstreamRequests} requests for ${events} events; goal ≤ 10)`);
console.log(`relay RSS: after load ${fmt(rssAfterLoad?.nowMb, 1)} MB; during outage min ${fmt(Math.min(...samples), 1)} / max ${fmt(Math.max(...samples), 1)} MB; peak (VmHWM) ${fmt(peak?.peakMb, 1)} MB; spool depth at end ${health.spool.depth}`);
