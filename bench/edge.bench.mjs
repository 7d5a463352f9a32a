// The relay at the edge next to the Node relay, in the same run: acknowledge latency of
// /u/e (the Worker in workerd under Miniflare, answering once Cloudflare Queues took the
// events; the Node relay, answering once its spool fsynced them) and upstream requests per
// 1,000 events. Miniflare's queue lives in memory, so the Worker's latency here is the
// runtime's and the adapter's, not Cloudflare's network or storage: compare shapes, not
// production numbers. Prints; never fails on a figure.
import { Log, LogLevel, Miniflare } from 'miniflare';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { batchBody, fakeUpstream, fmt, load, startRelay, waitEmpty } from './support/harness.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const REQUESTS = Number(process.env.EDGE_REQUESTS ?? 3000);
const CONNECTIONS = Number(process.env.EDGE_CONNECTIONS ?? 10);

/** The deployed configuration (examples/cloudflare/wrangler.jsonc) as Miniflare options. */
function workerFromConfig(upstream) {
  const file = join(ROOT, 'examples/cloudflare/wrangler.jsonc');
  const config = JSON.parse(readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
  return {
    name: config.name,
    modules: true,
    scriptPath: resolve(dirname(file), config.main),
    compatibilityDate: config.compatibility_date,
    bindings: { ...config.vars, USERMAVEN_API_KEY: 'bench-key', USERMAVEN_SERVER_TOKEN: 'bench-token', USERMAVEN_URL: upstream.url, RATE_LIMIT: '0' },
    queueProducers: Object.fromEntries(config.queues.producers.map((p) => [p.binding, { queueName: p.queue }])),
    queueConsumers: Object.fromEntries(
      config.queues.consumers.map((c) => [c.queue, { maxBatchSize: c.max_batch_size, maxBatchTimeout: c.max_batch_timeout, maxRetries: c.max_retries }]),
    ),
  };
}

/**
 * `clients` concurrent senders, each POSTing one tracker event at a time and timing the answer
 * (autocannon reports whole milliseconds, too coarse here). Returns latencies in ms, sorted.
 */
async function acknowledge(url, clients, total) {
  const latencies = [];
  let left = total;
  let non2xx = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (left-- > 0) {
        const body = batchBody(1);
        const start = performance.now();
        const res = await fetch(`${url}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
        await res.arrayBuffer();
        latencies.push(performance.now() - start);
        if (res.status >= 300) non2xx++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rate: latencies.length / seconds, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: latencies.at(-1), non2xx };
}

async function until(predicate, timeoutMs = 120_000) {
  const t0 = performance.now();
  while (!predicate()) {
    if (performance.now() - t0 > timeoutMs) return NaN;
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

const upstream = await fakeUpstream();
const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-edge-bench-'));
const node = await startRelay({ upstreamUrl: upstream.url, dataDir });
const mf = new Miniflare({ host: '127.0.0.1', port: 0, cf: false, log: new Log(LogLevel.WARN), handleRuntimeStdio: (o, e) => (o.resume(), e.resume()), workers: [workerFromConfig(upstream)] });
const worker = { url: (await mf.ready).origin };

try {
  console.log(`acknowledge latency of POST /u/e, 1 event per request, ${REQUESTS} requests from ${CONNECTIONS} concurrent clients, same run:`);
  console.log(`${'target'.padEnd(34)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p90 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'non-2xx'.padStart(9)}`);
  const rows = [];
  // Warm both (JIT, connections, the Worker's isolate), then measure each twice, interleaved.
  for (const target of [node, worker]) await acknowledge(target.url, CONNECTIONS, 300);
  for (const round of [1, 2]) {
    for (const [name, target] of [['Node relay (file spool, fsync)', node], ['Worker under Miniflare (Queues)', worker]]) {
      const r = await acknowledge(target.url, CONNECTIONS, REQUESTS);
      console.log(
        `${`${name} #${round}`.padEnd(34)}${fmt(r.rate).padStart(8)}${fmt(r.p50, 2).padStart(9)}${fmt(r.p90, 2).padStart(9)}${fmt(r.p99, 2).padStart(9)}${fmt(r.max, 1).padStart(9)}${String(r.non2xx).padStart(9)}`,
      );
    }
  }

  // Everything sent so far reaches the upstream before the count starts.
  const sentSoFar = 2 * 300 + 4 * REQUESTS;
  await until(() => upstream.stats.events >= sentSoFar);
  await waitEmpty(node.url);

  console.log('\nupstream requests per 1,000 events (1,000 events as 200 beacons of 5, 10 connections):');
  for (const [name, target] of [['Worker (consumer batches of ≤ 100)', worker], ['Node relay (forwarder, ≤ 500 per request)', node]]) {
    const before = { ...upstream.stats };
    await load(`${target.url}/u/e`, { connections: 10, amount: 200, events: 5 });
    const ms = await until(() => upstream.stats.events - before.events >= 1000);
    const requests = upstream.stats.requests - before.requests;
    console.log(`  ${name.padEnd(44)} ${requests} requests for ${upstream.stats.events - before.events} events; all delivered ${ms < 1 ? 'by the time the last was acknowledged' : `${fmt(ms)} ms after the last acknowledgement`}`);
  }
} finally {
  await mf.dispose();
  node.child.kill('SIGTERM');
  await new Promise((r) => node.child.once('exit', r));
  upstream.server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
