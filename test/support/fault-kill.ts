/**
 * SIGKILL the relay CLI at random moments under load, restart it on the same data directory,
 * and report what the upstream is missing. Shared by the short test and the soak.
 */
import { randomInt } from 'node:crypto';
import type { FakeUpstream } from './fake-upstream.ts';
import { cliEnv, startCli, type CliRelay } from './fault-relay.ts';
import { missingUpstream, outOfOrder, startLoad } from './load-driver.ts';

export interface KillReport {
  kills: number;
  acked: number;
  missing: string[];
  outOfOrder: string[];
  /** When each kill happened (acknowledged events so far, spool depth just before). */
  moments: string[];
}

export async function killUnderLoad(options: {
  upstream: FakeUpstream;
  dataDir: string;
  kills: number;
  visitors?: number;
  /** Called with every child started, so the caller can clean up on failure. */
  track?: (relay: CliRelay) => void;
  /** Acknowledged events between kills: a random number in this range. */
  between?: [number, number];
}): Promise<KillReport> {
  const { upstream, dataDir } = options;
  const [lo, hi] = options.between ?? [50, 400];
  // A slow upstream keeps a backlog in the spool, so kills land with events on disk.
  upstream.slow(30);
  let relay = await startCli(cliEnv(upstream, dataDir));
  options.track?.(relay);
  const load = startLoad({ target: () => relay.url, visitors: options.visitors ?? 6 });
  const moments: string[] = [];
  try {
    for (let k = 0; k < options.kills; k++) {
      const at = load.ackedIds().length + randomInt(lo, hi + 1);
      await load.waitAcked(at, 60_000);
      const depth = await spoolDepth(relay.url);
      relay.child.kill('SIGKILL');
      await relay.exited;
      moments.push(`kill ${k + 1} after ${load.ackedIds().length} acknowledged, ~${depth} waiting in the spool`);
      relay = await startCli(cliEnv(upstream, dataDir));
      options.track?.(relay);
    }
    await load.waitAcked(load.ackedIds().length + 50, 60_000);
  } finally {
    await load.stop();
  }
  upstream.slow(0);
  await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0, 60_000).catch(() => {});
  const report: KillReport = {
    kills: moments.length,
    acked: load.ackedIds().length,
    missing: missingUpstream(load, upstream.eventIds()),
    outOfOrder: outOfOrder(load, upstream.events),
    moments,
  };
  relay.child.kill('SIGTERM');
  await relay.exited;
  return report;
}

async function spoolDepth(url: string): Promise<number | string> {
  try {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { spool: { depth: number } };
    return health.spool.depth;
  } catch {
    return '?';
  }
}
