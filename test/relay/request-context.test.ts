import { describe, expect, it } from 'vitest';
import { parseTrustProxy, trustNothing, type TrustProxy } from '../../src/relay/client-ip.ts';
import { requestContext, type RequestContext } from '../../src/relay/request-context.ts';

const context = (url: string, peer: string | undefined, trust: TrustProxy, headers: Record<string, string> = {}) => requestContext(new Request(url, { headers }), new URL(url), peer, trust);
const FORWARDED = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'WWW.Shop.Example:443' };

describe('requestContext', () => {
  it.each<[string, string, string | undefined, TrustProxy, Record<string, string>, Omit<RequestContext, 'peer'>]>([
    ['https directly', 'https://shop.example/u/e', '198.51.100.1', trustNothing, {}, { trustedPeer: false, clientIp: '198.51.100.1', host: 'shop.example', protocol: 'https', origin: 'https://shop.example' }],
    ['plain http on a port', 'http://Shop.Example:8080/u/e', '198.51.100.1', trustNothing, {}, { trustedPeer: false, clientIp: '198.51.100.1', host: 'shop.example', protocol: 'http', origin: 'http://shop.example:8080' }],
    ['a trusted proxy', 'http://relay.internal/u/e', '127.0.0.1', parseTrustProxy('loopback'), FORWARDED, { trustedPeer: true, clientIp: '203.0.113.7', host: 'www.shop.example', protocol: 'https', origin: 'https://www.shop.example:443' }],
    ['a trusted proxy by hop count', 'http://relay.internal/u/e', '10.9.9.9', parseTrustProxy('1'), FORWARDED, { trustedPeer: true, clientIp: '203.0.113.7', host: 'www.shop.example', protocol: 'https', origin: 'https://www.shop.example:443' }],
    ['a trusted proxy without forwarding headers', 'http://relay.internal/u/e', '127.0.0.1', parseTrustProxy('loopback'), {}, { trustedPeer: true, clientIp: '127.0.0.1', host: 'relay.internal', protocol: 'http', origin: 'http://relay.internal' }],
    ['forwarding headers with TRUST_PROXY off', 'http://relay.internal/u/e', '127.0.0.1', trustNothing, FORWARDED, { trustedPeer: false, clientIp: '127.0.0.1', host: 'relay.internal', protocol: 'http', origin: 'http://relay.internal' }],
    // The case of issue 16: TRUST_PROXY on, and a peer it does not name writes every header.
    ['forwarding headers from a peer TRUST_PROXY does not name', 'http://relay.internal/u/e', '127.0.0.1', parseTrustProxy('192.0.2.1'), FORWARDED, { trustedPeer: false, clientIp: '127.0.0.1', host: 'relay.internal', protocol: 'http', origin: 'http://relay.internal' }],
    ['an unknown peer', 'http://relay.internal/u/e', undefined, parseTrustProxy('1'), FORWARDED, { trustedPeer: false, clientIp: undefined, host: 'relay.internal', protocol: 'http', origin: 'http://relay.internal' }],
  ])('%s', (_name, url, peer, trust, headers, expected) => {
    expect(context(url, peer, trust, headers)).toEqual({ peer, ...expected });
  });

  it('normalizes the peer and believes the first of several forwarded values', () => {
    const ctx = context('http://relay.internal/u/e', '::ffff:127.0.0.1', parseTrustProxy('loopback'), { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'shop.example, relay.internal' });
    expect(ctx).toMatchObject({ peer: '127.0.0.1', trustedPeer: true, origin: 'https://shop.example', host: 'shop.example', protocol: 'https' });
  });
});
