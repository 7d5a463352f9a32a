/**
 * Builds dist/ only when a source file is newer than the outputs a test runs. `npm test` builds
 * before the unit tests (the size check), so test files then share that build instead of each
 * rebuilding dist/ while another file's child processes are loading it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export function buildIfStale(outputs: readonly string[] = ['dist/cli.js', 'dist/client.js']): void {
  const newestSource = Math.max(mtime(join(ROOT, 'build.mjs')), newest(join(ROOT, 'src')));
  const oldestOutput = Math.min(...outputs.map((o) => mtime(join(ROOT, o))));
  if (oldestOutput > newestSource) return;
  const run = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`build failed:\n${run.stdout}\n${run.stderr}`);
}

function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return max;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
