/** `GET /healthz`: spool depth and age, upstream state, rejects by reason. Public: a status and a category, never the upstream's own text (that goes to the log). */
import type { ForwarderStatus } from '../delivery/forwarder.ts';
import { STORAGE_MESSAGES, type Spool } from '../delivery/spool.ts';
import { json, type Reply } from './reply.ts';

export interface HealthOptions {
  /** Without `stats` (a queue at the edge cannot count what it holds), `spool` is null. */
  spool: Partial<Pick<Spool, 'stats' | 'health'>>;
  forwarderStatus?: (() => ForwarderStatus) | undefined;
  mode: string;
  upstreamHost?: string | undefined;
  rejects: Readonly<Record<string, number>>;
  now: () => number;
}

export function healthReply(options: HealthOptions): Reply {
  const stats = options.spool.stats?.();
  const fwd = options.forwarderStatus?.();
  const t = options.now();
  // A spool that cannot write takes no events: that is down, not degraded (HTTP 503, so a load
  // balancer stops sending traffic here until the disk has room again).
  const storage = options.spool.health?.() ?? { ok: true as const };
  const body = {
    status: !storage.ok ? 'unavailable' : fwd && fwd.consecutiveFailures > 0 ? 'degraded' : 'ok',
    storage: storage.ok ? { ok: true } : { ok: false, reason: storage.reason, message: STORAGE_MESSAGES[storage.reason], sinceAgeMs: Math.max(0, t - storage.since) },
    mode: options.mode,
    spool: stats ? { depth: stats.depth, bytes: stats.bytes, oldestUnsentAgeMs: stats.oldestAt === undefined ? null : Math.max(0, t - stats.oldestAt), deadLetterBytes: stats.deadLetterBytes ?? 0 } : null,
    upstream: fwd
      ? {
          host: options.upstreamHost ?? null,
          state: fwd.state,
          lastStatus: fwd.lastStatus ?? null,
          problem: fwd.consecutiveFailures > 0 ? (fwd.problem ?? null) : null,
          lastSuccessAgeMs: fwd.lastSuccessAt === undefined ? null : t - fwd.lastSuccessAt,
          consecutiveFailures: fwd.consecutiveFailures,
          sentEvents: fwd.sentEvents,
          sentRequests: fwd.sentRequests,
          deadLettered: fwd.deadLettered,
        }
      : null,
    rejects: options.rejects,
  };
  return json(storage.ok ? 200 : 503, body);
}
