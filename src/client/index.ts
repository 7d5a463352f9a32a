/**
 * `umbeacon/client` — server-side events for Usermaven from Node: batching, retries, an optional
 * durable queue, and `anonymousIdFrom(req)` to join the browser visitor.
 */
export { createClient, type Client, type ClientOptions, type ClientStats } from './client.ts';
export { anonymousIdFrom, type RequestLike } from './anonymous-id.ts';
export type { EventOptions } from './build-event.ts';
export type { CompanyTraits, UserTraits } from '../shared/event.ts';
