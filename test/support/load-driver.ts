/**
 * A steady load of tracker events against a relay over real HTTP, keeping the books a fault
 * test needs: which event_ids the relay acknowledged (2xx), in which order per visitor.
 *
 * Each visitor sends one request at a time (1–`maxBatch` events), like a tab flushing its
 * queue. A request that gets no 2xx — refused, reset, the relay killed mid-request — is sent
 * again with the same event_ids until it is acknowledged, as the tracker does; so "order per
 * visitor" is well defined: the order of acknowledgements.
 *
 * @example
 *   const load = startLoad({ target: () => relay.url, visitors: 4 });
 *   await load.waitAcked(200);
 *   await load.stop();
 *   expect(missingUpstream(load, upstream)).toEqual([]);
 */
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface LoadOptions {
  /** Base URL of the relay; read before every request, so a restarted relay on a new port is followed. */
  target: () => string;
  visitors?: number;
  /** Events per request: 1..maxBatch (default 5). */
  maxBatch?: number;
  path?: string;
  /** Stop after this many acknowledged events (default: until `stop()`). */
  maxEvents?: number;
  /** Extra fields for an event; may mark one as poisoned, etc. */
  decorate?: (event: Record<string, unknown>, n: number) => void;
  /** Pause between a visitor's requests, to keep the rate steady rather than flat out (default 0). */
  pauseMs?: number;
}

export interface LoadDriver {
  /** event_ids per visitor, in the order the relay acknowledged them. */
  readonly acked: Map<string, string[]>;
  /** Every acknowledged event_id. */
  ackedIds(): string[];
  /** Answers by status (0 = no answer: connection refused or reset). */
  readonly statuses: Map<number, number>;
  /** Bodies of the non-2xx answers seen, one per status (for reasons in assertions). */
  readonly sampleErrors: Map<number, string>;
  /** Resolves once `n` events in total were acknowledged. */
  waitAcked(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `predicate` holds (polled on every answer). */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stop sending; resolves after every visitor's request in flight has settled. */
  stop(): Promise<void>;
}

export function startLoad(options: LoadOptions): LoadDriver {
  const visitors = options.visitors ?? 4;
  const maxBatch = options.maxBatch ?? 5;
  const path = options.path ?? '/u/e';
  const agent = new Agent({ keepAlive: true, maxSockets: visitors });
  const acked = new Map<string, string[]>();
  const statuses = new Map<number, number>();
  const sampleErrors = new Map<number, string>();
  const waiters = new Set<() => void>();
  let total = 0;
  let n = 0;
  let running = true;

  const notify = () => {
    for (const w of waiters) w();
  };

  const visitor = async (anon: string) => {
    const mine: string[] = [];
    acked.set(anon, mine);
    while (running && (options.maxEvents === undefined || total < options.maxEvents)) {
      const size = 1 + Math.floor(Math.random() * maxBatch);
      const events = Array.from({ length: size }, () => {
        const index = n++;
        const event: Record<string, unknown> = {
          event_id: randomUUID(),
          event_type: 'load',
          user: { anonymous_id: anon },
          event_attributes: { n: index },
          url: 'https://site.test/page',
        };
        options.decorate?.(event, index);
        return event;
      });
      const body = JSON.stringify(events);
      // Same batch again until acknowledged (or the load stops).
      for (;;) {
        const { status, text } = await post(options.target() + path, body, agent);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 200 && status < 300) {
          for (const e of events) mine.push(e['event_id'] as string);
          total += events.length;
          notify();
          break;
        }
        if (!sampleErrors.has(status)) sampleErrors.set(status, text);
        notify();
        if (!running) break;
        // A refused or reset request: give the relay a moment (it may be restarting).
        await new Promise((r) => setTimeout(r, status === 0 ? 20 : 5));
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };

  const loops = Array.from({ length: visitors }, () => visitor(randomUUID()));

  const until = (predicate: () => boolean, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`load: condition not met within ${timeoutMs} ms; acked ${total}, answers ${JSON.stringify([...statuses])}, errors ${JSON.stringify([...sampleErrors])}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
    });

  return {
    acked,
    statuses,
    sampleErrors,
    ackedIds: () => [...acked.values()].flat(),
    waitAcked: (count, timeoutMs) => until(() => total >= count, timeoutMs),
    until,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

function post(url: string, body: string, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, text: 'response aborted' }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ status: 0, text: e.message }));
    req.end(body);
  });
}

/** Acknowledged event_ids the upstream never accepted. */
export function missingUpstream(load: LoadDriver, upstreamIds: ReadonlySet<string>, except: ReadonlySet<string> = new Set()): string[] {
  return load.ackedIds().filter((id) => !upstreamIds.has(id) && !except.has(id));
}

/**
 * Visitors whose events reached the upstream out of acknowledgement order. Duplicates (a batch
 * re-sent after a lost answer) are judged by their first arrival.
 */
export function outOfOrder(load: LoadDriver, upstreamEvents: readonly Record<string, unknown>[]): string[] {
  const first = new Map<string, number>();
  upstreamEvents.forEach((e, i) => {
    const id = e['event_id'];
    if (typeof id === 'string' && !first.has(id)) first.set(id, i);
  });
  const bad: string[] = [];
  for (const [visitor, ids] of load.acked) {
    const positions = ids.map((id) => first.get(id)).filter((p): p is number => p !== undefined);
    for (let i = 1; i < positions.length; i++) {
      if (positions[i]! < positions[i - 1]!) {
        bad.push(visitor);
        break;
      }
    }
  }
  return bad;
}
