#!/usr/bin/env node
// `npm test`: every check, in order, even when one fails; then one summary line
// `N passed, N failed` summing all suites (type check and size check count as one test each).
// First, before any suite, what the browser suites need from the machine is found or installed
// (scripts/provision.mjs); where it cannot be, the run stops in one line naming the command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { provision, ProvisionError } from './provision.mjs';

const only = process.argv.slice(2);
const suites = [
  { name: 'types', script: 'test:types' },
  { name: 'size', script: 'test:size' },
  { name: 'unit', script: 'test:unit', report: 'reports/unit.json', vitest: true },
  { name: 'next', script: 'test:next', report: 'reports/next.json', vitest: true },
  { name: 'e2e', script: 'test:e2e', report: 'reports/e2e.json' },
].filter((s) => only.length === 0 || only.includes(s.name));

mkdirSync('reports', { recursive: true });

// The Express example test (unit) and the Next.js one launch Chromium; e2e also blocks ads; the
// unit suite also runs the example alerts and dashboard against a real Prometheus.
const uses = (name) => suites.some((s) => s.name === name);
try {
  await provision({ chromium: uses('unit') || uses('next') || uses('e2e'), lists: uses('e2e'), prometheus: uses('unit') });
} catch (error) {
  if (!(error instanceof ProvisionError)) throw error;
  console.error(error.message);
  writeFileSync('reports/summary.txt', '0 passed, 1 failed\n');
  process.exit(1);
}
let passed = 0;
let failed = 0;
const lines = [];

for (const suite of suites) {
  if (suite.report) rmSync(suite.report, { force: true });
  const started = Date.now();
  const run = spawnSync('npm', ['run', '--silent', suite.script], { stdio: 'inherit', env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let p = 0;
  let f = 0;
  if (suite.report && existsSync(suite.report)) {
    const report = JSON.parse(readFileSync(suite.report, 'utf8'));
    if (suite.vitest) {
      p = report.numPassedTests ?? 0;
      // A failed file counts once more only when no test of it failed (it did not load, or a
      // hook threw): numFailedTestSuites also counts the files of the failed tests.
      const broken = (report.testResults ?? []).filter((r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'));
      f = (report.numFailedTests ?? 0) + broken.length;
    } else {
      p = (report.stats?.expected ?? 0) + (report.stats?.flaky ?? 0);
      f = report.stats?.unexpected ?? 0;
      f += (report.errors?.length ?? 0);
    }
    if (run.status !== 0 && f === 0) f = 1; // the runner failed outside any test
  } else {
    if (run.status === 0) p = 1;
    else f = 1;
  }
  passed += p;
  failed += f;
  lines.push(`${suite.name.padEnd(6)} ${String(p).padStart(4)} passed ${String(f).padStart(3)} failed  (${seconds} s)`);
}

console.log('\n' + lines.join('\n'));
const summary = `${passed} passed, ${failed} failed`;
writeFileSync('reports/summary.txt', summary + '\n');
console.log(summary);
process.exit(failed === 0 ? 0 : 1);
