/**
 * The relay under attack, two ways: in this process (`startRelayServer`, fast, logs captured)
 * or as the real CLI in a child process (`node bin/umbeacon.js serve`), which a test can
 * SIGKILL and start again on the same data directory.
 *
 * Both use short timeouts and back-offs so a fault test takes seconds, not minutes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRelayServer, type RelayServer, type StartOptions } from '../../src/relay-node/server.ts';
import { retryDelayMs } from '../../src/delivery/upstream.ts';
import type { FakeUpstream } from './fake-upstream.ts';

export const root = resolve(import.meta.dirname, '../..');

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `umbeacon-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface InProcessRelay extends RelayServer {
  /** Every log line so far. */
  readonly lines: string[];
  /** Retry delays the forwarder asked for (before they were shortened). */
  readonly askedDelays: number[];
}

/** The relay in this process, forwarding to `upstream`, with retries capped at `maxRetryMs` and a short linger (`lingerMs`, default 10). */
export async function startTestRelay(upstream: FakeUpstream, dataDir: string, options: StartOptions & { maxRetryMs?: number; lingerMs?: number } = {}): Promise<InProcessRelay> {
  const lines: string[] = [];
  const askedDelays: number[] = [];
  const maxRetryMs = options.maxRetryMs ?? 20;
  const relay = await startRelayServer({
    port: 0,
    host: '127.0.0.1',
    apiKey: upstream.apiKey,
    serverToken: upstream.serverToken,
    upstreamUrl: upstream.url,
    dataDir,
    siteDir: join(root, 'public'),
    rateLimit: 0,
    upstreamTimeoutMs: 300,
    drainMs: 2000,
    log: (line) => void lines.push(line),
    forwarder: {
      lingerMs: options.lingerMs ?? 10,
      retryDelay: (result, attempt) => {
        const asked = retryDelayMs(result, attempt);
        askedDelays.push(asked);
        return Math.min(asked, maxRetryMs);
      },
    },
    ...options,
  });
  return Object.assign(relay, { lines, askedDelays });
}

let built = false;
/**
 * Build dist/ once per test file (the CLI runs the built code) — unless it is already newer
 * than every source, as after `npm test`'s size step: rebuilding then would only rewrite files
 * other test files may be running at that moment.
 */
export function buildOnce(): void {
  if (built) return;
  const cli = join(root, 'dist/cli.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource(join(root, 'src'))) {
    built = true;
    return;
  }
  const run = spawnSync(process.execPath, ['build.mjs'], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`build failed:\n${run.stdout}\n${run.stderr}`);
  built = true;
}

export interface CliRelay {
  readonly url: string;
  readonly child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Start `umbeacon serve` on a free port; resolves once it logged "listening". */
export function startCli(env: Record<string, string>): Promise<CliRelay> {
  const child = spawn(process.execPath, [join(root, 'bin/umbeacon.js'), 'serve'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', RATE_LIMIT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /"msg":"listening".*?"url":"([^"]+)"/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
        resolvePromise({ url: m[1]!, child, output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exited.then((code) => reject(new Error(`relay exited (${code}) before listening:\n${out}`)));
  });
}

/** Environment for the CLI forwarding to `upstream`. */
export function cliEnv(upstream: FakeUpstream, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    USERMAVEN_API_KEY: upstream.apiKey,
    USERMAVEN_SERVER_TOKEN: upstream.serverToken,
    USERMAVEN_URL: upstream.url,
    DATA_DIR: dataDir,
    SITE_DIR: join(root, 'public'),
    UPSTREAM_TIMEOUT_MS: '1000',
    DRAIN_MS: '5000',
    ...extra,
  };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}
