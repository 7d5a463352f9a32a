import { describe, expect, it } from 'vitest';
import { lightRequest } from '../../src/relay-node/light-request.ts';

const raw = ['Host', 'relay.test', 'Content-Type', 'text/plain', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'Cookie', 'a=1'];

describe('lightRequest', () => {
  it('answers url, method and header lookups like a Request', () => {
    const r = lightRequest('http://relay.test/u/e?x=1', 'POST', raw);
    expect(r.url).toBe('http://relay.test/u/e?x=1');
    expect(r.method).toBe('POST');
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.get('X-FORWARDED-FOR')).toBe('1.1.1.1, 2.2.2.2');
    expect(r.headers.get('missing')).toBeNull();
    expect(r.headers.has('cookie')).toBe(true);
  });

  it('passes instanceof checks', () => {
    const r = lightRequest('http://relay.test/', 'GET', raw);
    expect(r).toBeInstanceOf(Request);
    expect(r.headers).toBeInstanceOf(Headers);
    expect(Object.prototype.toString.call(r)).toBe('[object Request]');
  });

  it('builds the real Request for everything else: body, text, iteration, signal', async () => {
    const r = lightRequest('http://relay.test/u/e', 'POST', raw, new TextEncoder().encode('hello'));
    expect(r.bodyUsed).toBe(false);
    expect(await r.text()).toBe('hello');
    expect(r.bodyUsed).toBe(true);
    expect([...r.headers].find(([k]) => k === 'x-forwarded-for')?.[1]).toBe('1.1.1.1, 2.2.2.2');
    expect(r.signal).toBeInstanceOf(AbortSignal);
    expect(r.clone).toBeTypeOf('function');
  });

  it('has a null body without bytes', () => {
    expect(lightRequest('http://relay.test/', 'GET', raw).body).toBeNull();
  });
});
