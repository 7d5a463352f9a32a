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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { bareSource, cpuMs, fakeUpstream, fmt, load as loadWith, rss, startChild, startRelay } from './support/harness.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const load = (url, path, duration = seconds) => loadWith(url + path, { connections, duration });

// 1 + 2. bare and relay, both running; loaded in turn, alternating for `rounds` rounds so that
// noise from other work on the machine falls on both sides alike.
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const loadBefore = loadavg()[0];
const bare = await startChild(['-e', bareSource]);
const upstream = await fakeUpstream();
const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-bench-'));
const relay = await startRelay({ upstreamUrl: upstream.url, dataDir });
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
