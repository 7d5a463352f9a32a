#!/usr/bin/env node
// The relay under sustained load, next to a bare node:http baseline, then through an upstream
// outage and a 100,000-event backlog. A benchmark: it prints figures and never fails on them.
// (bench/relay.bench.mjs is the short side-by-side req/s + CPU figure; this one is the long run.)
//
//   1. sustained   bare and relay (built CLI, durable writes) loaded in turn for LOAD_SECONDS:
//                  req/s ratio, p50/p99, relay RSS over time, upstream requests per 1,000 events
//   2. fixed rate  the bare server at rising fixed rates; at the rate where its p99 is ~5 ms,
//                  the relay's p99 (goal < 25 ms)
//   3. outage      upstream answers 503 for LOAD_OUTAGE_SECONDS under a steady load (the issue
//                  asks 30 s; default 10 s), then comes back: RSS while the backlog grows on
//                  disk, time until the backlog is gone
//   4. backlog     LOAD_BACKLOG events (default 100,000) stored while the upstream is down, then
//                  the upstream comes back: time until drained (goal < 30 s)
//
//   LOAD_SECONDS=15 LOAD_OUTAGE_SECONDS=30 LOAD_BACKLOG=100000 LOAD_CONNECTIONS=50 npm run bench -- load
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareSource, cpuMs, fakeUpstream, fmt, health, load, rss, sampleRss, startChild, startRelay, waitEmpty } from './support/harness.mjs';

const seconds = Number(process.env.LOAD_SECONDS ?? 12);
const outageSeconds = Number(process.env.LOAD_OUTAGE_SECONDS ?? 10);
const backlog = Number(process.env.LOAD_BACKLOG ?? 100_000);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 50);
const line = (name, r) => `${name.padEnd(30)}${fmt(r.requests.average).padStart(9)}${fmt(r.latency.p50, 1).padStart(8)}${fmt(r.latency.p99, 1).padStart(8)}${String(r.non2xx + r.errors).padStart(9)}`;
const header = `${'run'.padEnd(30)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'failed'.padStart(9)}`;
const series = (xs) => xs.map((x) => fmt(x, 0)).join(' ');

const bare = await startChild(['-e', bareSource]);
const upstream = await fakeUpstream();
const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-load-'));
const relay = await startRelay({ upstreamUrl: upstream.url, dataDir });
const pid = relay.child.pid;
const relayPost = relay.url + '/u/e';

