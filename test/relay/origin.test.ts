import { describe, expect, it } from 'vitest';
import { parseTrustProxy, trustNothing, type TrustProxy } from '../../src/relay/client-ip.ts';
import { RelayError } from '../../src/relay/errors.ts';
import { corsHeaders, createOriginPolicy } from '../../src/relay/origin.ts';
import { requestContext } from '../../src/relay/request-context.ts';

const SITE = 'https://shop.example';
const request = (headers: Record<string, string>, url = `${SITE}/u/e`) => ({ request: new Request(url, { method: 'POST', headers }), url: new URL(url) });
const behindProxy = parseTrustProxy('loopback');
/** Every request here comes from 127.0.0.1: a trusted proxy under `behindProxy`. */
const PEER = '127.0.0.1';

/** What `check` answers: 'same' (no CORS), the Origin to echo, or 403. */
function verdict(allowed: string[], trust: TrustProxy, headers: Record<string, string>, useReferer = false, url?: string): string | number {
  const { request: r, url: u } = request(headers, url);
  try {
    return createOriginPolicy(allowed).check(r, requestContext(r, u, PEER, trust), useReferer) ?? 'same';
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    return (error as RelayError).status;
  }
}

describe('origin check', () => {
  it.each<[string, string[], Record<string, string>, string | number]>([
    // ALLOWED_ORIGINS empty: anyone may post; cross-origin senders get CORS.
    ['no Origin, any origin allowed', [], {}, 'same'],
    ['the same origin', [], { origin: SITE }, 'same'],
    ['the same origin in upper case', [], { origin: 'HTTPS://SHOP.EXAMPLE' }, 'same'],
    ['Origin "null" (sandboxed frame, file:)', [], { origin: 'null' }, 'same'],
    ['a cross origin, echoed for CORS', [], { origin: 'https://blog.example' }, 'https://blog.example'],
    ['another port is another origin', [], { origin: 'https://shop.example:8443' }, 'https://shop.example:8443'],
    ['http is another origin than https', [], { origin: 'http://shop.example' }, 'http://shop.example'],
    // ALLOWED_ORIGINS set: listed, or same-origin, or 403.
    ['a listed origin', ['https://blog.example'], { origin: 'https://blog.example' }, 'https://blog.example'],
    ['a listed origin given with a slash and in capitals', ['HTTPS://Blog.Example/'], { origin: 'https://blog.example' }, 'https://blog.example'],
    ['the same origin, unlisted', ['https://blog.example'], { origin: SITE }, 'same'],
    ['an unlisted origin', ['https://blog.example'], { origin: 'https://evil.example' }, 403],
    ['a look-alike origin', ['https://blog.example'], { origin: 'https://blog.example.evil.example' }, 403],
    ['no Origin', ['https://blog.example'], {}, 403],
    ['Origin "null"', ['https://blog.example'], { origin: 'null' }, 403],
  ])('POST with %s → %j', (_name, allowed, headers, expected) => {
    expect(verdict(allowed, trustNothing, headers)).toBe(expected);
  });

  // Image requests carry no Origin: the pixel checks the Referer's origin instead.
  it.each<[string, string[], Record<string, string>, string | number]>([
    ['a same-site Referer', ['https://blog.example'], { referer: `${SITE}/pricing?a=1` }, 'same'],
    ['a listed Referer', ['https://blog.example'], { referer: 'https://blog.example/post' }, 'https://blog.example'],
    ['a foreign Referer', ['https://blog.example'], { referer: 'https://evil.example/' }, 403],
    ['a Referer that is not a URL', ['https://blog.example'], { referer: 'not a url' }, 403],
    ['no Referer', ['https://blog.example'], {}, 403],
    ['no Referer, any origin allowed', [], {}, 'same'],
    ['an Origin, which wins over the Referer', ['https://blog.example'], { origin: 'https://blog.example', referer: 'https://evil.example/' }, 'https://blog.example'],
  ])('pixel with %s → %j', (_name, allowed, headers, expected) => {
    expect(verdict(allowed, trustNothing, headers, true)).toBe(expected);
  });

  // Behind a trusted proxy the site's origin is X-Forwarded-Proto + X-Forwarded-Host.
  it.each<[string, TrustProxy, Record<string, string>, string | number]>([
    ['the forwarded origin, trusted', behindProxy, { origin: SITE, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' }, 'same'],
    ['the first of several forwarded values', behindProxy, { origin: SITE, 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'shop.example, relay.internal' }, 'same'],
    ['the forwarded origin, untrusted', trustNothing, { origin: SITE, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' }, 403],
    ['a forged forwarded host, trusted, still checked', behindProxy, { origin: 'https://evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' }, 403],
    // TRUST_PROXY set, but the peer is not the proxy it names: its X-Forwarded-* are its own words.
    ['the forwarded origin from a peer TRUST_PROXY does not name', parseTrustProxy('192.0.2.1'), { origin: SITE, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' }, 403],
    ['a forged origin that matches forged forwarded headers, untrusted peer', parseTrustProxy('192.0.2.1'), { origin: 'https://evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }, 403],
  ])('%s → %j', (_name, trust, headers, expected) => {
    expect(verdict(['https://blog.example'], trust, headers, false, 'http://relay.internal:8080/u/e')).toBe(expected);
  });
});

describe('preflight', () => {
  it.each<[string, string[], Record<string, string>, number, Record<string, string | null>]>([
    ['from a listed origin', ['https://blog.example'], { origin: 'https://blog.example' }, 204, {
      'access-control-allow-origin': 'https://blog.example', 'access-control-allow-credentials': 'true', vary: 'Origin',
      'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400',
    }],
    ['from the same origin', [], { origin: SITE }, 204, { 'access-control-allow-origin': null, 'access-control-allow-methods': 'POST, OPTIONS' }],
  ])('answers %s', (_name, allowed, headers, status, expected) => {
    const { request: r, url } = request(headers);
    const reply = createOriginPolicy(allowed).preflight(r, requestContext(r, url, PEER, trustNothing));
    expect(reply.status).toBe(status);
    for (const [name, value] of Object.entries(expected)) expect(reply.headers[name] ?? null, name).toBe(value);
  });

  it('refuses an unlisted origin with 403', () => {
    const { request: r, url } = request({ origin: 'https://evil.example' });
    expect(() => createOriginPolicy(['https://blog.example']).preflight(r, requestContext(r, url, PEER, trustNothing))).toThrow(expect.objectContaining({ status: 403, code: 'origin' }));
  });
});

describe('corsHeaders', () => {
  it('adds nothing without a cross origin', () => {
    const headers: Record<string, string> = {};
    corsHeaders(headers, undefined);
    expect(headers).toEqual({});
  });
});
