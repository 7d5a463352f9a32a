/**
 * The system under test, started the way a site owner runs it: the real CLI
 * (`node bin/umbeacon.js serve`, what `npm start` runs after building) on a free port, serving
 * the fixture site from `e2e/site`, forwarding to a fake Usermaven upstream on another free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SITE_DIR = join(ROOT, 'e2e/site');
export const API_KEY = 'e2e-api-key';
/** Distinctive, so a scan for it cannot match anything by accident. */
export const SERVER_TOKEN = 'srvtok-e2e-9f4c1d7a2b';

export interface Relay {
  readonly url: string;
  readonly dataDir: string;
  /** Everything the relay printed (stdout and stderr), for failure messages and leak scans. */
  log(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; removes the data dir. */
  close(): Promise<void>;
}

export interface Stack {
  readonly relay: Relay;
  readonly upstream: FakeUpstream;
  close(): Promise<void>;
}

/** Spawns `umbeacon serve` with `env` and resolves once it logged its `listening` line. */
export async function startRelay(env: Record<string, string>): Promise<Relay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-e2e-'));
  // E2E_RELAY_BIN runs the suite against another build of the same CLI.
  const bin = process.env['E2E_RELAY_BIN'] ?? join(ROOT, 'bin/umbeacon.js');
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      SITE_DIR,
      DATA_DIR: dataDir,
      // Every test comes from 127.0.0.1; the flood limit has its own unit tests.
      RATE_LIMIT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // A worker that dies without running fixture teardown must not leave relays behind.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);

  const url = await new Promise<string>((resolveUrl, reject) => {
    let settled = false;
    const settle = (why: string | undefined, found?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.off('data', onData);
      if (found !== undefined) return resolveUrl(found);
      child.kill('SIGKILL');
      reject(new Error(`umbeacon serve ${why}\n--- its output ---\n${output}`));
    };
    const onExit = (code: number | null, signal: string | null) => settle(`exited (${signal ?? code}) before listening`);
    const onData = () => {
      for (const line of output.split('\n')) {
        const parsed = parseJson(line);
        if (parsed?.['msg'] === 'listening' && typeof parsed['url'] === 'string') {
          return settle(undefined, parsed['url'].replace(/\/$/, ''));
        }
      }
    };
    const timer = setTimeout(() => settle('did not log {"msg":"listening"} within 15 s'), 15_000);
    child.once('exit', onExit);
    child.stdout?.on('data', onData);
  });

  return {
    url,
    dataDir,
    log: () => output,
    async close() {
      await stop(child, exited);
      process.off('exit', orphanGuard);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fake upstream and a relay forwarding to it with the e2e credentials. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const upstream = await startFakeUpstream({ apiKey: API_KEY, serverToken: SERVER_TOKEN });
  let relay: Relay;
  try {
    relay = await startRelay({
      USERMAVEN_API_KEY: API_KEY,
      USERMAVEN_SERVER_TOKEN: SERVER_TOKEN,
      USERMAVEN_URL: upstream.url,
      // Off by default with credentials; on here so the token scan covers it too.
      EVENTS_PAGE: 'on',
      ...env,
    });
  } catch (error) {
    await upstream.close();
    throw error;
  }
  return {
    relay,
    upstream,
    async close() {
      await relay.close();
      await upstream.close();
    },
  };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
