/**
 * The one way tests, e2e and benches run a program in a child process — above all the built
 * CLI, `node bin/umbeacon.js <command>`, as a user runs it: spawn it, keep what it prints
 * (stdout and stderr apart and together, JSON log lines parsed), wait for its
 * `{"msg":"listening","url":…}` line (or another line, or a URL in its output), stop it.
 * Also the one "build dist/ when a source is newer" rule, since the CLI runs the built code.
 *
 * Plain JavaScript (types in cli-process.d.mts) because the benchmarks are plain .mjs run by
 * node, which cannot import TypeScript.
 *
 * The environment is PATH from this process plus `env`, nothing else: a caller spells out what
 * it wants (`FREE_PORT` for `PORT=0 HOST=127.0.0.1`). Every child still running when this
 * process exits is SIGKILLed, so a worker that dies without its teardown leaves none behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** The CLI's entry, `bin/umbeacon.js` (it loads dist/cli.js). */
export const CLI_BIN = join(ROOT, 'bin/umbeacon.js');

/** `PORT=0 HOST=127.0.0.1`: a free port on loopback, for `umbeacon serve`. */
export const FREE_PORT = Object.freeze({ PORT: '0', HOST: '127.0.0.1' });

// --- building ---------------------------------------------------------------------------

const fresh = new Set();

/**
 * Build dist/ (`node build.mjs`) unless every one of `outputs` is at least as new as every
 * source (src/ and build.mjs). Checked once per output set per module instance (per test file
 * under vitest). Rebuilding unconditionally would rewrite dist/ under the running children of
 * another test file; `npm test` builds first (the size check), so the test files share that.
 *
 * @param {readonly string[]} [outputs] paths relative to the root
 */
