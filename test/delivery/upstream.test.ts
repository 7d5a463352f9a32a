import { describe, expect, it } from 'vitest';
import { redact } from '../../src/delivery/redact.ts';
import { createUpstream, isRetryableStatus, s2sEndpoint } from '../../src/delivery/upstream.ts';

const secret = 's3cr3t-server-token';

function fakeFetch(handler: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; body: string }[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), body: String(init?.body) });
    return handler(String(input), init ?? {});
  }) as typeof fetch;
  return { fn, calls };
}

describe('createUpstream', () => {
  it('posts the body to the s2s path with key.token', async () => {
    const f = fakeFetch(() => new Response('{"status":"ok"}'));
    const up = createUpstream({ url: 'https://um.example', apiKey: 'key1', serverToken: secret, fetch: f.fn });
    expect(await up.send('[{"event_type":"a"}]')).toEqual({ kind: 'ok', status: 200 });
    expect(f.calls[0]?.url).toBe(`https://um.example/api/v1/s2s/event?token=key1.${secret}`);
    expect(f.calls[0]?.body).toBe('[{"event_type":"a"}]');
    expect(up.host).toBe('um.example');
  });

  it.each([
    ['https://proxy.example/usermaven', 'https://proxy.example/usermaven/api/v1/s2s/event'],
    ['https://proxy.example/usermaven/', 'https://proxy.example/usermaven/api/v1/s2s/event'],
    ['https://proxy.example/a/b', 'https://proxy.example/a/b/api/v1/s2s/event'],
    ['https://um.example/', 'https://um.example/api/v1/s2s/event'],
    ['http://127.0.0.1:8081', 'http://127.0.0.1:8081/api/v1/s2s/event'],
  ])('posts under the path of %s as a prefix (an egress proxy)', async (url, endpoint) => {
    const f = fakeFetch(() => new Response('{"status":"ok"}'));
    await createUpstream({ url, apiKey: 'key1', serverToken: secret, fetch: f.fn }).send('[]');
    expect(f.calls[0]?.url).toBe(`${endpoint}?token=key1.${secret}`);
    expect(s2sEndpoint(url)).toBe(endpoint);
  });

  it.each([
    [500, 'retry'],
    [503, 'retry'],
    [408, 'retry'],
    [429, 'retry'],
    [400, 'reject'],
    [401, 'reject'],
    [413, 'reject'],
  ] as const)('classifies %i as %s', async (status, kind) => {
    const f = fakeFetch(() => new Response('nope', { status }));
    const up = createUpstream({ apiKey: 'k', serverToken: secret, fetch: f.fn });
    const result = await up.send('[]');
    expect(result.kind).toBe(kind);
    expect(result.status).toBe(status);
  });

  it('honours Retry-After on 429', async () => {
    const f = fakeFetch(() => new Response('slow down', { status: 429, headers: { 'retry-after': '7' } }));
    const result = await createUpstream({ apiKey: 'k', serverToken: secret, fetch: f.fn }).send('[]');
    expect(result).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
  });

  it('turns a network error into a retry without the token in the reason', async () => {
    const f = fakeFetch((url) => {
      throw new TypeError(`fetch failed for ${url}`);
    });
    const result = await createUpstream({ apiKey: 'k', serverToken: secret, fetch: f.fn }).send('[]');
    expect(result.kind).toBe('retry');
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('redacts the token when the upstream echoes it', async () => {
    const f = fakeFetch((url) => new Response(`bad request to ${url}`, { status: 400 }));
    const result = await createUpstream({ apiKey: 'k', serverToken: secret, fetch: f.fn }).send('[]');
    expect(result.kind).toBe('reject');
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(result)).toContain('[redacted]');
  });

  it('times out a hanging upstream as a retry', async () => {
    const f = fakeFetch(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const result = await createUpstream({ apiKey: 'k', serverToken: secret, fetch: f.fn, timeoutMs: 20 }).send('[]');
    expect(result).toMatchObject({ kind: 'retry', status: 0, reason: 'upstream timed out after 20 ms' });
  });
});

describe('answer classes', () => {
  it('retries 5xx, 408 and 429 only', () => {
    expect([500, 502, 408, 429, 400, 404, 422].map(isRetryableStatus)).toEqual([true, true, true, true, false, false, false]);
  });

  it('redacts every secret', () => {
    expect(redact('a k.tok b tok', ['tok'])).toBe('a k.[redacted] b [redacted]');
  });
});
