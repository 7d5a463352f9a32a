/**
 * The real CLI (`node bin/umbeacon.js serve`) as a child process, for crash and shutdown tests:
 * resolves once it logged `{"msg":"listening","url":…}`, keeps everything it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { buildIfStale } from './build-fresh.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The CLI runs the built code, like `npm start`: build dist/ when a source is newer (rebuilding
 * unconditionally would rewrite dist/ under another test file's running children).
 */
export function buildOnce(): void {
  buildIfStale(['dist/cli.js', 'dist/node.js']);
}

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Parsed JSON log lines so far. */
  lines(): Record<string, unknown>[];
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export async function spawnRelay(env: Record<string, string>, args: string[] = []): Promise<RelayProcess> {
  const child = spawn(process.execPath, ['bin/umbeacon.js', 'serve', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => {
    for (const l of listeners) l();
    r({ code, signal });
  }));
  let done = false;
  void exited.then(() => (done = true));

  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  const waitForLine = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolvePromise, reject) => {
      const check = () => {
        const hit = lines().find(predicate);
        if (hit) {
          cleanup();
          resolvePromise(hit);
        } else if (done) {
          cleanup();
          reject(new Error(`relay exited before the expected log line; output:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`expected log line not seen within ${timeoutMs} ms; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const listening = await waitForLine((l) => l['msg'] === 'listening');
  return { url: String(listening['url']), child, output: () => out, lines, exited, waitForLine };
}
