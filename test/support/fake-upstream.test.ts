import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';

// The fake is what every forwarding test trusts, so it is specified too.
let up: FakeUpstream;
beforeAll(async () => {
  up = await startFakeUpstream({ apiKey: 'k1', serverToken: 's1' });
});
afterAll(() => up.close());

const post = (body: string, path = '/api/v1/s2s/event?token=k1.s1') => fetch(up.url + path, { method: 'POST', body });

describe('fake upstream', () => {
  it.each([
    ['a wrong path', '/api/v1/event?token=k1.s1', '[{"event_type":"a"}]', 404],
    ['a wrong token', '/api/v1/s2s/event?token=k1.nope', '[{"event_type":"a"}]', 401],
    ['a missing token', '/api/v1/s2s/event', '[{"event_type":"a"}]', 401],
    ['a body that is not JSON', undefined, '[{', 400],
    ['an event without event_type', undefined, '[{"x":1}]', 400],
    ['an array of non-objects', undefined, '[1]', 400],
  ])('refuses %s', async (_name, path, body, status) => {
    const res = await post(body, path);
    expect(res.status).toBe(status);
    expect(up.events).toHaveLength(0);
  });

  it('accepts one event or an array and records them', async () => {
    up.clear();
    expect(await (await post('{"event_type":"a","event_id":"1"}')).json()).toEqual({ status: 'ok' });
    await post('[{"event_type":"b","event_id":"2"},{"event_type":"c","event_id":"2"}]');
    expect(up.events.map((e) => e['event_type'])).toEqual(['a', 'b', 'c']);
    expect([...up.eventIds()]).toEqual(['1', '2']);
  });

  it('fails a given number of times with Retry-After, then heals itself', async () => {
    up.fail(429, { retryAfter: 7, count: 1 });
    const first = await post('[{"event_type":"a"}]');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await post('[{"event_type":"a"}]')).status).toBe(200);
  });

  it('answers 400 to a batch holding a poisoned event', async () => {
    up.reject((e) => e['event_type'] === 'bad');
    expect((await post('[{"event_type":"ok"},{"event_type":"bad"}]')).status).toBe(400);
    expect((await post('[{"event_type":"ok"}]')).status).toBe(200);
    up.heal();
  });

  it.each(['hang', 'reset'] as const)('can %s connections', async (mode) => {
    up.clear();
    up[mode]();
    // A fresh connection (no keep-alive) so the client cannot quietly retry on another socket.
    const res = new Promise<number>((resolve, reject) => {
      const req = request(up.url + '/api/v1/s2s/event?token=k1.s1', { method: 'POST', agent: false }, (r) => resolve(r.statusCode ?? 0));
      req.on('error', reject);
      req.end('[{"event_type":"a"}]');
    });
    await up.waitFor((u) => u.requests.length === 1);
    up.heal();
    await expect(res).rejects.toThrow();
  });

  it('waitFor throws with what arrived on timeout', async () => {
    await expect(up.waitFor(() => false, 100)).rejects.toThrow(/request\(s\)/);
  });
});
