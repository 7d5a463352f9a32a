/**
 * umbeacon/relay — the runtime-neutral relay core: a Web-standard handler plus the pieces a
 * runtime adapter wires together (spool, forwarder, upstream, logger, live feed).
 *
 * @example
 *   import { createRelay, createMemorySpool, createForwarder, createUpstream } from 'umbeacon/relay';
 *   const spool = createMemorySpool();
 *   const forwarder = createForwarder({ spool, upstream: createUpstream({ apiKey, serverToken }) });
 *   const relay = createRelay({ spool, apiKey, onStored: forwarder.kick });
 *   forwarder.start();
 *   export default { fetch: (request: Request) => relay(request) };
 */
export { createRelay, DEFAULT_PATHS, type RelayOptions, type RelayHandler, type RelayPaths, type ConnInfo } from './handler.ts';
export { createForwarder, type Forwarder, type ForwarderOptions, type ForwarderStatus } from '../delivery/forwarder.ts';
export { systemClock, type Clock } from '../delivery/clock.ts';
export { createMemorySpool, type MemorySpool } from '../delivery/memory-spool.ts';
export { SpoolFullError, type Spool, type SpoolBatch, type SpoolStats } from '../delivery/spool.ts';
export { createUpstream, DEFAULT_UPSTREAM_URL, S2S_PATH, type Upstream, type SendResult } from '../delivery/upstream.ts';
export { backoffMs, retryDelayMs, relayRetryDelay, parseRetryAfter } from '../delivery/retry-timing.ts';
export { createJsonLogger, silentLogger, type Logger, type LogFields } from '../delivery/log.ts';
export { createEventFeed, type EventFeed, type EventSummary } from './feed.ts';
export { parseTrustProxy, clientAddress, type TrustProxy } from './client-ip.ts';
export { RelayError, errorResponse } from './errors.ts';
export { parseEvents, readBody } from './validate.ts';
