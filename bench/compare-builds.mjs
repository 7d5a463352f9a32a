#!/usr/bin/env node
// Not part of `npm run bench` (no `.bench.mjs`): CPU per request and req/s of two or more
// builds of the CLI, next to the bare server, in alternating rounds, so that the noise of a
// shared machine falls on every side alike. Each build is a `cli.js` (e.g. from
// `npx esbuild src/cli.ts --bundle --platform=node --format=esm --packages=external
// --outfile=node_modules/.cache/NAME/cli.js`, kept out of dist/ so other rebuilds don't swap it).
//
//   COMPARE_SECONDS=5 COMPARE_ROUNDS=3 node bench/compare-builds.mjs path/a/cli.js path/b/cli.js
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bareSource, cpuMs, fakeUpstream, fmt, load, startChild, startRelay, waitEmpty } from './support/harness.mjs';

const seconds = Number(process.env.COMPARE_SECONDS ?? 5);
const rounds = Number(process.env.COMPARE_ROUNDS ?? 3);
const connections = Number(process.env.COMPARE_CONNECTIONS ?? 50);
const builds = process.argv.slice(2);
const upstream = await fakeUpstream();
const dirs = [];
const sides = [{ name: 'bare', ...(await startChild(['-e', bareSource])), path: '/' }];
for (const cli of builds) {
  const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-compare-'));
  dirs.push(dataDir);
  process.env.RELAY_CLI = cli;
  sides.push({ name: cli, ...(await startRelay({ upstreamUrl: upstream.url, dataDir })), path: '/u/e' });
}
for (const s of sides) Object.assign(s, { cpu: 0, reqs: 0, rps: [] });
console.log(`load average before: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const s of sides) await load(s.url + s.path, { connections, duration: 1 });
for (let round = 0; round < rounds; round++) {
  for (const s of sides) {
    if (s.path !== '/') await waitEmpty(s.url);
    const c0 = cpuMs(s.child.pid);
    const r = await load(s.url + s.path, { connections, duration: seconds });
    if (s.path !== '/') await waitEmpty(s.url); // the forwarding of these events counts too
    s.cpu += cpuMs(s.child.pid) - c0;
    s.reqs += r.requests.total;
    s.rps.push(r.requests.average);
  }
}
console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const bare = sides[0];
for (const s of sides) {
  const ratios = s.rps.map((x, i) => fmt(x / bare.rps[i], 2)).join(' ');
  console.log(`${s.name.padEnd(44)} req/s ${s.rps.map((x) => fmt(x)).join(' ').padEnd(20)} ratio ${ratios.padEnd(16)} CPU/req ${fmt((s.cpu * 1000) / s.reqs)} µs`);
}
for (const s of sides) s.child.kill('SIGKILL');
upstream.server.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
