/**
 * Types of cli-process.mjs (plain JavaScript, so the benchmarks can import it without a
 * TypeScript loader). Keep the two in step.
 */
import type { ChildProcess } from 'node:child_process';

/** The repository root. */
export declare const ROOT: string;
/** The CLI's entry, `bin/umbeacon.js` (it loads dist/cli.js). */
export declare const CLI_BIN: string;
/** `PORT=0 HOST=127.0.0.1`: a free port on loopback, for `umbeacon serve`. */
export declare const FREE_PORT: Readonly<{ PORT: string; HOST: string }>;

/** Build dist/ unless every one of `outputs` (default dist/cli.js, dist/client.js) is at least as new as src/ and build.mjs. */
export declare function buildIfStale(outputs?: readonly string[]): void;
/** `buildIfStale(['dist/cli.js', 'dist/node.js'])`: what the CLI and the examples run. */
export declare function buildOnce(): void;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A parsed JSON log line. */
export type LogLine = Record<string, unknown>;

export interface SpawnOptions {
  /** Arguments after the executable. */
  args?: readonly string[] | undefined;
  /** The executable; node (`process.execPath`) by default. */
  execPath?: string | undefined;
  /** Added to PATH (the only variable taken from this process). */
  env?: Readonly<Record<string, string>> | undefined;
  /** Default: the repository root. */
  cwd?: string | undefined;
  /** Let stderr through to this process's stderr instead of collecting it. */
  inheritStderr?: boolean | undefined;
  /** Names the process in error messages; default: the command line. */
  label?: string | undefined;
}

export interface CliOptions extends Omit<SpawnOptions, 'args' | 'execPath'> {
  /** The CLI command; default `serve`. */
  command?: string | undefined;
  /** Arguments after the command. */
  args?: readonly string[] | undefined;
  /** The CLI entry; default `CLI_BIN`. */
  bin?: string | undefined;
  /** Node flags before the entry (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[] | undefined;
  /** Default `umbeacon <command>`. */
  label?: string | undefined;
}

export interface StartCliOptions extends CliOptions {
  /** How long to wait for the listening line (default 15 s); then SIGKILL and reject. */
  timeoutMs?: number | undefined;
}

export interface StartNodeOptions extends SpawnOptions {
  timeoutMs?: number | undefined;
}

export interface ChildHandle {
  readonly child: ChildProcess;
  readonly label: string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  stdout(): string;
  /** Empty with `inheritStderr`. */
  stderr(): string;
  /** The JSON log lines (of stdout and stderr) so far. */
  lines(): LogLine[];
  /** The first log line satisfying `predicate`; rejects if the process exits first or after `timeoutMs` (default 15 s). */
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The first match of `pattern` in `output()`; rejects like `waitForLine`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /**
   * The URL of the `{"msg":"listening","url":…}` line, without a trailing slash; rejects with
   * `<label> exited (<code or signal>) before listening:` and everything printed on the lines
   * after, or after `timeoutMs` (default 15 s). Does not kill the process.
   */
  waitForListening(timeoutMs?: number): Promise<string>;
  /** Resolves once it exited and its output is complete. */
  readonly exited: Promise<Exit>;
  /** `signal` (default SIGTERM), SIGKILL after `graceMs` (default 5 s); resolves with the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

export interface ListeningHandle extends ChildHandle {
  readonly url: string;
}

/** Spawn `execPath ...args` (node by default); returns at once. */
export declare function spawnNode(options: SpawnOptions): ChildHandle;
/** Spawn `node ...nodeArgs bin command ...args`; returns at once. */
export declare function spawnCli(options?: CliOptions): ChildHandle;
/** Spawn the CLI and resolve once it logged its listening line (SIGKILLed if it did not). */
export declare function startCli(options?: StartCliOptions): Promise<ListeningHandle>;
/** Spawn `node ...args` and resolve once it logged a listening line, like `startCli`. */
export declare function startNode(options: StartNodeOptions): Promise<ListeningHandle>;
