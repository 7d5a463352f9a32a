/**
 * Abusive HTTP over a real socket against the relay in this process (real node:http adapter,
 * real static site). None of it may crash the relay, store anything or reach the upstream.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_SUBSCRIBERS } from '../../src/relay/feed.ts';
import { createRelay } from '../../src/relay/handler.ts';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';
import { bodyOf, rawRequest } from '../support/fault-socket.ts';
import { buildOnce, spawnRelay } from '../support/relay-process.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-SITE';
let upstream: FakeUpstream;
let relay: InProcessRelay;
let data: ReturnType<typeof tempDir>;
let siteDir: string;

beforeEach(async () => {
  upstream = await startFakeUpstream();
  data = tempDir('abuse');
  // <tmp>/secret.txt sits next to the site; <tmp>/site is what the relay serves.
  siteDir = join(data.dir, 'site');
  mkdirSync(join(siteDir, 'sub'), { recursive: true });
  writeFileSync(join(siteDir, 'index.html'), '<h1>site</h1>');
  writeFileSync(join(siteDir, 'sub', 'page.html'), '<h1>sub</h1>');
  writeFileSync(join(siteDir, '.env'), SECRET);
  writeFileSync(join(data.dir, 'secret.txt'), SECRET);
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  await upstream.close();
  data.remove();
});

const start = (options: Parameters<typeof startTestRelay>[2] = {}) => startTestRelay(upstream, join(data.dir, 'data'), { siteDir, ...options });
const event = (extra: Record<string, unknown> = {}) => JSON.stringify([{ event_type: 'abuse', event_id: crypto.randomUUID(), ...extra }]);

/** A POST of `body` to the handler itself, no port (the wall-clock and number tests). */
const postTo = (handler: ReturnType<typeof createRelay>, body: string) =>
  handler(new Request('http://relay.test/u/e', { method: 'POST', headers: { 'content-type': 'text/plain' }, body }), { remoteAddress: '203.0.113.7' });

