#!/usr/bin/env node
// Not a benchmark (no `.bench.mjs`, so `npm run bench` skips it): runs the relay child under
// `node --cpu-prof` with the relay bench's load, stops it with SIGTERM so the profile is
// written, and prints the top self-time functions — the first step before changing any hot path.
//
//   PROFILE_SECONDS=8 PROFILE_DIR=/tmp/prof RELAY_CLI=dist/cli.js node bench/profile-relay.mjs
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { cpuMs, fakeUpstream, fmt, load, startRelay, waitEmpty } from './support/harness.mjs';

const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const profDir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'umbeacon-prof-'));
const upstream = await fakeUpstream();
const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-prof-data-'));
const relay = await startRelay({ upstreamUrl: upstream.url, dataDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
await load(relay.url + '/u/e', { duration: 1 });
await waitEmpty(relay.url);
const c0 = cpuMs(relay.child.pid);
const r = await load(relay.url + '/u/e', { duration: seconds });
await waitEmpty(relay.url);
const cpu = cpuMs(relay.child.pid) - c0;
console.log(`load average ${fmt(loadavg()[0], 1)}; ${fmt(r.requests.average)} req/s; CPU per request ${fmt((cpu * 1000) / r.requests.total)} µs`);
const exited = new Promise((resolve) => relay.child.on('exit', resolve));
relay.child.kill('SIGTERM');
await exited;
upstream.server.close();
rmSync(dataDir, { recursive: true, force: true });

const file = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1);
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const n = byId.get(profile.samples[i]);
  const f = n.callFrame;
  const key = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`profile: ${join(profDir, file)}`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 45))) {
  console.log(`${fmt((100 * us) / total, 1).padStart(5)} %  ${key}`);
}
