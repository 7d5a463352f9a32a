/**
 * The built Worker under Miniflare (the real workerd, in-memory Queues): what it promises at
 * the edge. Each test starts its own runtime, so queue state never leaks between them.
 * Miniflare keeps its queues in memory, so the queue's own durability is not tested here: it
 * rests on Cloudflare's documentation (a send resolves once the message is persisted).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { startEdge, type Edge } from './support/edge.ts';

let edge: Edge | undefined;
afterEach(async () => {
  await edge?.close();
  edge = undefined;
});

const event = (id: string, extra: Record<string, unknown> = {}) => ({ event_type: 'pageview', event_id: id, ...extra });
const post = (base: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: JSON.stringify(body) });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('Worker under Miniflare', () => {
  it('delivers 1,000 events from concurrent clients, in bulk', async () => {
    edge = await startEdge();
    const { url, upstream } = edge;
    // 20 clients, each posting 10 batches of 5 events one after another.
    const clients = Array.from({ length: 20 }, async (_, c) => {
      for (let b = 0; b < 10; b++) {
        const res = await post(url, ids(`c${c}-b${b}`, 5).map((id) => event(id)), { 'cf-connecting-ip': `203.0.113.${c + 1}` });
        expect(res.status).toBe(200);
      }
    });
    await Promise.all(clients);
    await edge.waitFor(() => upstream.eventIds().size === 1000);
    const requests = upstream.accepted().length;
    // Queues hands the consumer up to 100 messages at a time: 10 requests at best; a loaded
    // machine fills fewer batches before their 0.2 s timeout, but each request stays bulk.
    expect(requests).toBeGreaterThanOrEqual(10);
    expect(requests).toBeLessThanOrEqual(100);
    expect(upstream.events.every((e) => e['api_key'] === upstream.apiKey)).toBe(true);
  });

  it('rides out upstream 503 blips', async () => {
    edge = await startEdge();
    const { url, upstream } = edge;
    upstream.fail(503, { count: 3 });
    for (const chunk of [0, 1, 2, 3]) expect((await post(url, ids(`blip${chunk}`, 50).map((id) => event(id)))).status).toBe(200);
    await edge.waitFor(() => upstream.eventIds().size === 200, 30_000);
    expect(upstream.requests.filter((r) => r.status === 503).length).toBe(3);
    expect(edge.batches().some((b) => (b['retried'] as number) > 0)).toBe(true);
  });

  it('holds events through an outage longer than one consumer invocation, then delivers them all', async () => {
    // max_retries 1: a message on its second delivery is sent to the queue again instead.
    edge = await startEdge({ consumer: { maxRetries: 1 } });
    const { url, upstream } = edge;
    // Retry-After 2: the back-off alone would wait 1 s on the first retries.
    upstream.fail(503, { retryAfter: 2 });
    expect((await post(url, ids('out', 40).map((id) => event(id)))).status).toBe(200);
    // Three invocations that could not deliver, each handing the events back with a delay.
    await edge.waitFor(() => edge!.batches().filter((b) => (b['retried'] as number) + (b['requeued'] as number) > 0).length >= 3, 30_000);
    const failing = edge.lines().filter((l) => l['msg'] === 'upstream failing');
    expect(failing.every((l) => l['delaySeconds'] === 2)).toBe(true);
    expect(edge.batches().some((b) => (b['requeued'] as number) > 0)).toBe(true);
    upstream.heal();
    await edge.waitFor(() => upstream.eventIds().size === 40, 30_000);
    expect(edge.deadLetters()).toEqual([]);
  });

  it('dead-letters refused events while their neighbours arrive', async () => {
    edge = await startEdge();
    const { url, upstream } = edge;
    upstream.reject((e) => e['event_type'] === 'poison', 400);
    const batch = ids('n', 30).map((id, i) => (i % 10 === 3 ? event(id, { event_type: 'poison' }) : event(id)));
    expect((await post(url, batch)).status).toBe(200);
    await edge.waitFor(() => upstream.eventIds().size === 27 && edge!.deadLetters().length === 3);
    const dead = edge.deadLetters();
    expect(dead.map((d) => d.event['event_id']).sort()).toEqual(['n-13', 'n-23', 'n-3']);
    expect(dead.every((d) => d.status === 400 && d.reason.includes('400'))).toBe(true);
    expect(upstream.events.some((e) => e['event_type'] === 'poison')).toBe(false);
  });

  it('dead-letters a refused event as big as the relay stores, whatever its JSON escapes', async () => {
    // 32,600 quotes: a request just under the 64 KiB the relay reads (each quote is `\"` in
    // JSON). Kept as a string holding JSON, the dead letter escaped each escape again
    // (`\\\"`: ~130 KB), over the queue's 128 KB message: the send failed and the event was
    // retried every minute, never dead-lettered.
    edge = await startEdge();
    const { url, upstream } = edge;
    upstream.reject((e) => e['event_type'] === 'poison', 400);
    const quotes = '"'.repeat(32_600);
    expect((await post(url, [event('q-0'), event('q-big', { event_type: 'poison', event_attributes: { quotes } }), event('q-1')])).status).toBe(200);
    await edge.waitFor(() => upstream.eventIds().size === 2 && edge!.deadLetters().length === 1);
    const [dead] = edge.deadLetters();
    expect(dead).toMatchObject({ status: 400, event: { event_id: 'q-big', event_attributes: { quotes } } });
    expect(edge.lines().filter((l) => l['msg'] === 'queue send failed')).toEqual([]);
  });

  it('re-sends under the same event_id when the consumer crashes after the upstream accepted, losing none', async () => {
    edge = await startEdge({ crashOnce: true });
    const { url, upstream } = edge;
    expect((await post(url, ids('crash', 20).map((id) => event(id)))).status).toBe(200);
    await edge.waitFor(() => edge!.output().some((l) => l.startsWith('CRASH')) && upstream.events.length === 40);
    expect(upstream.eventIds().size).toBe(20);
    const copies = new Map<unknown, number>();
    for (const e of upstream.events) copies.set(e['event_id'], (copies.get(e['event_id']) ?? 0) + 1);
    expect([...copies.values()].every((n) => n === 2)).toBe(true);
  });

  it.each([
    ['fails', 'throw' as const, {}],
    ['never settles', 'hang' as const, { QUEUE_SEND_TIMEOUT_MS: '300' }],
  ])('answers 503 with a reason, never 2xx, when the queue send %s', async (_, queueFault, vars) => {
    edge = await startEdge({ queueFault, vars });
    const res = await post(edge.url, [event('q-1')]);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['error']).toBe('queue_unavailable');
    expect(String(body['message'])).toMatch(queueFault === 'hang' ? /within 300 ms/ : /refused/);
    // The pixel stores through the same queue.
    expect((await fetch(`${edge.url}/u/p.gif`)).status).toBe(503);
  });

  it('sends a request of 500 events to the queue in batches it accepts', async () => {
    edge = await startEdge();
    expect((await post(edge.url, ids('big', 500).map((id) => event(id)))).status).toBe(200);
    await edge.waitFor(() => edge!.upstream.eventIds().size === 500);
  });

  it('sets api_key and source_ip itself, whatever the client sent', async () => {
    edge = await startEdge();
    const res = await edge.mf.dispatchFetch(`http://site.test/u/e`, {
      method: 'POST',
      headers: { 'cf-connecting-ip': '203.0.113.7', 'x-forwarded-for': '198.51.100.1' },
      body: JSON.stringify([event('forged', { api_key: 'someone-else', source_ip: '6.6.6.6', token: 'x.y' })]),
    });
    expect(res.status).toBe(200);
    await edge.waitFor(() => edge!.upstream.eventIds().has('forged'));
    const [sent] = edge.upstream.events;
    expect(sent).toMatchObject({ api_key: edge.upstream.apiKey, source_ip: '203.0.113.7' });
    expect(sent).not.toHaveProperty('token');
  });

  it('posts under the path of a USERMAVEN_URL that has one (an egress proxy), and logs the full endpoint', async () => {
    const proxy = await startFakeUpstream({ prefix: '/usermaven' });
    try {
      edge = await startEdge({ upstream: proxy });
      expect((await post(edge.url, [event('proxied')])).status).toBe(200);
      await edge.waitFor(() => proxy.eventIds().has('proxied'));
      expect(proxy.accepted().map((q) => q.path)).toEqual(['/usermaven/api/v1/s2s/event']);
      expect(edge.lines().find((l) => l['msg'] === 'listening')).toMatchObject({ mode: 'edge', upstream: `${proxy.url}/api/v1/s2s/event` });
      expect(edge.output().join('\n')).not.toContain(proxy.serverToken);
    } finally {
      await edge?.close();
      edge = undefined;
      await proxy.close();
    }
  });

  it('holds events back, not loses them, while the consumer has no token', async () => {
    edge = await startEdge({ split: true, serverToken: '' });
    expect((await post(edge.url, [event('nokey-1')])).status).toBe(200);
    await edge.waitFor(() => edge!.lines().some((l) => l['msg'] === 'misconfigured' && String(l['reason']).includes('USERMAVEN_SERVER_TOKEN')));
    await edge.waitFor(() => edge!.batches().some((b) => (b['retried'] as number) > 0));
    expect(edge.upstream.requests).toEqual([]);
  });

  it('answers 503 naming the setting when USERMAVEN_API_KEY is missing', async () => {
    edge = await startEdge({ vars: { USERMAVEN_API_KEY: '' } });
    const res = await post(edge.url, [event('x')]);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'misconfigured', message: expect.stringContaining('USERMAVEN_API_KEY') });
  });
});

describe('the server token at the edge', () => {
  it('appears in no response, header or runtime log line', async () => {
    edge = await startEdge({ vars: { ALLOWED_ORIGINS: 'https://site.test' } });
    const { url, upstream, serverToken } = edge;
    // An upstream that echoes the request target, token and all, in its error bodies: once
    // refusing an event for good (its reason goes to the dead letter; next to an event it takes,
    // since a lone refusal proves nothing), then failing twice.
    const echo = (target: string) => `cannot handle ${target}`;
    const seen: string[] = [];
    const record = async (res: Response) => seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    const site = { origin: 'https://site.test' };
    upstream.reject((e) => e['event_id'] === 't-dead', 422, { body: echo });
    await record(await post(url, [event('t-dead'), event('t-taken')], site));
    await edge.waitFor(() => edge!.deadLetters().length === 1);
    upstream.fail(500, { body: echo, count: 2 });
    upstream.reject((e) => e['event_type'] === 'poison', 400);
    await record(await post(url, [event('t-1'), event('t-2', { event_type: 'poison' })], site));
    await record(await post(url, '{not json', site));
    await record(await post(url, [event('t-0')]));
    await record(await post(url, [event('t-3')], { origin: 'https://evil.test' }));
    await record(await fetch(`${url}/api/v1/event?token=${upstream.apiKey}.${serverToken}`, { method: 'POST', body: '[]', headers: site }));
    for (const path of ['/u.js', '/healthz', '/u/p.gif', '/_events', '/nope']) await record(await fetch(`${url}${path}`));
    await edge.waitFor(() => upstream.eventIds().has('t-1') && edge!.deadLetters().length === 2);
    expect(edge.deadLetters()[0]!.reason).toContain('cannot handle');
    expect(edge.lines().some((l) => l['msg'] === 'upstream failing')).toBe(true);
    expect(seen.filter((s) => s.includes(serverToken))).toEqual([]);
    expect(edge.output().filter((l) => l.includes(serverToken))).toEqual([]);
    expect(edge.deadLetters().filter((d) => JSON.stringify(d).includes(serverToken))).toEqual([]);
  });

  it('is absent from the edge Worker of a split deployment, which still delivers through the consumer', async () => {
    edge = await startEdge({ split: true });
    const bindings = await edge.mf.getBindings(edge.names.edge);
    expect(Object.keys(bindings)).not.toContain('USERMAVEN_SERVER_TOKEN');
    expect(JSON.stringify(bindings)).not.toContain(edge.serverToken);
    expect((await post(edge.url, [event('split-1')])).status).toBe(200);
    await edge.waitFor(() => edge!.upstream.eventIds().has('split-1'));
    expect(Object.keys(await edge.mf.getBindings(edge.names.consumer))).toContain('USERMAVEN_SERVER_TOKEN');
  });
});

describe('metrics at the edge (one "metrics" log line per invocation)', () => {
  it('logs the Node relay\'s families, and summed over the lines they add up', async () => {
    edge = await startEdge();
    const { url, upstream } = edge;
    upstream.reject((e) => e['event_type'] === 'poison', 400);
    expect((await post(url, [event('m-1'), event('m-2'), { event_id: 'no-type' }])).status).toBe(200);
    expect((await post(url, [event('m-3'), event('m-4', { event_type: 'poison' })])).status).toBe(200);
    expect((await post(url, '{not json')).status).toBe(400);
    expect((await fetch(`${url}/u/p.gif?url=https%3A%2F%2Fsite.test%2F`)).status).toBe(200);
    expect((await fetch(`${url}/u.js`)).status).toBe(200);
    await edge.waitFor(() => upstream.eventIds().size === 4 && edge!.deadLetters().length === 1);
    const metrics = () => edge!.lines().filter((l) => l['msg'] === 'metrics');
    const sum = (family: string, key?: string) =>
      metrics().reduce((n, l) => {
        const v = l[family] as number | Record<string, number> | undefined;
        return n + (typeof v === 'number' ? v : v ? (key ? v[key] ?? 0 : Object.values(v).reduce((a, b) => a + b, 0)) : 0);
      }, 0);
    await edge.waitFor(() => sum('umbeacon_events_forwarded_total') === 4 && sum('umbeacon_events_dead_lettered_total') === 1);
    expect(sum('umbeacon_events_received_total', 'tracker')).toBe(4);
    expect(sum('umbeacon_events_received_total', 'pixel')).toBe(1);
    expect(sum('umbeacon_events_rejected_total', 'event_type')).toBe(1);
    expect(sum('umbeacon_events_rejected_total', 'not_object')).toBe(1);
    expect(sum('umbeacon_events_received_total')).toBe(sum('umbeacon_events_forwarded_total') + sum('umbeacon_events_dead_lettered_total'));
    expect(sum('umbeacon_upstream_requests_total', '200')).toBeGreaterThanOrEqual(1);
    expect(sum('umbeacon_upstream_requests_total', '400')).toBeGreaterThanOrEqual(1);
    // The script and other reads count nothing, so they log no line.
    expect(metrics().every((l) => Object.keys(l).some((k) => k.startsWith('umbeacon_')))).toBe(true);
  });
});
