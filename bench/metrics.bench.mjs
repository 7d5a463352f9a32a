#!/usr/bin/env node
// What Prometheus metrics cost: the relay with and without METRICS_PORT, side by side in one
// run (a benchmark: it prints figures and never fails on them).
//
//   off   `umbeacon serve` as shipped: no registry, no listener
//   on    the same with METRICS_PORT=0, scraped once a second (a short scrape interval, so the
//         scrapes' own cost is in the figure too)
//
// Both relays run at once, forward to one local fake upstream, and are loaded in turn by
// autocannon from here, alternating for BENCH_ROUNDS rounds so that noise from other work on
// the machine falls on both alike. The figure is CPU per request (user + system of the relay
// process, forwarding included), the one least disturbed by a busy machine. Goal: within noise.
//
//   BENCH_SECONDS=8 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50 npm run bench -- metrics
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, fakeUpstream, fmt, load, startRelay, waitEmpty } from './support/harness.mjs';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const loadBefore = loadavg()[0];

const upstream = await fakeUpstream();
const dirs = [mkdtempSync(join(tmpdir(), 'umbeacon-bench-off-')), mkdtempSync(join(tmpdir(), 'umbeacon-bench-on-'))];
const off = await startRelay({ upstreamUrl: upstream.url, dataDir: dirs[0] });
const on = await startRelay({ upstreamUrl: upstream.url, dataDir: dirs[1], env: { METRICS_PORT: '0' } });
const metricsUrl = /"metrics":"([^"]+)"/.exec(on.output())?.[1];
if (!metricsUrl) throw new Error(`the relay with METRICS_PORT logged no metrics URL:\n${on.output()}`);

let scrapes = 0;
let scrapeBytes = 0;
const scraper = setInterval(async () => {
  try {
    const text = await (await fetch(metricsUrl)).text();
    scrapes++;
    scrapeBytes = text.length;
  } catch {
    // the relay is stopping
  }
}, 1000);

const sides = { off: { relay: off, cpu: 0, requests: 0, rps: [] }, on: { relay: on, cpu: 0, requests: 0, rps: [] } };
for (const side of Object.values(sides)) await load(side.relay.url + '/u/e', { connections, duration: 1 }); // warm-up
for (let round = 0; round < rounds; round++) {
  // Alternate which side goes first, so a trend in the machine's load does not favour one.
  const order = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
  for (const name of order) {
    const side = sides[name];
    const pid = side.relay.child.pid;
    const c0 = cpuMs(pid);
    const r = await load(side.relay.url + '/u/e', { connections, duration: seconds });
    await waitEmpty(side.relay.url); // forwarding these events is part of their cost
    side.cpu += cpuMs(pid) - c0;
    side.requests += r.requests.total;
    side.rps.push(r.requests.average);
  }
}
clearInterval(scraper);
const finalScrape = await (await fetch(metricsUrl)).text();
off.child.kill('SIGKILL');
on.child.kill('SIGKILL');
upstream.server.close();
for (const dir of dirs) rmSync(dir, { recursive: true, force: true });

const us = (side) => (side.cpu * 1000) / Math.max(side.requests, 1);
const received = Number(/^umbeacon_events_received_total\{route="tracker"\} (\d+)/m.exec(finalScrape)?.[1] ?? NaN);
console.log(`load average (1 min): ${fmt(loadBefore, 1)} before, ${fmt(loadavg()[0], 1)} after`);
console.log(`connections ${connections}, ${rounds} alternating rounds of ${seconds} s per side, one-event bodies, durable writes, forwarding included`);
console.log(`${'relay'.padEnd(34)}${'req/s (per round)'.padStart(26)}${'CPU µs/req'.padStart(12)}`);
for (const [name, side] of [['METRICS_PORT unset', sides.off], ['METRICS_PORT set, scraped every 1 s', sides.on]]) {
  console.log(`${name.padEnd(34)}${side.rps.map((r) => fmt(r)).join(', ').padStart(26)}${fmt(us(side), 1).padStart(12)}`);
}
console.log(`CPU per request with metrics / without: ${fmt(us(sides.on) / us(sides.off), 3)} (goal: within noise)`);
console.log(`${scrapes} scrapes of ${fmt(scrapeBytes / 1024, 1)} KB; the scraped relay counted ${received} tracker events received (autocannon sent ${sides.on.requests + 0} timed requests after warm-up)`);
