import { describe, expect, it } from 'vitest';
import { clientAddress, normalize, parseTrustProxy, trustNothing } from '../../src/relay/client-ip.ts';

describe('normalize', () => {
  it.each<[string, string]>([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['::1', '::1'],
  ])('%j → %j', (raw, address) => {
    expect(normalize(raw)).toBe(address);
  });
});

describe('parseTrustProxy', () => {
  it.each<[string | undefined]>([[undefined], [''], ['false'], ['0'], ['off'], ['none'], [' FALSE ']])('trusts nothing for %j', (value) => {
    expect(parseTrustProxy(value)).toBe(trustNothing);
  });

  it.each<[string, string, boolean]>([
    ['loopback', '127.0.0.1', true],
    ['loopback', '127.255.0.9', true],
    ['loopback', '::1', true],
    ['loopback', '10.0.0.1', false],
    ['private', '10.200.0.1', true],
    ['private', '172.16.0.1', true],
    ['private', '172.31.255.255', true],
    ['private', '172.32.0.1', false],
    ['private', '192.168.1.1', true],
    ['private', 'fd12:3456::1', true],
    ['private', 'fe80::1', true],
    ['private', '2001:db8::1', false],
    ['private', '8.8.8.8', false],
    ['10.1.2.3', '10.1.2.3', true],
    ['10.1.2.3', '10.1.2.4', false],
    ['10.0.0.0/8', '10.9.9.9', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8::1', '2001:db8:0:0:0:0:0:1', true],
    ['2001:db8::1', '2001:db8::2', false],
    ['::/0', '2001:db8::1', true],
    ['::/0', '1.2.3.4', false],
    ['0.0.0.0/0', '1.2.3.4', true],
    ['0.0.0.0/0', '::1', false],
    ['10.0.0.0/8, 2001:db8::/32', '2001:db8::5', true],
    ['2', '8.8.8.8', false],
  ])('%s trusts %s: %s', (value, address, trusted) => {
    const trust = parseTrustProxy(value);
    expect(trust.enabled).toBe(true);
    expect(trust.trusts(address)).toBe(trusted);
  });

  it.each<[string, number]>([
    ['1', 1],
    ['3', 3],
    ['1, loopback', 1],
    ['2,5', 5],
  ])('reads the hop count of %j as %i', (value, hops) => {
    expect(parseTrustProxy(value).hops).toBe(hops);
  });

  it.each<[string, RegExp]>([
    ['true', /would believe any forged X-Forwarded-For/],
    ['banana', /"banana\/32" is not an IP address/],
    ['10.0.0.0/33', /"10.0.0.0\/33"/],
    ['300.1.1.1', /"300.1.1.1\/32"/],
    ['2001:db8::/129', /"2001:db8::\/129"/],
    ['2001:db8:::1', /is not an IP address/],
    ['1:2:3:4:5:6:7:8:9', /is not an IP address/],
    ['10.0.0.0/x', /is not an IP address/],
  ])('refuses %j', (value, message) => {
    expect(() => parseTrustProxy(value)).toThrow(message);
  });
});

describe('clientAddress', () => {
  it.each<[string, string | undefined, string | null, string, string | undefined]>([
    // Nothing trusted: the socket peer, whatever the headers say.
    ['no proxy', '203.0.113.9', '1.1.1.1', 'false', '203.0.113.9'],
    ['no peer', undefined, '1.1.1.1', 'loopback', undefined],
    ['a mapped IPv4 peer', '::ffff:203.0.113.9', null, 'false', '203.0.113.9'],
    // A trusted proxy: the right-most hop that is not trusted.
    ['one trusted proxy', '127.0.0.1', '203.0.113.9', 'loopback', '203.0.113.9'],
    ['a forged left part', '127.0.0.1', '6.6.6.6, 203.0.113.9', 'loopback', '203.0.113.9'],
    ['two trusted proxies', '10.0.0.2', '203.0.113.9, 10.0.0.1', 'private', '203.0.113.9'],
    ['an untrusted peer', '198.51.100.7', '203.0.113.9', 'loopback', '198.51.100.7'],
    ['a trusted peer without the header', '127.0.0.1', null, 'loopback', '127.0.0.1'],
    ['every hop trusted', '10.0.0.2', '10.0.0.1', 'private', '10.0.0.1'],
    ['a hop count', '198.51.100.7', '6.6.6.6, 203.0.113.9, 192.0.2.1', '2', '203.0.113.9'],
    ['a hop count larger than the chain', '198.51.100.7', '203.0.113.9', '5', '203.0.113.9'],
    ['empty entries', '127.0.0.1', ' , 203.0.113.9,, ', 'loopback', '203.0.113.9'],
    // IPv6 all the way.
    ['an IPv6 client behind an IPv6 proxy', '::1', '2001:db8::7', 'loopback', '2001:db8::7'],
    ['an IPv6 proxy range', '2001:db8:1::2', '2001:db8:ffff::9, 2001:db8:1::1', '2001:db8:1::/48', '2001:db8:ffff::9'],
    ['a bracketed IPv6 hop with a port', '::1', '[2001:DB8::7]:51234', 'loopback', '2001:db8::7'],
    ['an IPv4 client through an IPv6 peer', '::1', '203.0.113.9', 'loopback', '203.0.113.9'],
    ['a mapped IPv4 proxy', '::ffff:10.0.0.1', '203.0.113.9', '10.0.0.0/8', '203.0.113.9'],
  ])('%s', (_name, peer, forwardedFor, trustProxy, expected) => {
    expect(clientAddress(peer, forwardedFor, parseTrustProxy(trustProxy))).toBe(expected);
  });
});
