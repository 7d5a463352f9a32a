import { describe, expect, it } from 'vitest';
import { applyIpPolicy, pagePolicy } from '../../src/relay/privacy-policy.ts';

describe('pagePolicy', () => {
  it.each([
    ['', { cookie: 'keep', ip: 'keep' }],
    ['?cookie_policy=strict&ip_policy=strict', { cookie: 'strict', ip: 'strict' }],
    ['?cookie_policy=comply&ip_policy=comply', { cookie: 'comply', ip: 'comply' }],
    ['?cookie_policy=bogus&ip_policy=KEEP', { cookie: 'keep', ip: 'keep' }],
    // u.js's short names
    ['?c=strict&i=comply', { cookie: 'strict', ip: 'comply' }],
    ['?c=keep&i=keep', { cookie: 'keep', ip: 'keep' }],
  ])('reads %j', (query, expected) => {
    expect(pagePolicy(new URL('https://relay.test/u/e' + query))).toEqual(expected);
  });
});

describe('applyIpPolicy', () => {
  it.each([
    ['203.0.113.77', 'keep', '203.0.113.77'],
    ['203.0.113.77', 'strict', undefined],
    ['203.0.113.77', 'comply', '203.0.113.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', 'comply', '2001:db8:85a3::'],
    ['2001:db8::1', 'comply', '2001:db8:0::'],
    ['::1', 'comply', '0:0:0::'],
    ['2001:db8::1', 'strict', undefined],
    [undefined, 'comply', undefined],
  ] as const)('%s under %s is %s', (ip, policy, expected) => {
    expect(applyIpPolicy(ip, policy)).toBe(expected);
  });
});
