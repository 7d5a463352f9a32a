/**
 * Who is asking, decided once per request by the runtime adapter (the Node adapter from the
 * socket, the Worker from Cloudflare's `CF-Connecting-IP`) and handed to every rule that
 * depends on it: the origin check, the cookie's `Secure` and `Domain`, the rate limit and the
 * `source_ip` of ingest. A rule that cannot see the peer cannot apply the trust rule; one that
 * read a header on its own believed `X-Forwarded-Host` from anyone once `TRUST_PROXY` was set.
 *
 * The trust rule: every `X-Forwarded-*` header (For, Host, Proto) is believed only when the
 * socket peer is a proxy `TRUST_PROXY` names (client-ip.ts has the grammar). From any other
 * peer they are the client's own words, and anyone can write them.
 */
import { clientAddress, normalize, trustsHop, type TrustProxy } from './client-ip.ts';

export interface RequestContext {
  /** The socket peer, normalized (`::ffff:` and ports stripped); undefined when unknown. */
  peer: string | undefined;
  /** The peer is a proxy `TRUST_PROXY` names: only then are `X-Forwarded-*` believed. */
  trustedPeer: boolean;
  /** The client: the peer, or behind trusted proxies the right-most untrusted `X-Forwarded-For` hop. */
  clientIp: string | undefined;
  /** The host name the browser asked for, lower case, without a port. */
  host: string;
  /** The scheme the browser used. */
  protocol: 'http' | 'https';
  /** `protocol://host[:port]` as the browser addressed it, lower case: what a same-origin `Origin` equals. */
  origin: string;
}

/**
 * The context of `request` from `peer`, the socket's remote address as the runtime reports it.
 *
 * @example
 *   requestContext(request, url, req.socket.remoteAddress, parseTrustProxy('10.0.0.0/8'))
 */
export function requestContext(request: Request, url: URL, peer: string | undefined, trust: TrustProxy): RequestContext {
  const address = peer ? normalize(peer) : undefined;
  const trustedPeer = address !== undefined && trustsHop(trust, address);
  if (!trustedPeer) {
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return { peer: address, trustedPeer, clientIp: address, host: url.hostname, protocol, origin: url.origin.toLowerCase() };
  }
  const forwardedHost = first(request.headers.get('x-forwarded-host'))?.toLowerCase();
  const forwardedProto = first(request.headers.get('x-forwarded-proto'))?.toLowerCase();
  const protocol = url.protocol === 'https:' || forwardedProto === 'https' ? 'https' : 'http';
  const hostAndPort = forwardedHost ?? url.host.toLowerCase();
  return {
    peer: address,
    trustedPeer,
    clientIp: clientAddress(address, request.headers.get('x-forwarded-for'), trust),
    host: forwardedHost ? forwardedHost.replace(/:\d+$/, '') : url.hostname,
    protocol,
    origin: `${forwardedProto ?? url.protocol.slice(0, -1)}://${hostAndPort}`,
  };
}

/** The first of a proxy chain's comma-separated values: what the outermost proxy saw. */
function first(value: string | null): string | undefined {
  const v = value?.split(',')[0]?.trim();
  return v ? v : undefined;
}
