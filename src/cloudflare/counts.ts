/**
 * The Node relay's metric families, counted at the edge. A Worker has no process to scrape, so
 * each invocation logs what it counted as one JSON line (`{"msg":"metrics",…}`, Workers Logs or
 * `wrangler tail`), under the Prometheus families' names; summed over lines they are the same
 * counters. Fetch invocations share the isolate's relay, so each fetch line carries what was
 * counted since the isolate's previous line (concurrent requests may share a line; no count is
 * lost or counted twice). A queue invocation counts its own upstream requests exactly.
 */
import type { RelayObserver } from '../relay/observe.ts';

export interface EdgeCounts {
  /** For `createRelay({ observe })`. */
  readonly observer: RelayObserver;
  /** The `fetch` a consumer's upstream should use: requests by status (or `error`). */
  watchFetch(inner: typeof fetch): typeof fetch;
  /** What was counted since the last call, as log fields (null when nothing was), and reset. */
  take(): Record<string, unknown> | null;
}

export function createEdgeCounts(): EdgeCounts {
  let received: Record<string, number> = {};
  let rejected: Record<string, number> = {};
  let requests: Record<string, number> = {};
  let rateLimited = 0;
  let any = false;
  const add = (into: Record<string, number>, key: string, n: number) => {
    into[key] = (into[key] ?? 0) + n;
    any = true;
  };
  return {
    observer: {
      stored: (route, events) => add(received, route, events),
      refused(_route, reason, events, request) {
        add(rejected, reason, events);
        if (request && reason === 'rate_limited') rateLimited++;
      },
    },
    watchFetch(inner) {
      return async (input, init) => {
        try {
          const res = await inner(input, init);
          add(requests, String(res.status), 1);
          return res;
        } catch (error) {
          // The upstream aborts its own request at its timeout; the consumer's budget cuts too.
          add(requests, init?.signal?.aborted ? 'timeout' : 'error', 1);
          throw error;
        }
      };
    },
    take() {
      if (!any) return null;
      const fields: Record<string, unknown> = {};
      if (Object.keys(received).length) fields['umbeacon_events_received_total'] = received;
      if (Object.keys(rejected).length) fields['umbeacon_events_rejected_total'] = rejected;
      if (rateLimited) fields['umbeacon_rate_limited_total'] = rateLimited;
      if (Object.keys(requests).length) fields['umbeacon_upstream_requests_total'] = requests;
      received = {};
      rejected = {};
      requests = {};
      rateLimited = 0;
      any = false;
      return fields;
    },
  };
}