async function stillServing() {
  const answer = await rawRequest(relay.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(answer.status).toBe(200);
}

function nothingStored() {
  expect(relay.spool.stats().depth).toBe(0);
  expect(upstream.requests).toEqual([]);
}

describe('abusive HTTP', () => {
  it.each([
    ['declared 2 MB, sent slowly', 'Content-Length: 2097152\r\n', 32],
    ['declared 128 kB, sent slowly', 'Content-Length: 131072\r\n', 2],
    ['chunked with no length, sent slowly', 'Transfer-Encoding: chunked\r\n', 32],
  ])('answers 413 to a body over the limit (%s) and stores nothing', async (_name, framing, pieces) => {
    relay = await start();
    const piece = 'x'.repeat(64 * 1024);
    const chunked = framing.startsWith('Transfer');
    const chunks = Array.from({ length: pieces }, () => (chunked ? `${piece.length.toString(16)}\r\n${piece}\r\n` : piece));
    if (chunked) chunks.push('0\r\n\r\n');
    const answer = await rawRequest(relay.port, `POST /u/e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n${framing}\r\n`, { chunks, gapMs: 3 });
    expect(answer.status).toBe(413);
    expect(JSON.parse(bodyOf(answer).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''))).toMatchObject({ status: 'error', error: 'too_large' });
    nothingStored();
    await stillServing();
  });

  it('times out a body that never ends', async () => {
    relay = await start({ requestTimeoutMs: 500 });
    const answer = await rawRequest(relay.port, 'POST /u/e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n', { chunks: ['[{"event_type":"a"'], giveUpMs: 15_000 });
    expect(answer.closedByServer).toBe(true);
    expect([0, 408]).toContain(answer.status);
    nothingStored();
    await stillServing();
  });

  it('times out headers that never end', async () => {
    relay = await start({ requestTimeoutMs: 500 });
    const answer = await rawRequest(relay.port, 'POST /u/e HTTP/1.1\r\nHost: x\r\n', { chunks: ['X-Slow: 1\r\n', 'X-Slower: 2\r\n'], gapMs: 100, giveUpMs: 15_000 });
    expect(answer.closedByServer).toBe(true);
    await stillServing();
  });

  it('answers 431 to oversized headers and keeps serving', async () => {
    relay = await start();
    const answer = await rawRequest(relay.port, `POST /u/e HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\nContent-Length: 2\r\n\r\n[]`);
    expect(answer.status).toBe(431);
    nothingStored();
    await stillServing();
  });

  it('answers 429 with Retry-After to a flood from one address and stores exactly what it acknowledged', async () => {
    // 300 connections at once from one address: the connection cap (tested under "slowloris")
    // would close some before they are answered; this test is about the rate limit.
    relay = await start({ rateLimit: 20, maxConnectionsPerIp: 0 });
    const answers = await Promise.all(
      Array.from({ length: 300 }, () => {
        const body = JSON.stringify(Array.from({ length: 5 }, () => ({ event_type: 'flood', event_id: crypto.randomUUID() })));
        return post(relay.url + '/u/e', body).then((a) => ({ ...a, ids: (JSON.parse(body) as { event_id: string }[]).map((e) => e.event_id) }));
      }),
    );
    const limited = answers.filter((a) => a.status === 429);
    const ok = answers.filter((a) => a.status === 200);
    expect(limited.length).toBeGreaterThan(0);
    expect(ok.length + limited.length).toBe(answers.length);
    expect(limited[0]!.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(limited[0]!.text)).toMatchObject({ error: 'rate_limited' });
    const acked = new Set(ok.flatMap((a) => a.ids));
    await upstream.waitFor((u) => u.eventIds().size >= acked.size);
    expect(upstream.eventIds()).toEqual(acked);
  });

  it.each([
    ['PUT', '/u/e'], ['DELETE', '/u/e'], ['PATCH', '/u/e'], ['GET', '/u/e'], ['PROPFIND', '/u/e'],
    ['POST', '/u.js'], ['PUT', '/u.js'], ['POST', '/healthz'], ['DELETE', '/healthz'], ['POST', '/u/p.gif'], ['PUT', '/api/v1/event'],
  ])('answers 405 with Allow to %s %s', async (method, path) => {
    relay = await start();
    const answer = await rawRequest(relay.port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{"event_type":"x"}  `);
    expect(answer.status).toBe(405);
    expect(answer.text).toMatch(/\r\nallow: [A-Z, ]+\r\n/i);
    nothingStored();
  });

  it('takes the host from Host, never from a path starting with //', async () => {
    relay = await start({ allowedOrigins: ['https://good.test'] });
    const body = event();
    const answer = await rawRequest(
      relay.port,
      `POST //evil.test/u/e HTTP/1.1\r\nHost: relay.test\r\nOrigin: http://evil.test\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer.status).toBe(404);
    nothingStored();
  });

  it('survives CONNECT and TRACE', async () => {
    relay = await start();
    await rawRequest(relay.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', { giveUpMs: 2000 });
    const trace = await rawRequest(relay.port, 'TRACE /u/e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(trace.status).toBe(405);
    await stillServing();
  });
});

describe('a wall clock that jumps', () => {
  // The handler straight (no port), with the wall clock injected: it jumps, the monotonic one
  // (performance.now, the default) does not — as when NTP or an operator steps the clock.

  it('does not lock a visitor out of the rate limit when it steps back an hour', async () => {
    let wall = Date.parse('2026-06-01T12:00:00Z');
    const spool = createMemorySpool();
    const relay = createRelay({ spool, rateLimit: 100, now: () => wall });
    expect((await postTo(relay, event())).status).toBe(200);
    wall -= 3_600_000;
    const res = await postTo(relay, event());
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.status).toBe(200);
    expect(spool.stats().depth).toBe(2);
  });

  it('still recognises a retried event_id when it steps forward an hour', async () => {
    let wall = Date.parse('2026-06-01T12:00:00Z');
    const spool = createMemorySpool();
    const relay = createRelay({ spool, rateLimit: 100, now: () => wall });
    const body = event();
    expect(await (await postTo(relay, body)).json()).toMatchObject({ stored: 1, duplicates: 0 });
    wall += 3_600_000;
    expect(await (await postTo(relay, body)).json()).toMatchObject({ stored: 0, duplicates: 1 });
    expect(spool.stats().depth).toBe(1);
  });
});

describe('numbers out of range', () => {
  const arrival = Date.parse('2026-06-01T12:00:00Z');

  it.each([
    ['_timestamp -1.7e308 with sent_at 1.7e308', '"_timestamp":-1.7e308,"sent_at":1.7e308'],
    ['_timestamp 1.7e308 with sent_at -1.7e308', '"_timestamp":1.7e308,"sent_at":-1.7e308'],
    ['a negative _timestamp', '"_timestamp":-5'],
    ['sent_at -1.7e308 alone', '"sent_at":-1.7e308'],
  ])('takes the receive time for %s, never a null time', async (_, fields) => {
    const spool = createMemorySpool();
    const relay = createRelay({ spool, now: () => arrival });
    const res = await postTo(relay, `[{"event_type":"clock","event_id":"${crypto.randomUUID()}",${fields}}]`);
    expect(res.status).toBe(200);
    const batch = await spool.read(10, 1 << 20);
    expect(batch?.records).toHaveLength(1);
    expect(JSON.parse(batch!.records[0]!)._timestamp).toBe(arrival);
  });

  it.each([
    ['an attribute', '"event_attributes":{"n":1e400}'],
    ['an array item', '"event_attributes":{"list":[1,-1e999]}'],
    ['_timestamp', '"_timestamp":1e400'],
    ['a nested user field', '"user":{"id":"u","custom":{"score":1e309}}'],
  ])('refuses 1e400 in %s with a reason instead of forwarding null', async (_, fields) => {
    const spool = createMemorySpool();
    const relay = createRelay({ spool, now: () => arrival });
    const res = await postTo(relay, `{"event_type":"big",${fields}}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/^(out_of_range|wrong_type)$/), message: expect.stringMatching(/beyond what JSON carries|must be a number/) });
    expect(spool.stats().depth).toBe(0);
  });

  it('refuses only the event holding 1e400 in a batch, storing its neighbours', async () => {
    const spool = createMemorySpool();
    const relay = createRelay({ spool, now: () => arrival });
    const res = await postTo(relay, '[{"event_type":"ok"},{"event_type":"big","event_attributes":{"n":1e400}},{"event_type":"ok"}]');
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toMatch(/out_of_range/);
    expect(spool.stats().depth).toBe(2);
  });
});

describe('slowloris', () => {
  /** A connection from `localAddress` that sends a request line, then one header line every 200 ms, never finishing. */
  function drip(port: number, localAddress: string) {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let closedByServer = false;
    socket.on('error', () => {});
    const timer = setInterval(() => socket.write(`X-Drip-${Math.random().toString(36).slice(2)}: 1\r\n`), 200);
    socket.on('connect', () => socket.write('POST /u/e HTTP/1.1\r\nHost: x\r\n'));
    socket.on('close', () => {
      closedByServer = true;
      clearInterval(timer);
    });
    return {
      get closed() {
        return closedByServer;
      },
      stop: () => {
        clearInterval(timer);
        socket.destroy();
      },
    };
  }

  it('caps the connections one address holds, and keeps serving everyone else', async () => {
    relay = await start({ maxConnectionsPerIp: 20, requestTimeoutMs: 60_000 });
    // The attacker on 127.0.0.2 (all of 127/8 is loopback on Linux); the visitor on 127.0.0.1.
    const drips = Array.from({ length: 60 }, () => drip(relay.port, '127.0.0.2'));
    try {
      await vi.waitFor(() => expect(drips.filter((d) => d.closed).length).toBeGreaterThanOrEqual(40), { timeout: 10_000, interval: 50 });
      const body = event();
      const answer = await post(relay.url + '/u/e', body);
      expect(answer.status).toBe(200);
      const id = (JSON.parse(body) as { event_id: string }[])[0]!.event_id;
      await upstream.waitFor((u) => u.eventIds().has(id));
      // The 20 it may hold are still open (their headers deadline is 10 s away), the rest were cut.
      expect(drips.filter((d) => !d.closed).length).toBe(20);
      expect(relay.lines.some((l) => l.includes('too many from one address'))).toBe(true);
    } finally {
      for (const d of drips) d.stop();
    }
  });

  it('gives headers a short deadline by default', async () => {
    relay = await start();
    expect(relay.server.headersTimeout).toBeLessThanOrEqual(10_000);
  });
});

describe('large uploads', () => {
  /** Resident and peak resident set of a process, in MB (Linux /proc). */
  const memoryOf = (pid: number) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  };

  /** One upload of `bytes` to /u/e, with a declared length or chunked; resolves with the status (0 = none). */
  function upload(port: number, body: Buffer, chunked: boolean): Promise<number> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
      const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
      socket.write(`POST /u/e HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n${framing}\r\n\r\n`);
      if (chunked) socket.write(`${body.length.toString(16)}\r\n`);
      socket.write(body);
      if (chunked) socket.end('\r\n0\r\n\r\n');
      else socket.end();
    });
  }

  it('stops reading at the route’s limit: 300 concurrent 1 MiB uploads stay within 150 MB of idle', { timeout: 120_000 }, async () => {
    buildOnce();
    const child = await spawnRelay({ DATA_DIR: join(data.dir, 'data'), SITE_DIR: siteDir, RATE_LIMIT: '0', MAX_CONNECTIONS_PER_IP: '0' });
    try {
      const port = Number(new URL(child.url).port);
      // Warm up (first request, first write), then take the idle figure.
      expect((await post(child.url + '/u/e', event())).status).toBe(200);
      const idle = memoryOf(child.child.pid!);
      const body = Buffer.alloc(1024 * 1024, 'x');
      // Half declare their length (refused before the body is read), half are chunked (read up to the limit).
      const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => upload(port, body, i % 2 === 1)));
      const after = memoryOf(child.child.pid!);
      console.log(`relay RSS: idle ${idle.rssMb.toFixed(1)} MB, peak ${after.peakMb.toFixed(1)} MB during 300 concurrent 1 MiB uploads (+${(after.peakMb - idle.rssMb).toFixed(1)} MB); ${statuses.filter((s) => s === 413).length} answered 413`);
      // Each gets 413, unless the relay's linger (1 s of reading on, then close) ran out while a
      // slow client was still sending and the reset beat the answer (0): never anything else.
      expect(statuses.filter((s) => s !== 413 && s !== 0)).toEqual([]);
      expect(statuses.filter((s) => s === 413).length).toBeGreaterThan(0);
      expect(after.peakMb - idle.rssMb).toBeLessThan(150);
      expect((await post(child.url + '/u/e', event())).status).toBe(200);
    } finally {
      child.child.kill('SIGKILL');
      await child.exited;
    }
  });
});

describe('the live events stream', () => {
  /** A raw GET of the stream; `headers` resolves with the status line once the answer starts. */
  function openStream(port: number, localAddress = '127.0.0.1') {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    const headers = new Promise<string>((resolve) => {
      const onData = (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          socket.off('data', onData);
          resolve(text);
        }
      };
      socket.on('data', onData);
      socket.on('close', () => resolve(text));
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.write('GET /_events/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    return { socket, headers, closed };
  }

  it('subscribes nothing for HEAD', async () => {
    relay = await start({ eventsPage: true });
    for (let i = 0; i < 200; i++) {
      const answer = await send(relay.url + '/_events/stream', 'HEAD', {});
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^text\/event-stream/);
    }
    expect(relay.feed!.subscribers()).toBe(0);
    const stream = openStream(relay.port);
    expect(await stream.headers).toMatch(/^HTTP\/1\.1 200/);
    expect(relay.feed!.subscribers()).toBe(1);
    stream.socket.destroy();
  });

  it('drops a subscriber that stops reading, and closes its connection', async () => {
    relay = await start({ eventsPage: true });
    const stream = openStream(relay.port);
    await stream.headers;
    stream.socket.pause();
    expect(relay.feed!.subscribers()).toBe(1);
    // ~300 kB of summaries per push; loopback's socket buffers take a few MB before the
    // relay's own bounded buffer fills. Give up after 64 MB (the relay before the fix
    // buffered all of it).
    const page = '/' + 'p'.repeat(3000);
    let pushed = 0;
    while (relay.feed!.subscribers() > 0 && pushed < 64 * 1024 * 1024) {
      relay.feed!.push(Array.from({ length: 100 }, () => ({ event_type: 'flood', event_id: crypto.randomUUID(), doc_path: page, user: {} })));
      pushed += 100 * 3100;
      await new Promise((r) => setImmediate(r));
    }
    expect(relay.feed!.subscribers()).toBe(0);
    // The relay ended the connection: reading again, the client gets what was in flight, then EOF.
    stream.socket.resume();
    await stream.closed;
    await stillServing();
  });

  it('caps the number of open streams with a 503 and Retry-After', async () => {
    relay = await start({ eventsPage: true });
    const streams = Array.from({ length: MAX_SUBSCRIBERS }, () => openStream(relay.port));
    for (const s of streams) expect(await s.headers).toMatch(/^HTTP\/1\.1 200/);
    const extra = await rawRequest(relay.port, 'GET /_events/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(extra.status).toBe(503);
    expect(extra.text).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(JSON.parse(bodyOf(extra))).toMatchObject({ error: 'too_many_streams' });
    streams[0]!.socket.destroy();
    await streams[0]!.closed;
    await vi.waitFor(() => expect(relay.feed!.subscribers()).toBe(MAX_SUBSCRIBERS - 1));
    const again = openStream(relay.port);
    expect(await again.headers).toMatch(/^HTTP\/1\.1 200/);
    for (const s of [...streams, again]) s.socket.destroy();
  });
});

describe('path traversal against the static site', () => {
  const attempts = [
    '/../secret.txt',
    '/../../secret.txt',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/sub/..%2f..%2fsecret.txt',
    '/%252e%252e%252fsecret.txt',
    '/%252e%252e/secret.txt',
    '/..\\secret.txt',
    '/sub\\..\\..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/..%5csecret.txt',
    '/.%2e/secret.txt',
    '/%2e./secret.txt',
    '/..;/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/..%00/secret.txt',
    '/index.html%00.txt',
    '//secret.txt',
    '/.env',
    '/%2eenv',
    '/sub/%2e%2e/.env',
    'http://x/../secret.txt',
    '../../secret.txt',
  ];
  it.each(attempts)('does not serve %s', async (path) => {
    relay = await start();
    const answer = await rawRequest(relay.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer.text).not.toContain(SECRET);
    expect([400, 404]).toContain(answer.status);
  });

  it('still serves files inside the site (so the attempts above could have worked)', async () => {
    relay = await start();
    for (const path of ['/index.html', '/sub/page.html', '/sub/../index.html', '/sub/%2e%2e/index.html', '/']) {
      const answer = await rawRequest(relay.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer.status, path).toBe(200);
    }
  });
});

describe('header injection through event fields', () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const injected = [
    `${id}\r\nSet-Cookie: evil=1`,
    `${id}\nX-Injected: 1`,
    `${id}; Domain=evil.test`,
    `${id}%0d%0aSet-Cookie:%20evil=1`,
    `\r\nSet-Cookie: evil=1`,
    `${id}\u2028evil`,
  ];
  it.each(injected)('never lets anonymous_id %j into Set-Cookie', async (anon) => {
    relay = await start();
    const answer = await post(relay.url + '/u/e', event({ user: { anonymous_id: anon } }));
    expect(answer.status).toBe(200);
    const cookies = [answer.headers['set-cookie'] ?? []].flat();
    expect(cookies).toEqual([]);
    expect(answer.rawHeaders.join('\n')).not.toMatch(/evil|x-injected/i);
  });

  it('re-issues a well-formed id verbatim', async () => {
    relay = await start();
    const answer = await post(relay.url + '/u/e', event({ user: { anonymous_id: id } }));
    expect([answer.headers['set-cookie']].flat()).toEqual([expect.stringMatching(new RegExp(`^__eventn_id=${id}; Max-Age=\\d+; Path=/; SameSite=Lax$`))]);
  });

  it.each([
    ['a cookie holding CR/LF', { Cookie: `__eventn_id=${id}%0d%0aSet-Cookie:%20evil=1` }, '/u/p.gif?url=https%3A%2F%2Fsite.test%2F'],
    ['a query holding CR/LF', {}, '/u/p.gif?url=https%3A%2F%2Fsite.test%2F%0d%0aSet-Cookie:%20evil=1&ref=%0d%0aX-Injected:%201'],
  ])('keeps the pixel’s Set-Cookie clean with %s', async (_name, headers, path) => {
    relay = await start();
    const answer = await get(relay.url + path, headers);
    expect(answer.status).toBe(200);
    const cookies = [answer.headers['set-cookie'] ?? []].flat();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^__eventn_id=[0-9a-f-]{36}; Max-Age=\d+; Path=\/; SameSite=Lax$/);
    expect(answer.rawHeaders.join('\n')).not.toMatch(/evil|x-injected/i);
  });
});

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  text: string;
}

function post(url: string, body: string): Promise<HttpAnswer> {
  return send(url, 'POST', { 'content-type': 'text/plain' }, body);
}
function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return send(url, 'GET', headers);
}
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
