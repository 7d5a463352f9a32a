/**
 * How delivery is counted, from outside the forwarder: by wrapping the spool it drains and the
 * `fetch` its upstream uses. The Node relay's Prometheus metrics (src/relay-node/metrics.ts) and
 * the Node client's `metrics()` both count through here, so "forwarded" means one thing.
 *
 * - What the spool's `ack` settles is forwarded, less what went to `deadLetter` (dead-lettered)
 *   or was set aside again with `append` (still waiting) since the batch was read.
 * - Both are reported in the tick in which the spool's depth drops (its `ack` lowers the depth
 *   before its first await), so a reader of counters and depth never sees an event twice or not
 *   at all: received = forwarded + dead-lettered + waiting. Set-aside events sit in the depth
 *   twice until the ack; `setAside()` says how many, for whoever reports the depth.
 */
import type { Spool } from './spool.ts';

export interface CountedSpool<S extends Spool> {
  /** The spool to give the forwarder. */
  spool: S;
  /** Events appended again by the forwarder whose batch is not yet acknowledged. */
  setAside(): number;
}

export function countSpool<S extends Spool>(inner: S, settled: (forwarded: number, deadLettered: number) => void): CountedSpool<S> {
  let batch: { cursor: unknown; records: number } | null = null;
  let dead = 0;
  let aside = 0;
  const reset = () => {
    batch = null;
    dead = 0;
    aside = 0;
  };
  const spool = Object.assign(Object.create(inner) as S, {
    async read(maxRecords: number, maxBytes: number) {
      const read = await inner.read(maxRecords, maxBytes);
      reset();
      if (read) batch = { cursor: read.cursor, records: read.records.length };
      return read;
    },
    async append(records: readonly string[]) {
      // The forwarder appends only refused events it sets aside: they are still waiting.
      await inner.append(records);
      aside += records.length;
    },
    async deadLetter(record: string, reason: string) {
      await inner.deadLetter(record, reason);
      dead++;
    },
    ack(cursor: unknown) {
      if (batch && batch.cursor === cursor) settled(Math.max(0, batch.records - dead - aside), dead);
      reset();
      return inner.ack(cursor);
    },
  });
  return { spool, setAside: () => aside };
}

/**
 * A `fetch` that reports each upstream request: the HTTP status it answered, or `timeout` (an
 * abort at the upstream's own timeout, `timeoutMs`) or `error` (no answer), and its seconds.
 */
export function countFetch(inner: typeof fetch, timeoutMs: number, report: (status: string, seconds: number) => void): typeof fetch {
  return async (input, init) => {
    const start = performance.now();
    try {
      const res = await inner(input, init);
      report(String(res.status), (performance.now() - start) / 1000);
      return res;
    } catch (error) {
      const ms = performance.now() - start;
      // upstream.ts aborts its own request at its timeout; an abort before that is a stop.
      report(init?.signal?.aborted && ms >= timeoutMs - 5 ? 'timeout' : 'error', ms / 1000);
      throw error;
    }
  };
}
