// Import benchmark: 1,000,000 generated events through the built CLI
// (`node bin/umbeacon.js import FILE`) into a local fake upstream. Prints events/s and the
// importer's peak RSS. Goals: ≥ 50,000 events/s, peak RSS < 200 MB. Measures; never fails on a number.
//   node bench/import.bench.mjs [events]     (needs `node build.mjs` first; `npm run bench` does it)
//   RELAY_CLI=path/to/cli.js node bench/import.bench.mjs   (another build of the CLI, as compare-builds.mjs)
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fakeUpstream } from './support/harness.mjs';
import { spawnCli } from '../test/support/cli-process.mjs';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const GOAL_RATE = 50_000;
const GOAL_RSS_MB = 200;
const dir = mkdtempSync(join(tmpdir(), 'umbeacon-import-bench-'));
const input = join(dir, 'events.ndjson');

// --- input: realistic historical events, a third with ISO timestamps, none with event_id ---
const t0 = Date.UTC(2024, 0, 1);
const out = createWriteStream(input);
for (let i = 0; i < EVENTS; i += 10_000) {
  let chunk = '';
  for (let j = i; j < Math.min(EVENTS, i + 10_000); j++) {
    const ms = t0 + j * 50;
    chunk +=
      JSON.stringify({
        event_type: j % 5 === 0 ? 'signup' : 'page_view',
        _timestamp: j % 3 === 0 ? new Date(ms).toISOString() : ms,
        user: { id: `user-${j % 9973}`, email: `user${j % 9973}@example.com` },
        event_attributes: { n: j, plan: j % 2 ? 'pro' : 'free' },
        url: `https://example.com/docs/page-${j % 500}`,
      }) + '\n';
  }
  if (!out.write(chunk)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
const inputMb = statSync(input).size / 1048576;

// --- the shared counting fake upstream (bench/support/harness.mjs) ---
const apiKey = 'bench-key';
const serverToken = 'bench-token';
const upstream = await fakeUpstream();

// --- the import: the real CLI in its own process; it reports its peak RSS on exit ---
const preload = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\nmaxrss-kb '+u.maxRSS+' cpu-us '+(u.userCPUTime+u.systemCPUTime)+'\\n')})`;
const started = performance.now();
const run = spawnCli({
  command: 'import',
  args: [input, '--no-progress', '--json'],
  nodeArgs: ['--import', preload],
  ...(process.env.RELAY_CLI ? { bin: process.env.RELAY_CLI } : {}),
  env: { ...process.env, USERMAVEN_API_KEY: apiKey, USERMAVEN_SERVER_TOKEN: serverToken, USERMAVEN_URL: upstream.url },
});
const { code } = await run.exited;
const stdout = run.stdout();
const stderr = run.stderr();
const seconds = (performance.now() - started) / 1000;
upstream.server.close();
rmSync(dir, { recursive: true, force: true });

const rssMb = Number(/maxrss-kb (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
const cpuSeconds = Number(/cpu-us (\d+)/.exec(stderr)?.[1] ?? NaN) / 1e6;
const rate = Math.round(EVENTS / seconds);
let summary = {};
try {
  summary = JSON.parse(stdout);
} catch {
  console.log(`import exited ${code}:\n${stdout}\n${stderr}`);
}
const mark = (ok) => (ok ? 'meets goal' : 'BELOW GOAL');
console.log(`import: ${EVENTS.toLocaleString('en-US')} events (${inputMb.toFixed(0)} MB NDJSON) → local fake upstream`);
console.log(`  exit ${code}, ${summary.outcome ?? '?'}; upstream received ${upstream.stats.events.toLocaleString('en-US')} events in ${upstream.stats.requests} requests`);
console.log(`  ${seconds.toFixed(2)} s wall (process start to exit), importer CPU ${cpuSeconds.toFixed(2)} s (${Math.round(EVENTS / cpuSeconds).toLocaleString('en-US')} events per CPU-second)`);
console.log(`  ${rate.toLocaleString('en-US')} events/s   (goal ≥ ${GOAL_RATE.toLocaleString('en-US')}: ${mark(rate >= GOAL_RATE)})`);
console.log(`  peak RSS ${rssMb.toFixed(1)} MB   (goal < ${GOAL_RSS_MB} MB: ${mark(rssMb < GOAL_RSS_MB)})`);
