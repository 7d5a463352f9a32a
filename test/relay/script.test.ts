import { describe, expect, it } from 'vitest';
import { createScriptServer, negotiateEncoding, scriptReply, type Coding } from '../../src/relay/script.ts';

describe('negotiateEncoding', () => {
  const both: Coding[] = ['br', 'gzip'];
  it.each([
    ['gzip, deflate, br, zstd', both, 'br'],
    ['br', both, 'br'],
    ['gzip', both, 'gzip'],
    ['x-gzip', both, 'gzip'],
    ['br;q=0, gzip', both, 'gzip'],
    ['br;q=0.4, gzip;q=0.5', both, 'gzip'],
    ['BR;Q=1', both, 'br'],
    ['*', both, 'br'],
    ['*;q=0', both, null],
    ['gzip;q=0, *', both, 'br'],
    ['identity', both, null],
    ['deflate', both, null],
    ['', both, null],
    [null, both, null],
    ['gzip, br', ['gzip'] as Coding[], 'gzip'],
    ['br', ['gzip'] as Coding[], null],
  ])('%j of %j: %s', (header, offered, expected) => expect(negotiateEncoding(header, offered)).toBe(expected));
});

describe('scriptReply', () => {
  const source = 'var e="/u/e";';
  const serve = createScriptServer(() => source, '/u/e', { precompress: () => ({ br: new Uint8Array([1]), gzip: new Uint8Array([2]) }) });
  const get = (headers: Record<string, string>) => scriptReply(serve, new Request('http://relay.test/u.js', { headers }));

  it('gives each coding its own ETag, and a 304 only for the ETag of the coding it would send', async () => {
    const br = await get({ 'accept-encoding': 'br' });
    const gzip = await get({ 'accept-encoding': 'gzip' });
    const plain = await get({});
    expect([br.headers['content-encoding'], gzip.headers['content-encoding'], plain.headers['content-encoding']]).toEqual(['br', 'gzip', undefined]);
    expect(new Set([br.headers['etag'], gzip.headers['etag'], plain.headers['etag']]).size).toBe(3);
    expect(plain.body).toBe(source);
    expect((await get({ 'accept-encoding': 'br', 'if-none-match': br.headers['etag']! })).status).toBe(304);
    expect((await get({ 'accept-encoding': 'gzip', 'if-none-match': br.headers['etag']! })).status).toBe(200);
    for (const reply of [br, gzip, plain]) expect(reply.headers['vary']).toBe('Accept-Encoding');
  });

  it('falls back to gzip by CompressionStream without a compressor', async () => {
    const plain = createScriptServer(() => source, '/u/e');
    const reply = await scriptReply(plain, new Request('http://relay.test/u.js', { headers: { 'accept-encoding': 'gzip, br' } }));
    expect(reply.headers['content-encoding']).toBe('gzip');
  });
});
