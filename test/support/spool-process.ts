/**
 * The built file spool (`dist/node.js`) in a process of its own, for what one process cannot
 * show: a SIGKILL with the directory open, and other processes holding or racing for its lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { buildIfStale } from './cli-process.mjs';

const nodeModule = join(resolve(import.meta.dirname, '../..'), 'dist/node.js');

export function buildSpoolOnce(): void {
  buildIfStale(['dist/node.js']);
}

export interface SpoolProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line that satisfies `predicate` (rejects if it exits first). */
  line(predicate: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** Runs `body` as an ES module with `createFileSpool` and `dir` in scope. */
export function spoolProcess(dir: string, body: string): SpoolProcess {
  const source = `import { createFileSpool } from ${JSON.stringify(nodeModule)};\nconst dir = ${JSON.stringify(dir)};\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code, signal) => {
      for (const l of listeners) l();
      r({ code, signal, stdout, stderr });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const line = (predicate: (line: string) => boolean) =>
    new Promise<string>((resolvePromise, reject) => {
      const check = () => {
        const hit = stdout.split('\n').find((l) => l !== '' && predicate(l));
        if (hit !== undefined) {
          listeners.delete(check);
          resolvePromise(hit);
        } else if (done) {
          listeners.delete(check);
          reject(new Error(`spool process exited first; stdout:\n${stdout}\nstderr:\n${stderr}`));
        }
      };
      listeners.add(check);
      check();
    });
  return { child, line, exited };
}
