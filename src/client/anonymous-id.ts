import { visitorIdFrom } from '../shared/visitor-id.ts';

/** Anything that carries request headers: a Web `Request`, a Node `IncomingMessage`, or alike. */
export type RequestLike =
  | { headers: { get(name: string): string | null } }
  | { headers: Record<string, string | string[] | undefined> };

/**
 * The browser visitor's anonymous id — the `__eventn_id` cookie the tracker and the relay keep —
 * from an incoming request, so a server-side event lands on the same person the tracker saw.
 * Takes a Web `Request` (fetch handlers, Next.js route handlers, Hono, edge runtimes), a Node
 * `IncomingMessage` (`http`, Express, Fastify's `request.raw`), or a `Cookie` header value.
 * Returns undefined when there is no such cookie or its value is not a valid id.
 *
 * @example
 *   app.post('/billing/upgrade', async (req, res) => {
 *     await client.track('plan_upgraded', { plan: 'pro' }, {
 *       user: { id: req.user.id },
 *       anonymousId: anonymousIdFrom(req),
 *     });
 *     res.sendStatus(204);
 *   });
 */
export function anonymousIdFrom(request: RequestLike | string | null | undefined): string | undefined {
  return visitorIdFrom(typeof request === 'string' ? request : cookieHeader(request));
}

function cookieHeader(request: RequestLike | null | undefined): string | undefined {
  const headers = request?.headers;
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get('cookie') ?? undefined;
  }
  const value = (headers as Record<string, string | string[] | undefined>)['cookie'];
  // Node joins repeated Cookie headers with "; " already; an array only comes from hand-made objects.
  return Array.isArray(value) ? value.join('; ') : value;
}
