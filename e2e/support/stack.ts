/**
 * The system under test, started the way a site owner runs it: the real CLI
 * (`node bin/umbeacon.js serve`, what `npm start` runs after building) on a free port, serving
 * the fixture site from `e2e/site`, forwarding to a fake Usermaven upstream on another free port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, FREE_PORT, ROOT, startCli, type ListeningHandle } from '../../test/support/cli-process.mjs';
import { startFakeUpstream, type FakeUpstream } from '../../test/support/fake-upstream.ts';

export { ROOT };
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

/** Spawns `umbeacon serve` with `env` and resolves once it logged its `listening` line (within 15 s). */
export async function startRelay(env: Record<string, string>): Promise<Relay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-e2e-'));
  let relay: ListeningHandle;
  try {
    relay = await startCli({
      // E2E_RELAY_BIN runs the suite against another build of the same CLI.
      bin: process.env['E2E_RELAY_BIN'] ?? CLI_BIN,
      env: {
        ...FREE_PORT,
        SITE_DIR,
        DATA_DIR: dataDir,
        // Every test comes from 127.0.0.1; the flood limit has its own unit tests.
        RATE_LIMIT: '0',
        ...env,
      },
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // A worker that dies without running fixture teardown leaves no relay behind: cli-process.mjs
  // SIGKILLs its children when this process exits.
  return {
    url: relay.url,
    dataDir,
    log: relay.output,
    async close() {
      await relay.stop('SIGTERM', 5_000);
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
