/**
 * The real CLI (`node bin/umbeacon.js serve`) as a child process, for crash and shutdown tests:
 * resolves once it logged `{"msg":"listening","url":…}`, keeps everything it printed.
 * A thin layer over cli-process.mjs, which spawns every CLI child of the tests.
 */
import type { ChildProcess } from 'node:child_process';
import { FREE_PORT, startCli, type Exit, type LogLine } from './cli-process.mjs';

/**
 * The CLI runs the built code, like `npm start`: build dist/ when a source is newer (rebuilding
 * unconditionally would rewrite dist/ under another test file's running children).
 */
export { buildOnce, ROOT } from './cli-process.mjs';

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Parsed JSON log lines so far. */
  lines(): LogLine[];
  /** Resolves with the exit code/signal. */
  exited: Promise<Exit>;
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** `umbeacon serve ...args` on a free port with `env`; resolves once it is listening. */
export async function spawnRelay(env: Record<string, string>, args: string[] = []): Promise<RelayProcess> {
  const r = await startCli({ args, label: 'relay', env: { ...FREE_PORT, ...env } });
  return { url: r.url, child: r.child, output: r.output, lines: r.lines, exited: r.exited, waitForLine: r.waitForLine };
}