try {
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (figures from a busy machine are noise; compare sides of one run)`);
  console.log(`settings: ${connections} connections; sustained ${seconds} s; outage ${outageSeconds} s${outageSeconds === 30 ? '' : ' (the issue asks 30 s: LOAD_OUTAGE_SECONDS=30)'}; backlog ${backlog} events`);
  await load(bare.url, { connections, duration: 1 });
  await load(relayPost, { connections, duration: 1 });
  await waitEmpty(relay.url);

  // 1. sustained ----------------------------------------------------------------------------
  const bareCpu0 = cpuMs(bare.child.pid);
  const b = await load(bare.url, { connections, duration: seconds });
  const cpuBare = cpuMs(bare.child.pid) - bareCpu0;
  const before = { ...upstream.stats };
  const cpu0 = cpuMs(pid);
  const sampler = sampleRss(pid, 1000);
  const r = await load(relayPost, { connections, duration: seconds });
  const rssSeries = sampler.stop();
  const catchUp = await waitEmpty(relay.url);
  const cpuRelay = cpuMs(pid) - cpu0;
  const events = upstream.stats.events - before.events;
  const requests = upstream.stats.requests - before.requests;
  console.log('\n1. sustained load, one-event bodies, durable writes');
  console.log(header);
  console.log(line('bare node:http 204', b));
  console.log(line('relay /u/e', r));
  console.log(`ratio relay/bare req/s: ${fmt(r.requests.average / b.requests.average, 2)} (goal ≥ 0.5)`);
  console.log(`upstream requests per 1,000 events: ${fmt((requests / Math.max(events, 1)) * 1000, 1)} (${requests} requests, ${events} events; spool empty ${fmt(catchUp)} ms after the load)`);
  console.log(`CPU per request: bare ${fmt((cpuBare * 1000) / Math.max(b.requests.total, 1))} µs, relay ${fmt((cpuRelay * 1000) / Math.max(r.requests.total, 1))} µs (store + forward; ratio ${fmt(cpuBare / Math.max(b.requests.total, 1) / (cpuRelay / Math.max(r.requests.total, 1)), 2)}, the figure least disturbed by other load)`);
  console.log(`relay RSS MB, 1 s apart: ${series(rssSeries)}`);

  // 2. fixed rate ----------------------------------------------------------------------------
  const bareMax = b.requests.average;
  const steps = [0.05, 0.1, 0.2, 0.4, 0.6, 0.75, 0.9].map((f) => Math.max(10, Math.round(bareMax * f)));
  const bareAt = [];
  for (const rate of steps) bareAt.push({ rate, result: await load(bare.url, { connections, duration: 4, rate }) });
  const under = bareAt.filter((x) => x.result.latency.p99 <= 5);
  const chosen = under.length > 0 ? under[under.length - 1] : bareAt[0];
  const relayAt = await load(relayPost, { connections, duration: 6, rate: chosen.rate });
  await waitEmpty(relay.url);
  console.log('\n2. fixed rate');
  console.log(`bare p99 by rate: ${bareAt.map((x) => `${x.rate}/s → ${fmt(x.result.latency.p99, 1)} ms`).join(', ')}`);
  const why = under.length === 0 ? 'bare p99 was over 5 ms at every rate tried (busy machine), so the lowest rate' : under.length === bareAt.length ? 'bare p99 stayed ≤ 5 ms up to 90% of its max, so that rate' : 'the highest rate with bare p99 ≤ 5 ms';
  console.log(`chosen rate ${chosen.rate}/s: ${why}`);
  console.log(header);
  console.log(line(`bare at ${chosen.rate}/s`, chosen.result));
  console.log(line(`relay at ${chosen.rate}/s`, relayAt));
  console.log(`relay p99 at that rate: ${fmt(relayAt.latency.p99, 1)} ms (goal < 25 ms); achieved ${fmt(relayAt.requests.average)} req/s`);

  // 3. outage -------------------------------------------------------------------------------
  const outageRate = Math.max(10, Math.round(Math.min(chosen.rate, r.requests.average * 0.5)));
  upstream.stats.failing = true;
  const depthSeries = [];
  const bytesSeries = [];
  const outageSampler = sampleRss(pid, 1000);
  const depthTimer = setInterval(async () => {
    const h = await health(relay.url).catch(() => null);
    if (h) depthSeries.push(h.spool.depth), bytesSeries.push(h.spool.bytes / 1048576);
  }, 1000);
  const during = await load(relayPost, { connections, duration: outageSeconds, rate: outageRate });
  clearInterval(depthTimer);
  const outageRss = outageSampler.stop();
  const depthAtBack = (await health(relay.url)).spool.depth;
  upstream.stats.failing = false;
  const backAt = performance.now();
  upstream.stats.firstOkAt = 0;
  const goneMs = await waitEmpty(relay.url, 180_000);
  console.log(`\n3. upstream down for ${outageSeconds} s under ${outageRate} req/s, then back`);
  console.log(header);
  console.log(line('relay while upstream down', during));
  console.log(`spool depth, 1 s apart: ${series(depthSeries)}; MB on disk: ${bytesSeries.map((x) => fmt(x, 1)).join(' ')}`);
  console.log(`relay RSS MB, 1 s apart: ${series(outageRss)} (min ${fmt(Math.min(...outageRss), 1)}, max ${fmt(Math.max(...outageRss), 1)})`);
  console.log(`backlog at upstream return: ${depthAtBack} events; first upstream 2xx after ${fmt(upstream.stats.firstOkAt - backAt)} ms (retry back-off); backlog gone after ${fmt(goneMs)} ms`);

  // 4. backlog of N events -------------------------------------------------------------------
  upstream.stats.failing = true;
  const perRequest = 50;
  const fillSampler = sampleRss(pid, 1000);
  const t0 = performance.now();
  const fill = await load(relayPost, { connections: 20, amount: Math.ceil(backlog / perRequest), events: perRequest });
  const fillMs = performance.now() - t0;
  const fillRss = fillSampler.stop();
  const stored = (await health(relay.url)).spool;
  upstream.stats.failing = false;
  upstream.stats.firstOkAt = 0;
  const eventsBefore = upstream.stats.events;
  const back = performance.now();
  const drainMs = await waitEmpty(relay.url, 300_000, 20);
  const firstOk = upstream.stats.firstOkAt - back;
  console.log(`\n4. backlog of ${backlog} events (${perRequest} per request) stored while upstream is down, then upstream back`);
  console.log(`stored ${stored.depth} events (${fmt(stored.bytes / 1048576, 1)} MB on disk) in ${fmt(fillMs)} ms (${fmt((stored.depth / fillMs) * 1000)} events/s, ${fill.non2xx + fill.errors} failed requests)`);
  console.log(`relay RSS MB while filling, 1 s apart: ${series(fillRss)}`);
  console.log(`upstream back → first 2xx after ${fmt(firstOk)} ms (retry back-off) → backlog gone after ${fmt(drainMs)} ms in all (goal < 30,000 ms); sending alone ${fmt(drainMs - firstOk)} ms, ${fmt(((upstream.stats.events - eventsBefore) / Math.max(drainMs - firstOk, 1)) * 1000)} events/s`);
  console.log(`relay RSS after: ${fmt(rss(pid)?.nowMb, 1)} MB, peak ${fmt(rss(pid)?.peakMb, 1)} MB`);
} finally {
  bare.child.kill();
  relay.child.kill('SIGKILL');
  upstream.server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