export function buildIfStale(outputs = ['dist/cli.js', 'dist/client.js']) {
  const key = [...outputs].sort().join('\n');
  if (fresh.has(key)) return;
  const newestSource = Math.max(mtime(join(ROOT, 'build.mjs')), newest(join(ROOT, 'src')));
  const oldestOutput = Math.min(...outputs.map((o) => mtime(join(ROOT, o))));
  if (oldestOutput < newestSource) {
    const run = spawnSync(process.execPath, ['build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`build failed:\n${run.stdout}\n${run.stderr}`);
  }
  fresh.add(key);
}

/** What the CLI runs (dist/cli.js, and dist/node.js, which the examples import), built if stale. */
export function buildOnce() {
  buildIfStale(['dist/cli.js', 'dist/node.js']);
}

/** @param {string} dir */
function newest(dir) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return max;
}

/** @param {string} path */
function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

// --- child processes --------------------------------------------------------------------

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
let guarded = false;
function guardOrphans() {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Spawn `execPath ...args` (node by default) with stdout and stderr piped (stderr inherited
 * with `inheritStderr`). Returns at once; wait with `waitForListening`, `waitForLine`,
 * `waitForOutput` or `exited`.
 *
 * @param {import('./cli-process.d.mts').SpawnOptions} options
 * @returns {import('./cli-process.d.mts').ChildHandle}
 */
export function spawnNode(options) {
  const { args = [], execPath = process.execPath, env = {}, cwd = ROOT, inheritStderr = false } = options;
  const label = options.label ?? [execPath, ...args].join(' ');
  const child = spawn(execPath, [...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', inheritStderr ? 'inherit' : 'pipe'],
  });
  live.add(child);
  guardOrphans();

  let out = '';
  let stdout = '';
  let stderr = '';
  /** @type {Record<string, unknown>[]} */
  const parsed = [];
  /** @type {Set<() => void>} */
  const listeners = new Set();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  /** Splits a stream into lines (each stream on its own, so the other cannot cut a line in two). */
  const lineReader = () => {
    let partial = '';
    return {
      /** @param {string} text */
      push(text) {
        partial += text;
        let nl;
        while ((nl = partial.indexOf('\n')) !== -1) {
          parseLine(partial.slice(0, nl));
          partial = partial.slice(nl + 1);
        }
      },
      flush() {
        if (partial) parseLine(partial);
        partial = '';
      },
    };
  };
  /** @param {string} line */
  const parseLine = (line) => {
    if (!line.startsWith('{')) return;
    try {
      const value = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed.push(value);
    } catch {
      // not a JSON log line
    }
  };
  const outLines = lineReader();
  const errLines = lineReader();
  child.stdout?.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
    out += chunk;
    stdout += chunk;
    outLines.push(chunk);
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
    out += chunk;
    stderr += chunk;
    errLines.push(chunk);
    notify();
  });

  /** @type {import('./cli-process.d.mts').Exit | undefined} */
  let exit;
  /** @type {Promise<import('./cli-process.d.mts').Exit>} */
  const exited = new Promise((resolveExit) => {
    /** @param {import('./cli-process.d.mts').Exit} result */
    const finish = (result) => {
      if (exit) return;
      outLines.flush();
      errLines.flush();
      exit = result;
      live.delete(child);
      resolveExit(result);
      notify();
    };
    child.once('exit', (code, signal) => {
      // 'close' follows once stdout and stderr are drained, so `output()` is complete; bounded,
      // in case a grandchild holds the pipes open.
      const timer = setTimeout(() => finish({ code, signal }), 2000);
      timer.unref();
      child.once('close', () => {
        clearTimeout(timer);
        finish({ code, signal });
      });
    });
    child.once('error', (error) => {
      out += `${error.message}\n`;
      stderr += `${error.message}\n`;
      if (child.pid === undefined) finish({ code: null, signal: null });
    });
  });

  const lines = () => [...parsed];
  const exitName = () => (exit ? String(exit.code ?? exit.signal ?? -1) : '?');

  /**
   * Resolves with the first non-undefined `find()`, checked now and on every output; rejects
   * if the process exits first or `timeoutMs` passes.
   *
   * @template T
   * @param {() => T | undefined} find
   * @param {string} before "exited (1) before <before>"
   * @param {(ms: number) => string} missing the timeout message
   * @param {number} timeoutMs
   * @returns {Promise<T>}
   */
  const until = (find, before, missing, timeoutMs) =>
    new Promise((resolveFound, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          cleanup();
          resolveFound(found);
        } else if (exit) {
          cleanup();
          reject(new Error(`${label} exited (${exitName()}) before ${before}:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${label}: ${missing(timeoutMs)}:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    label,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    lines,
    exited,
    waitForLine: (predicate, timeoutMs = 15_000) => until(() => parsed.find(predicate), 'the expected log line', (ms) => `expected log line not seen within ${ms} ms`, timeoutMs),
    waitForOutput(pattern, timeoutMs = 15_000) {
      const once = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      return until(() => once.exec(out) ?? undefined, `printing ${pattern}`, (ms) => `printed nothing matching ${pattern} within ${ms} ms`, timeoutMs);
    },
    waitForListening(timeoutMs = 15_000) {
      const isListening = (/** @type {Record<string, unknown>} */ l) => l['msg'] === 'listening' && typeof l['url'] === 'string';
      return until(() => {
        const line = parsed.find(isListening);
        return line ? String(line['url']).replace(/\/$/, '') : undefined;
      }, 'listening', (ms) => `did not log {"msg":"listening"} within ${ms} ms`, timeoutMs);
    },
    async stop(signal = 'SIGTERM', graceMs = 5_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}

/**
 * Spawn the CLI, `node ...nodeArgs bin command ...args`, without waiting for anything.
 *
 * @param {import('./cli-process.d.mts').CliOptions} [options]
 * @returns {import('./cli-process.d.mts').ChildHandle}
 */
export function spawnCli(options = {}) {
  const { command = 'serve', args = [], bin = CLI_BIN, nodeArgs = [], label = `umbeacon ${command}`, ...rest } = options;
  return spawnNode({ ...rest, label, args: [...nodeArgs, bin, command, ...args] });
}

/**
 * Spawn the CLI (`umbeacon serve` unless `command` says otherwise) and resolve once it logged
 * `{"msg":"listening","url":…}`, with that URL (no trailing slash). If it exits first, or is
 * still not listening after `timeoutMs` (default 15 s, then SIGKILLed), rejects with
 * `<label> exited (<code or signal>) before listening:` and, on the lines after, everything it printed.
 *
 * @param {import('./cli-process.d.mts').StartCliOptions} [options]
 * @returns {Promise<import('./cli-process.d.mts').ListeningHandle>}
 */
export function startCli(options = {}) {
  const { timeoutMs, ...rest } = options;
  return listening(spawnCli(rest), timeoutMs);
}

/**
 * Spawn `node ...args` (any program that logs the same listening line, such as the benches'
 * bare baseline) and resolve once it is listening, like `startCli`.
 *
 * @param {import('./cli-process.d.mts').StartNodeOptions} options
 * @returns {Promise<import('./cli-process.d.mts').ListeningHandle>}
 */
export function startNode(options) {
  const { timeoutMs, ...rest } = options;
  return listening(spawnNode(rest), timeoutMs);
}

/**
 * @param {import('./cli-process.d.mts').ChildHandle} handle
 * @param {number | undefined} timeoutMs
 * @returns {Promise<import('./cli-process.d.mts').ListeningHandle>}
 */
async function listening(handle, timeoutMs) {
  try {
    const url = await handle.waitForListening(timeoutMs);
    return { ...handle, url };
  } catch (error) {
    handle.child.kill('SIGKILL');
    throw error;
  }
}
