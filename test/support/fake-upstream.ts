/**
 * A fake of Usermaven's server-to-server events API (`POST /api/v1/s2s/event`, one event or a
 * JSON array, answer `{"status":"ok"}`), for tests of everything that forwards: the relay, the
 * Node client, the importer, e2e.
 *
 * Strict on purpose: only `POST /api/v1/s2s/event?token=KEY.TOKEN` with the configured key and
 * token, and a body that is one event object or a JSON array of objects that each carry a
 * string `event_type`. Wrong path → 404, wrong token → 401, bad body → 400. Every request is
 * recorded (also the refused ones), so a failing test can print what arrived.
 *
 * Faults switch at runtime: `fail(503)`, `fail(429, { retryAfter: 1 })`, `hang()`, `reset()`,
 * `slow(ms)`, `reject(predicate)`, `redirect(301)`; `heal()` turns them all off. A redirect
 * points at `/moved` on the same fake, which answers 200 to anything, as a site behind an
 * http→https redirect answers the re-sent GET: a client that follows it loses the events.
 *
 * @example
 *   const upstream = await startFakeUpstream({ apiKey: 'k', serverToken: 's' });
 *   // ... point the relay at upstream.url ...
 *   await upstream.waitFor((u) => u.eventIds().size === 3);
 *   await upstream.close();
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The `token` query parameter as received (may be wrong or missing). */
  token: string | null;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed events when the body was valid, else empty. */
  events: Record<string, unknown>[];
  /** Status the fake answered (0 when it hung or reset). */
  status: number;
  at: number;
}

export interface FailOptions {
  /** `Retry-After` header value, in seconds (number) or verbatim (string). */
  retryAfter?: number | string;
  /** Fail only this many requests, then answer normally again. Default: until `heal()`. */
  count?: number;
  /** Error body from the raw request target (e.g. one that echoes the URL, token and all). */
  body?: (target: string) => string;
}

export interface FakeUpstream {
  /** Base URL to configure as `USERMAVEN_URL`, e.g. `http://127.0.0.1:41234` (with the prefix, if any). */
  readonly url: string;
  readonly apiKey: string;
  readonly serverToken: string;
  /** Events from accepted (2xx) requests, in arrival order, duplicates included. */
  readonly events: Record<string, unknown>[];
  /** Every request received, accepted or not. */
  readonly requests: RecordedRequest[];
  /** Accepted requests only (the ones answered 2xx). */
  accepted(): RecordedRequest[];
  /** Distinct `event_id`s of accepted events. */
  /** Distinct event_ids accepted so far (live view; do not modify). */
  eventIds(): ReadonlySet<string>;
  /** Resolves once `predicate(this)` is true; on timeout throws with everything received. */
  waitFor(predicate: (upstream: FakeUpstream) => boolean, timeoutMs?: number): Promise<void>;
  fail(status: number, options?: FailOptions): void;
  /** Accept requests and never answer them (until `heal()` or `close()`). */
  hang(): void;
  /** Destroy the socket of every request without answering. */
  reset(): void;
  /** Wait this long before answering each request. */
  slow(ms: number): void;
  /** Answer `status` (default 400) to any batch that contains an event matching `predicate`. */
  reject(predicate: (event: Record<string, unknown>) => boolean, status?: number, options?: Pick<FailOptions, 'body'>): void;
  /** Answer `status` (301, 302, 307, 308) with a `Location` on `/moved`, keeping the query (token and all). */
  redirect(status: number, options?: Pick<FailOptions, 'count'>): void;
  /** Back to normal: no failures, no hangs, no delay, no rejects. */
  heal(): void;
  /** Forget everything recorded so far. */
  clear(): void;
  /** A readable dump of what arrived (for failure messages). */
  describe(): string;
  close(): Promise<void>;
}

export const S2S_PATH = '/api/v1/s2s/event';

/**
 * `prefix` (e.g. `/usermaven`) serves the API under a path, as an egress proxy in front of
 * Usermaven does: `url` then ends with it, and only `${prefix}/api/v1/s2s/event` is the API.
 */
