/**
 * One relay, two runtimes: the same specification run against the Node relay (file spool and
 * forwarder, over real HTTP) and the Worker (the built dist/cloudflare/worker.js in workerd
 * under Miniflare, Cloudflare Queues as the spool). Validation, enrichment, the visitor
 * cookie, origin checks, token hygiene and delivery must not depend on where the relay runs.
 *
 * Where the runtimes differ by design, the target says so: dead letters land in a file on
 * Node and in the umbeacon-dead-letters queue at the edge.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import zlib, { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelayServer } from '../../src/relay-node/server.ts';
import { startEdge } from '../cloudflare/support/edge.ts';
import { buildIfStale } from '../support/cli-process.mjs';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import type { Coding } from '../../src/relay/script.ts';

const ROOT = resolve(import.meta.dirname, '../..');

interface Target {
  url: string;
  /** Everything the relay logged or printed. */
  output(): string[];
  /** Event ids and reasons of the dead letters so far. */
  deadLetters(): { eventId: unknown; reason: string }[];
  close(): Promise<void>;
}

interface Settings {
  allowedOrigins?: string[];
  rateLimit?: number;
}

const targets: [string, (upstream: FakeUpstream, settings?: Settings) => Promise<Target>][] = [
  [
    'Node relay',
    async (upstream, settings = {}) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-conformance-'));
      const logs: string[] = [];
      const relay = await startRelayServer({
        port: 0,
        apiKey: upstream.apiKey,
        serverToken: upstream.serverToken,
        upstreamUrl: upstream.url,
        dataDir,
        fallback: null,
        allowedOrigins: settings.allowedOrigins ?? [],
        rateLimit: settings.rateLimit ?? 100,
        log: (line) => logs.push(line),
        forwarder: { lingerMs: 10, retryDelay: () => 50 },
      });
      return {
        url: relay.url,
        output: () => logs.flatMap((l) => l.split('\n')).filter(Boolean),
        deadLetters: () => {
          let text = '';
          try {
            text = readFileSync(join(dataDir, 'spool', 'dead-letter.ndjson'), 'utf8');
          } catch {
            return [];
          }
          return text.split('\n').filter(Boolean).map((l) => {
            const d = JSON.parse(l) as { reason: string; event: { event_id: unknown } };
            return { eventId: d.event.event_id, reason: d.reason };
          });
        },
        async close() {
          await relay.close({ drainMs: 0 });
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'Worker',
    async (upstream, settings = {}) => {
      const edge = await startEdge({ upstream, vars: { ALLOWED_ORIGINS: (settings.allowedOrigins ?? []).join(','), RATE_LIMIT: String(settings.rateLimit ?? 100) } });
      return {
        url: edge.url,
        output: edge.output,
        deadLetters: () => edge.deadLetters().map((d) => ({ eventId: d.event['event_id'], reason: d.reason })),
        close: edge.close,
      };
    },
  ],
];

const anon = () => crypto.randomUUID();
/** A GET whose body is the bytes on the wire (fetch would decode them). */
const rawGet = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
const post = (url: string, body: unknown, headers: Record<string, string> = {}, path = '/u/e') =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe.each(targets)('%s', (target, start) => {
  let upstream: FakeUpstream;
  let relay: Target;
  const responses: string[] = [];
  /** fetch, keeping every answer (status, headers, body) for the token check at the end. */
  const kept = async (res: Promise<Response>) => {
    const r = await res;
    const body = await r.clone().text();
    responses.push(`${r.status} ${JSON.stringify([...r.headers])} ${body}`);
    return r;
  };

  beforeAll(async () => {
    buildIfStale(['public/u.js', 'dist/cloudflare/worker.js']);
    upstream = await startFakeUpstream();
    relay = await start(upstream);
  });
  afterEach(() => upstream.heal());
  afterAll(async () => {
    await relay?.close();
    await upstream?.close();
  });

  describe('the tracker script', () => {
    it('serves public/u.js with cache headers and an ETag, and 304 when it matches', async () => {
      const res = await kept(fetch(`${relay.url}/u.js`));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('cache-control')).toContain('max-age=3600');
      expect(await res.text()).toBe(readFileSync(join(ROOT, 'public/u.js'), 'utf8'));
      const etag = res.headers.get('etag')!;
      const again = await kept(fetch(`${relay.url}/u.js`, { headers: { 'if-none-match': etag } }));
      expect(again.status).toBe(304);
    });
  });

  describe('events', () => {
    it('stores a batch, answers with the count and the visitor cookie, and forwards it enriched', async () => {
      const id = anon();
      const res = await kept(
        post(relay.url, [
          { event_type: 'pageview', event_id: 'c-1', user: { anonymous_id: id }, url: 'https://site.test/a?b=1' },
          { event_type: 'signup', event_id: 'c-2', user: { anonymous_id: id }, event_attributes: { plan: 'pro' } },
        ]),
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', stored: 2, duplicates: 0 });
      expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^__eventn_id=${id}; Max-Age=\\d+; Path=/; SameSite=Lax`));
      await upstream.waitFor((u) => u.eventIds().has('c-1') && u.eventIds().has('c-2'));
      const sent = upstream.events.find((e) => e['event_id'] === 'c-2')!;
      expect(sent).toMatchObject({ api_key: upstream.apiKey, event_type: 'signup', event_attributes: { plan: 'pro' }, user: { anonymous_id: id }, source_ip: '127.0.0.1' });
      expect(typeof sent['_timestamp']).toBe('number');
    });

    it('overrides a forged api_key and source_ip, and drops a client token', async () => {
      const res = await kept(post(relay.url, [{ event_type: 'forged', event_id: 'c-forged', api_key: 'not-yours', source_ip: '6.6.6.6', token: 'a.b' }]));
      expect(res.status).toBe(200);
      await upstream.waitFor((u) => u.eventIds().has('c-forged'));
      const sent = upstream.events.find((e) => e['event_id'] === 'c-forged')!;
      expect(sent['api_key']).toBe(upstream.apiKey);
      expect(sent['source_ip']).toBe('127.0.0.1');
      expect(sent).not.toHaveProperty('token');
    });

    it.each([
      ['malformed JSON', '{"event_type":', 400],
      ['a wrong type', [{ event_type: 42 }], 400],
      ['a __proto__ key', '[{"event_type":"x","__proto__":{"polluted":true}}]', 400],
      ['nesting deeper than 8', [{ event_type: 'deep', event_attributes: JSON.parse('{"a":'.repeat(12) + '1' + '}'.repeat(12)) }], 400],
      ['a form body', 'event_type=x', 415],
    ])('refuses %s with a 4xx naming the problem, and forwards nothing', async (_, body, status) => {
      const headers: Record<string, string> = status === 415 ? { 'content-type': 'application/x-www-form-urlencoded' } : {};
      const before = upstream.events.length;
      const res = await kept(post(relay.url, body, headers));
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ status: 'error', error: expect.any(String), message: expect.any(String) });
      // A marker sent after it arrives; the refused body never does.
      const marker = `after-${status}-${anon()}`;
      await kept(post(relay.url, [{ event_type: 'marker', event_id: marker }]));
      await upstream.waitFor((u) => u.eventIds().has(marker));
      expect(upstream.events.slice(before).filter((e) => e['event_type'] !== 'marker')).toEqual([]);
    });

    it('answers 405 for GET on the events route', async () => {
      expect((await kept(fetch(`${relay.url}/u/e`))).status).toBe(405);
    });

    it('takes what the official SDK sends when the key matches, 403 when it does not', async () => {
      const wrong = await kept(post(relay.url, [{ event_type: 'sdk' }], { 'content-type': 'application/json' }, '/api/v1/event?token=someone-else'));
      expect(wrong.status).toBe(403);
      const ok = await kept(post(relay.url, [{ event_type: 'sdk', event_id: 'c-sdk' }], { 'content-type': 'application/json' }, `/api/v1/event?token=${upstream.apiKey}`));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok' });
      await upstream.waitFor((u) => u.eventIds().has('c-sdk'));
    });

    it('records a pageview from the pixel and sets the visitor cookie', async () => {
      const res = await kept(fetch(`${relay.url}/u/p.gif?url=${encodeURIComponent('https://site.test/noscript')}`));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      const id = /^__eventn_id=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
      expect(id).toBeTruthy();
      await upstream.waitFor((u) => u.events.some((e) => (e['user'] as { anonymous_id?: string } | undefined)?.anonymous_id === id));
    });
  });

  describe('delivery', () => {
    it('rides out upstream 503s and delivers every event once the upstream answers', async () => {
      upstream.fail(503, { count: 2 });
      const ids = Array.from({ length: 30 }, (_, i) => `d-blip-${i}`);
      expect((await kept(post(relay.url, ids.map((event_id) => ({ event_type: 'blip', event_id }))))).status).toBe(200);
      await upstream.waitFor((u) => ids.every((id) => u.eventIds().has(id)), 20_000);
    });

    it('dead-letters an event the upstream refuses, with the reason, and delivers its neighbours', async () => {
      upstream.reject((e) => e['event_type'] === 'poison', 400);
      const batch = [1, 2, 3, 4, 5].map((n) => ({ event_type: n === 3 ? 'poison' : 'fine', event_id: `d-dl-${n}` }));
      expect((await kept(post(relay.url, batch))).status).toBe(200);
      await upstream.waitFor((u) => [1, 2, 4, 5].every((n) => u.eventIds().has(`d-dl-${n}`)));
      await expect.poll(() => relay.deadLetters(), { timeout: 10_000 }).toEqual([{ eventId: 'd-dl-3', reason: expect.stringContaining('400') }]);
      expect(upstream.eventIds().has('d-dl-3')).toBe(false);
    });
    it('keeps every event while the upstream refuses everything (400), dead-letters none, and delivers them all once it heals', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `d-all-${i}`);
      const refusedBefore = upstream.requests.filter((r) => r.status === 400).length;
      upstream.fail(400);
      expect((await kept(post(relay.url, ids.map((event_id) => ({ event_type: 'refused-all', event_id }))))).status).toBe(200);
      // Two rounds refused whole: each event was refused on its own at least twice.
      await upstream.waitFor((u) => u.requests.filter((r) => r.status === 400).length - refusedBefore >= 2 * (2 * ids.length - 1), 20_000);
      expect(relay.deadLetters().filter((d) => String(d.eventId).startsWith('d-all-'))).toEqual([]);
      upstream.heal();
      await upstream.waitFor((u) => ids.every((id) => u.eventIds().has(id)), 30_000);
      expect(relay.deadLetters().filter((d) => String(d.eventId).startsWith('d-all-'))).toEqual([]);
    });
  });

  describe('guarded: ALLOWED_ORIGINS and RATE_LIMIT', () => {
    let guarded: Target;
    beforeAll(async () => {
      // 1 event per second: the burst is one full request (500 events), then 429.
      guarded = await start(upstream, { allowedOrigins: ['https://site.test'], rateLimit: 1 });
    });
    afterAll(async () => {
      await guarded?.close();
    });

    it('takes events from a listed origin with CORS headers, and refuses others with 403', async () => {
      const listed = await kept(post(guarded.url, [{ event_type: 'cors', event_id: 'o-1' }], { origin: 'https://site.test' }));
      expect(listed.status).toBe(200);
      expect(listed.headers.get('access-control-allow-origin')).toBe('https://site.test');
      expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
      const foreign = await kept(post(guarded.url, [{ event_type: 'cors', event_id: 'o-2' }], { origin: 'https://evil.test' }));
      expect(foreign.status).toBe(403);
      const preflight = await kept(fetch(`${guarded.url}/u/e`, { method: 'OPTIONS', headers: { origin: 'https://site.test', 'access-control-request-method': 'POST' } }));
      expect(preflight.status).toBe(204);
      await upstream.waitFor((u) => u.eventIds().has('o-1'));
      expect(upstream.eventIds().has('o-2')).toBe(false);
    });

    it('answers a flood from one address with 429 and Retry-After, and forwards none of what it refused', async () => {
      const site = { origin: 'https://site.test' };
      const burst = Array.from({ length: 400 }, (_, i) => ({ event_type: 'flood', event_id: `f-1-${i}` }));
      expect((await kept(post(guarded.url, burst, site))).status).toBe(200);
      const over = await kept(post(guarded.url, burst.map((e, i) => ({ ...e, event_id: `f-2-${i}` })), site));
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      await upstream.waitFor((u) => u.eventIds().has('f-1-399'));
      expect(upstream.events.filter((e) => String(e['event_id']).startsWith('f-2-'))).toEqual([]);
    });
  });

  describe('the tracker scripts on the wire', () => {
    // RFC 9110 §12.5.3. At the edge the front line has the last word (it re-encodes what the
    // browser cannot take; Miniflare emulates it), so these are the cases where every reading
    // agrees; a browser's full header is checked on its own below.
    const cases: [string, string | null, Coding | null][] = [
      ['Brotli', 'br', 'br'],
      ['Brotli beside codings the relay does not make', 'deflate, br', 'br'],
      ['gzip only', 'gzip, deflate', 'gzip'],
      ['Brotli refused with q=0', 'br;q=0, gzip', 'gzip'],
      ['gzip preferred by weight', 'br;q=0.5, gzip;q=0.9', 'gzip'],
      ['identity only', 'identity', null],
      ['no Accept-Encoding', null, null],
    ];
    const decode = { br: brotliDecompressSync, gzip: gunzipSync };

    describe.each(['public/u.js', 'public/u/x.js'])('%s', (file) => {
      const path = file.replace(/^public/, '');
      const source = () => readFileSync(join(ROOT, file), 'utf8');

      it.each(cases)('%s: the right coding, with Vary and an ETag of its own; 304 on it', async (_, accept, coding) => {
        const res = await rawGet(`${relay.url}${path}`, accept === null ? {} : { 'accept-encoding': accept });
        expect(res.status).toBe(200);
        expect(res.headers['content-encoding']).toBe(coding ?? undefined);
        expect(res.headers['vary']).toBe('Accept-Encoding');
        expect((coding ? decode[coding](res.body) : res.body).toString('utf8')).toBe(source());
        const etag = String(res.headers['etag']);
        expect(etag).toMatch(coding === 'br' ? /-br"$/ : coding === 'gzip' ? /-gz"$/ : /^"[0-9a-f]+"$/);
        const again = await rawGet(`${relay.url}${path}`, { ...(accept === null ? {} : { 'accept-encoding': accept }), 'if-none-match': etag });
        expect(again.status).toBe(304);
        expect(again.body.length).toBe(0);
        expect(again.headers['etag']).toBe(etag);
      });

      it('sends Brotli at quality 11 and gzip at zopfli strength (at most what zlib -9 makes)', async () => {
        const bytes = Buffer.from(source());
        const br = await rawGet(`${relay.url}${path}`, { 'accept-encoding': 'br' });
        const gzip = await rawGet(`${relay.url}${path}`, { 'accept-encoding': 'gzip' });
        expect(br.body.length).toBe(brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length);
        expect(gzip.body.length).toBeLessThan(gzipSync(bytes, { level: 9 }).length);
        console.log(`${target} ${path} on the wire: br ${br.body.length} B, gzip ${gzip.body.length} B, identity ${bytes.length} B`);
      });

      it('answers a revalidation with another coding\'s ETag with the full body', async () => {
        const gz = await rawGet(`${relay.url}${path}`, { 'accept-encoding': 'gzip' });
        const res = await rawGet(`${relay.url}${path}`, { 'accept-encoding': 'br', 'if-none-match': String(gz.headers['etag']) });
        expect(res.status).toBe(200);
        expect(res.headers['content-encoding']).toBe('br');
      });

      it("answers Chromium's header in a coding it takes, decoding to the script", async () => {
        const res = await rawGet(`${relay.url}${path}`, { 'accept-encoding': 'gzip, deflate, br, zstd' });
        const coding = res.headers['content-encoding'] as Coding;
        expect(['br', 'gzip']).toContain(coding);
        expect(decode[coding](res.body).toString('utf8')).toBe(source());
      });
    });
  });

  describe('an event too big for one queue message', () => {
    // u.js's compact pageview: the relay copies its url into event_attributes.url and derives
    // doc_search and utm from it, so a 33 KB url becomes ~132 KB once enriched — past one
    // Cloudflare Queues message (128,000 bytes) and LIMITS.storedEventBytes.
    const pageview = (id: string, url: string) => ({ i: id, e: 'pageview', t: Date.now(), n: anon(), l: url, d: 'Page', r: '', v: '1x1', w: '1x1', x: 'UTF-8', z: 0 });
    const huge = `https://site.test/landing?utm_source=${'s'.repeat(33_000)}`;

    it('is refused alone and named in the answer; its neighbours are stored and forwarded', async () => {
      const res = await kept(post(relay.url, [pageview('big-1', 'https://site.test/a'), pageview('big-2', huge), pageview('big-3', 'https://site.test/b')]));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        status: 'ok',
        stored: 2,
        duplicates: 0,
        refused: [{ index: 1, error: 'event_too_large', message: expect.stringMatching(/^event 1: 13\d{4} bytes once enriched .* at most 127000 bytes per event$/) }],
      });
      await upstream.waitFor((u) => u.eventIds().has('big-1') && u.eventIds().has('big-3'));
      expect(upstream.eventIds().has('big-2')).toBe(false);
    });

    it('alone in its request, is refused with 413 naming the problem', async () => {
      const res = await kept(post(relay.url, [pageview('big-alone', huge)]));
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ status: 'error', error: 'event_too_large', message: expect.stringContaining('at most 127000 bytes per event') });
    });
  });

  describe('the server token', () => {
    it('appears in no answer and no log line', async () => {
      // An upstream error that echoes the request target, token and all.
      upstream.fail(500, { body: (target) => `cannot handle ${target}`, count: 1 });
      await kept(post(relay.url, [{ event_type: 'echo', event_id: 't-echo' }]));
      await upstream.waitFor((u) => u.eventIds().has('t-echo'));
      for (const path of ['/healthz', '/u/e?token=x', '/nothing-here']) await kept(fetch(`${relay.url}${path}`));
      expect(responses.length).toBeGreaterThan(10);
      expect(responses.filter((r) => r.includes(upstream.serverToken))).toEqual([]);
      expect(relay.output().some((l) => l.includes('upstream failing'))).toBe(true);
      expect(relay.output().filter((l) => l.includes(upstream.serverToken))).toEqual([]);
    });
  });
});
