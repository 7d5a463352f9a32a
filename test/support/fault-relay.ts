/**
 * The relay under attack, two ways: in this process (`startRelayServer`, fast, logs captured)
 * or as the real CLI in a child process (`node bin/umbeacon.js serve`), which a test can
 * SIGKILL and start again on the same data directory.
 *
 * Both use short timeouts and back-offs so a fault test takes seconds, not minutes.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelayServer, type RelayServer, type StartOptions } from '../../src/relay-node/server.ts';
import { retryDelayMs } from '../../src/delivery/retry-timing.ts';
import type { FakeUpstream } from './fake-upstream.ts';
import { FREE_PORT, ROOT, startCli as startServe } from './cli-process.mjs';

export const root = ROOT;

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

/** Builds dist/ if a source is newer (the CLI runs the built code). */
export { buildOnce } from './cli-process.mjs';

export interface CliRelay {
  readonly url: string;
  readonly child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/**
 * Start `umbeacon serve` on a free port; resolves once it logged "listening", rejects with
 * `relay exited (<code>) before listening:` and everything it printed if it exits first.
 */
export async function startCli(env: Record<string, string>): Promise<CliRelay> {
  const relay = await startServe({ label: 'relay', env: { ...FREE_PORT, RATE_LIMIT: '0', ...env } });
  return { url: relay.url, child: relay.child, output: relay.output, exited: relay.exited.then(({ code, signal }) => code ?? signal ?? -1) };
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
