/**
 * A server started as a child process for a test (an example app): resolves with the URL it
 * printed, keeps its output for failure messages, and stops it with SIGTERM.
 * A thin layer over cli-process.mjs, which spawns every child of the tests.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnNode } from './cli-process.mjs';

export interface ChildServer {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

/** `command ...args` with PATH and `env`; resolves with the first group of `urlPattern` once its output matches. */
export async function startChild(command: string, args: string[], options: { cwd: string; env: Record<string, string>; urlPattern: RegExp; timeoutMs?: number }): Promise<ChildServer> {
  const server = spawnNode({ execPath: command, args, cwd: options.cwd, env: options.env, label: `${command} ${args.join(' ')}` });
  let url: string;
  try {
    url = (await server.waitForOutput(options.urlPattern, options.timeoutMs ?? 30_000))[1]!;
  } catch (error) {
    server.child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    child: server.child,
    output: server.output,
    async stop(graceMs = 10_000) {
      return (await server.stop('SIGTERM', graceMs)).code;
    },
  };
}