export async function startFakeUpstream(options: { apiKey?: string; serverToken?: string; prefix?: string } = {}): Promise<FakeUpstream> {
  const endpoint = (options.prefix ?? '') + S2S_PATH;
  const apiKey = options.apiKey ?? 'test-key';
  const serverToken = options.serverToken ?? 'test-server-token';
  const events: Record<string, unknown>[] = [];
  // Kept as events arrive: soak runs accept ~500k events and poll eventIds() every 50 ms, and
  // rebuilding the set each time starved the relay under test of CPU.
  const ids = new Set<string>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<() => void>();
  const waiters = new Set<() => void>();

  let failing: { status: number; retryAfter?: number | string; remaining: number; body?: (target: string) => string } | null = null;
  let mode: 'normal' | 'hang' | 'reset' = 'normal';
  let delayMs = 0;
  let poison: { predicate: (event: Record<string, unknown>) => boolean; status: number; body?: (target: string) => string } | null = null;
  let redirecting: { status: number; remaining: number } | null = null;

  const notify = () => {
    for (const w of waiters) w();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        token: url.searchParams.get('token'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        events: [],
        status: 0,
        at: Date.now(),
      };
      requests.push(record);

      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
        notify();
      };
      const respond = () => {
        if (mode === 'reset') {
          req.socket.destroy();
          notify();
          return;
        }
        if (mode === 'hang') {
          hanging.add(() => req.socket.destroy());
          notify();
          return;
        }
        if (record.path === '/moved') return answer(200, { status: 'ok' });
        if (redirecting && record.path === endpoint) {
          const { status } = redirecting;
          if (--redirecting.remaining <= 0) redirecting = null;
          const search = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
          return answer(status, { status: 'moved' }, { location: `http://127.0.0.1:${port}/moved${search}` });
        }
        if (record.method !== 'POST' || record.path !== endpoint) return answer(404, { status: 'error', message: 'not found' });
        if (record.token !== `${apiKey}.${serverToken}`) return answer(401, { status: 'error', message: 'invalid token' });
        const parsed = parseEvents(record.body);
        if (typeof parsed === 'string') return answer(400, { status: 'error', message: parsed });
        if (failing) {
          const { status, retryAfter, body } = failing;
          if (--failing.remaining <= 0) failing = null;
          return answer(status, body ? body(req.url ?? '') : { status: 'error', message: 'fake failure' }, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
        }
        if (poison && parsed.some(poison.predicate)) return answer(poison.status, poison.body ? poison.body(req.url ?? '') : { status: 'error', message: 'poisoned event in batch' });
        record.events = parsed;
        events.push(...parsed);
        for (const e of parsed) if (typeof e['event_id'] === 'string') ids.add(e['event_id']);
        return answer(200, { status: 'ok' });
      };
      if (delayMs > 0) setTimeout(respond, delayMs);
      else respond();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const upstream: FakeUpstream = {
    url: `http://127.0.0.1:${port}${options.prefix ?? ''}`,
    apiKey,
    serverToken,
    events,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    eventIds: () => ids,
    async waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(upstream)) return;
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(upstream)) return;
          cleanup();
          resolve();
        };
        // Events arrive through `notify`; the interval also catches predicates that depend
        // on something outside this fake (e.g. a spool emptying).
        const interval = setInterval(check, 50);
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fake upstream: condition not met within ${timeoutMs} ms\n${upstream.describe()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearInterval(interval);
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    fail(status, opts = {}) {
      failing = { status, remaining: opts.count ?? Infinity, ...(opts.retryAfter === undefined ? {} : { retryAfter: opts.retryAfter }), ...(opts.body ? { body: opts.body } : {}) };
    },
    hang() {
      mode = 'hang';
    },
    reset() {
      mode = 'reset';
    },
    slow(ms) {
      delayMs = ms;
    },
    reject(predicate, status = 400, opts = {}) {
      poison = { predicate, status, ...(opts.body ? { body: opts.body } : {}) };
    },
    redirect(status, opts = {}) {
      redirecting = { status, remaining: opts.count ?? Infinity };
    },
    heal() {
      failing = null;
      mode = 'normal';
      delayMs = 0;
      poison = null;
      redirecting = null;
      for (const release of hanging) release();
      hanging.clear();
    },
    clear() {
      events.length = 0;
      ids.clear();
      requests.length = 0;
    },
    describe() {
      const lines = [`${requests.length} request(s), ${events.length} accepted event(s), ${upstream.eventIds().size} distinct event_id(s)`];
      for (const r of requests.slice(-50)) {
        lines.push(`  ${r.method} ${r.path} token=${r.token === `${apiKey}.${serverToken}` ? 'ok' : JSON.stringify(r.token)} → ${r.status || 'no answer'}; ${r.body.length} B: ${r.body.slice(0, 300)}`);
      }
      if (requests.length > 50) lines.push(`  (${requests.length - 50} earlier request(s) not shown)`);
      return lines.join('\n');
    },
    async close() {
      upstream.heal();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return upstream;
}

/** One event object or an array of them, each with a string `event_type`; else a reason. */
function parseEvents(body: string): Record<string, unknown>[] | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return 'empty array';
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'each event must be an object';
    if (typeof (item as Record<string, unknown>)['event_type'] !== 'string') return 'event_type is required';
  }
  return list as Record<string, unknown>[];
}
