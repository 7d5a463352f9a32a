/**
 * Property-based fuzzing of what reaches POST /u/e (and the official SDK route), straight
 * against the handler — `new Request`, no port. Over 10,000 cases a run. Every answer is a 4xx
 * with a reason and nothing stored, or a 200 for valid events only, with exactly those stored,
 * enriched by the relay (its api_key and source_ip, never the client's).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelay } from '../../src/relay/handler.ts';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';

const API_KEY = 'fuzz-key';
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];
const MAX_DEPTH = 8;
const LIMIT_BYTES = 64 * 1024;
const encoder = new TextEncoder();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Outcome = 'reject' | 'accept' | 'any';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  records: Record<string, unknown>[];
  cookies: string[];
}

/** One request against a fresh relay; returns the answer and exactly what it stored. */
async function send(body: string | Uint8Array, options: { route?: 'collect' | 'official'; type?: string } = {}): Promise<Answer> {
  const spool = createMemorySpool();
  const relay = createRelay({ spool, apiKey: API_KEY, rateLimit: 0 });
  const path = options.route === 'official' ? `/api/v1/event?token=${API_KEY}` : '/u/e';
  const bytes = (typeof body === 'string' ? encoder.encode(body) : body) as Uint8Array<ArrayBuffer>;
  const res = await relay(
    new Request(`http://relay.test${path}`, { method: 'POST', headers: { 'content-type': options.type ?? 'text/plain' }, body: bytes }),
    { remoteAddress: '127.0.0.1' },
  );
  const text = await res.text();
  const batch = await spool.read(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return {
    status: res.status,
    body: JSON.parse(text) as Record<string, unknown>,
    records: (batch?.records ?? []).map((r) => JSON.parse(r) as Record<string, unknown>),
    cookies: res.headers.getSetCookie(),
  };
}

/** What every answer must be, whatever was sent. */
function checkAnswer(answer: Answer, expected: Outcome, sentEvents?: readonly Record<string, unknown>[]): void {
  const { status, body, records } = answer;
  if (expected === 'reject' || (expected === 'any' && status !== 200)) {
    expect(status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(body['status']).toBe('error');
    expect(body['error']).toMatch(/^[a-z_]+$/);
    expect(typeof body['message'] === 'string' && body['message'].length > 0).toBe(true);
    expect(records).toEqual([]);
    expect(answer.cookies).toEqual([]);
    return;
  }
  expect(status, JSON.stringify(body)).toBe(200);
  if (sentEvents) {
    const distinct = new Set(sentEvents.map((e) => e['event_id']));
    expect(records.length).toBe(distinct.size);
  }
  for (const record of records) {
    expect(record['api_key']).toBe(API_KEY);
    expect(record['source_ip']).toBe('127.0.0.1');
    expect(record).not.toHaveProperty('token');
    expect(record).not.toHaveProperty('sent_at');
    expect(typeof record['event_type']).toBe('string');
    expect(typeof record['event_id']).toBe('string');
    expect(Number.isFinite(record['_timestamp'])).toBe(true);
    expect(forbiddenKeyIn(record)).toBeUndefined();
    expect(depthOf(record)).toBeLessThanOrEqual(MAX_DEPTH);
  }
  // The official SDK's cookie goes where that SDK puts its own: the root of relay.test.
  for (const cookie of answer.cookies) {
    expect(cookie).toMatch(/^(__eventn_id=[0-9A-Za-z-]{10,36}; Max-Age=\d+|__eventn_id_fuzz-key=[0-9A-Za-z-]{10,36}; Max-Age=\d+; Domain=relay\.test); Path=\/; SameSite=Lax$/);
  }
}

function forbiddenKeyIn(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN.includes(key)) return key;
    const found = forbiddenKeyIn((value as Record<string, unknown>)[key]);
    if (found) return found;
  }
  return undefined;
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return 1 + deepest;
}

// --- arbitraries ---------------------------------------------------------------------------

const text = (maxLength = 16) => fc.string({ unit: 'binary', maxLength });
const safeKey = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => !FORBIDDEN.includes(k));
const leaf: fc.Arbitrary<Json> = fc.oneof(text(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const trees: fc.Arbitrary<Json>[] = [leaf];
/** JSON values with at most `depth` levels of containers and no forbidden keys. */
function tree(depth: number): fc.Arbitrary<Json> {
  for (let d = trees.length; d <= depth; d++) {
    const below = trees[d - 1]!;
    trees[d] = fc.oneof(leaf, fc.array(below, { maxLength: 4 }), fc.dictionary(safeKey, below, { maxKeys: 4, noNullPrototype: true }));
  }
  return trees[depth]!;
}
const attributes = fc.dictionary(safeKey, tree(3), { maxKeys: 4, noNullPrototype: true });

const validEvent = fc.record(
  {
    event_type: fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== ''),
    event_id: fc.uuid(),
    _timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    sent_at: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    local_tz_offset: fc.integer({ min: -900, max: 900 }),
    user: fc.record(
      { anonymous_id: fc.oneof(fc.uuid(), fc.stringMatching(/^[a-z0-9]{10}$/), text()), id: text(), email: text(), custom: attributes },
      { requiredKeys: [], noNullPrototype: true },
    ),
    company: fc.record({ id: text(), name: text(), custom: attributes }, { requiredKeys: [], noNullPrototype: true }),
    event_attributes: attributes,
    ids: fc.dictionary(safeKey, text(), { maxKeys: 3, noNullPrototype: true }),
    url: text(200),
    page_title: text(),
    referer: text(),
    doc_path: text(),
    user_agent: text(),
    // Forged: the relay must ignore these and set its own.
    api_key: text(),
    token: text(),
    source_ip: text(),
  },
  { requiredKeys: ['event_type', 'event_id'], noNullPrototype: true },
) as fc.Arbitrary<Record<string, unknown>>;

const validBatch = fc.array(validEvent, { minLength: 1, maxLength: 5 });
const bodyOf = (events: Record<string, unknown>[], single: boolean) => JSON.stringify(single && events.length === 1 ? events[0] : events);

/** Values of the wrong type for each checked field. */
// (No NaN or Infinity here: JSON.stringify turns them into null, which means "absent".)
const notString = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(leaf, { maxLength: 2 }), fc.dictionary(safeKey, leaf, { maxKeys: 2, noNullPrototype: true }));
const notObject = fc.oneof(text(), fc.integer(), fc.boolean(), fc.array(leaf, { maxLength: 3 }));
/** Numbers as strings, NaN/Infinity as strings, and anything else that is not a finite number. */
const notNumber = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '0x10', ''),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(safeKey, leaf, { maxKeys: 2, noNullPrototype: true }),
);
const wrongTypes: [string, fc.Arbitrary<unknown>][] = [
  ...['event_id', 'url', 'page_title', 'referer', 'doc_path', 'doc_host', 'doc_search', 'vp_size', 'screen_resolution', 'user_agent', 'user_language', 'doc_encoding', 'src'].map(
    (f): [string, fc.Arbitrary<unknown>] => [f, notString],
  ),
  ...['user', 'company', 'event_attributes', 'ids', 'utm', 'click_id'].map((f): [string, fc.Arbitrary<unknown>] => [f, notObject]),
  ...['_timestamp', 'sent_at', 'local_tz_offset'].map((f): [string, fc.Arbitrary<unknown>] => [f, notNumber]),
  ['event_type', fc.oneof(notString, fc.constant(null), fc.constantFrom('', ' ', '\t\n', '\u3000'), fc.string({ minLength: 201, maxLength: 300 }))],
  ['event_id', fc.constantFrom('', 'x'.repeat(101))],
  ['user.anonymous_id', notString],
  ['user.id', notString],
  ['user.email', notString],
];

/** A wrong type at one field of one event in an otherwise valid batch. */
const wrongTypeBatch = fc
  .tuple(validBatch, fc.nat(), fc.constantFrom(...wrongTypes), fc.nat())
  .chain(([events, which, [field, bad]]) => bad.map((value) => ({ events, index: which % events.length, field, value })))
  .map(({ events, index, field, value }) => {
    const copy = events.map((e) => ({ ...e }));
    const target = copy[index]!;
    if (field.startsWith('user.')) target['user'] = { ...(target['user'] as object), [field.slice(5)]: value };
    else target[field] = value;
    let body = JSON.stringify(copy);
    // JSON has no NaN or Infinity; "1e999" is the way to smuggle Infinity in (it parses to it).
    if (value === '1e999') body = body.replace('"1e999"', '1e999');
    return { body, field, events: copy, index };
  });

/**
 * One bad event in a batch: alone, the batch is refused with its reason and nothing stored;
 * among valid events it is refused alone (named by index, with its reason) and the rest are
 * stored, exactly (SPEC: one bad event does not sink its neighbours).
 */
function checkOneBad(answer: Answer, events: readonly Record<string, unknown>[], index: number, reason: RegExp): void {
  const others = events.filter((_, i) => i !== index);
  if (others.length === 0) {
    checkAnswer(answer, 'reject');
    expect(answer.body['error']).toMatch(reason);
    return;
  }
  checkAnswer(answer, 'accept', others);
  const refused = answer.body['refused'] as { index: number; error: string; message: string }[];
  expect(refused.map((r) => r.index)).toEqual([index]);
  expect(refused[0]!.error).toMatch(reason);
  expect(refused[0]!.message).toMatch(new RegExp(`^event ${index}: `));
}

describe('fuzzed bodies against the handler', () => {
  it('stores exactly the valid events, with the relay’s own api_key and source_ip', async () => {
    await fc.assert(
      fc.asyncProperty(validBatch, fc.boolean(), fc.constantFrom<'collect' | 'official'>('collect', 'official'), fc.constantFrom('text/plain', 'application/json', 'text/plain;charset=UTF-8'), async (events, single, route, type) => {
        const answer = await send(bodyOf(events, single), { route, type });
        checkAnswer(answer, 'accept', events);
        const ids = new Set(answer.records.map((r) => r['event_id']));
        for (const e of events) expect(ids.has(e['event_id'])).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses an event with a wrong type at any field, alone: its neighbours are stored', async () => {
    await fc.assert(
      fc.asyncProperty(wrongTypeBatch, fc.constantFrom<'collect' | 'official'>('collect', 'official'), async ({ body, events, index }, route) => {
        const answer = await send(body, { route });
        checkOneBad(answer, events, index, /^(wrong_type|event_type|not_object)$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an event with __proto__, constructor or prototype keys at any depth, however spelled, alone', async () => {
    const spelled = fc.constantFrom('"__proto__"', '"constructor"', '"prototype"', '"\\u005f\\u005fproto\\u005f\\u005f"', '"\\u0063onstructor"', '"prot\\u006ftype"');
    await fc.assert(
      fc.asyncProperty(validBatch, fc.nat(), fc.nat({ max: 5 }), spelled, tree(1), async (events, which, depth, key, value) => {
        // Built as text: a JS object literal with "__proto__" would set the prototype instead.
        let nested = `{"K":${JSON.stringify(value)}}`;
        for (let d = 0; d < depth; d++) nested = `{"n":${nested}}`;
        const copy = events.map((e) => ({ ...e }));
        copy[which % copy.length]!['event_attributes'] = '@@HOLE@@';
        const body = JSON.stringify(copy).replace('"@@HOLE@@"', nested.replace('"K"', key));
        const answer = await send(body);
        checkOneBad(answer, copy, which % copy.length, /^forbidden_key$/);
        for (const r of answer.records) expect(JSON.stringify(r)).not.toMatch(/"(__proto__|constructor|prototype)":/);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses nesting deeper than the limit, up to the body limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_DEPTH + 1, max: 30_000 }), fc.boolean(), async (depth, arrays) => {
        const open = arrays ? '[' : '{"a":';
        const close = arrays ? ']' : '}';
        const inner = open.repeat(depth - 2) + '1' + close.repeat(depth - 2);
        const body = `[{"event_type":"deep","event_attributes":{"x":${inner}}}]`;
        const answer = await send(body);
        checkAnswer(answer, 'reject');
        expect(answer.body['error']).toMatch(body.length > LIMIT_BYTES ? /^too_large$/ : /^too_deep$/);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses huge strings, huge arrays and too many events', async () => {
    const huge = fc.oneof(
      fc.integer({ min: LIMIT_BYTES, max: 4 * LIMIT_BYTES }).map((n) => ({ body: JSON.stringify({ event_type: 'big', url: 'x'.repeat(n) }), error: 'too_large' })),
      fc.integer({ min: 501, max: 3000 }).map((n) => ({ body: JSON.stringify(Array.from({ length: n }, () => ({ event_type: 'a' }))), error: 'too_many_events' })),
      fc.integer({ min: 33_000, max: 100_000 }).map((n) => ({ body: `[{"event_type":"a","event_attributes":{"list":[${'0,'.repeat(n)}0]}}]`, error: 'too_large' })),
      fc.integer({ min: 201, max: 5000 }).map((n) => ({ body: JSON.stringify({ event_type: 'e'.repeat(n) }), error: 'event_type' })),
    );
    await fc.assert(
      fc.asyncProperty(huge, async ({ body, error }) => {
        const answer = await send(body);
        checkAnswer(answer, 'reject');
        expect(answer.body['error']).toBe(body.length > LIMIT_BYTES ? 'too_large' : error);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        checkAnswer(await send(bytes), 'reject');
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses invalid UTF-8 inside an otherwise valid event', async () => {
    const badSequences = fc.constantFrom(
      [0xff], [0xfe], [0x80], [0xbf], // bytes that never start a character
      [0xc0, 0x80], [0xe0, 0x80, 0x80], // overlong encodings (RFC 3629 §3)
      [0xed, 0xa0, 0x80], // an encoded UTF-16 surrogate
      [0xe2, 0x82], [0xf0, 0x9f, 0x98], // truncated multi-byte characters
      [0xf5, 0x80, 0x80, 0x80], // beyond U+10FFFF
    );
    await fc.assert(
      fc.asyncProperty(validBatch, badSequences, fc.constantFrom('event_type', 'url', 'page_title'), async (events, bad, field) => {
        const copy = events.map((e) => ({ ...e }));
        copy[0]![field] = 'a@@BAD@@b';
        const [before, after] = JSON.stringify(copy).split('@@BAD@@') as [string, string];
        const body = new Uint8Array([...encoder.encode(before), ...bad, ...encoder.encode(after)]);
        const answer = await send(body);
        checkAnswer(answer, 'reject');
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses broken JSON', async () => {
    const broken = fc.oneof(
      // Every proper prefix of a valid body is broken.
      fc.tuple(validBatch, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })).map(([events, cut]) => {
        const body = JSON.stringify(events);
        return body.slice(0, Math.floor(body.length * cut));
      }),
      fc.constantFrom(
        '{"event_type":"a",}', "{'event_type':'a'}", '{"event_type":"a"} // c', '{"event_type":NaN}', '{"event_type":"a","_timestamp":Infinity}',
        '{"event_type":"a","_timestamp":-Infinity}', '[{"event_type":"a"},]', '{"event_type":"a"}{"event_type":"b"}', '{event_type:"a"}', '\u0000',
        '{"event_type":"\\x41"}', '{"event_type":"a\u0001"}', '', ' ', 'null', '[]', '{}', '[[]]', '[null]', '"pageview"', '0', 'true',
      ),
    );
    await fc.assert(
      fc.asyncProperty(broken, async (body) => {
        checkAnswer(await send(body), 'reject');
      }),
      { numRuns: 1500 },
    );
  });

  it('answers any JSON with a 4xx and a reason, or a 200 with well-formed stored events', async () => {
    const anyEvent = fc.dictionary(
      fc.oneof(safeKey, fc.constantFrom('event_type', 'event_id', '_timestamp', 'sent_at', 'user', 'company', 'event_attributes', 'ids', 'url', 'api_key', 'token', 'source_ip')),
      fc.oneof(tree(3), fc.integer().map(String), fc.constantFrom('NaN', 'Infinity', '-0', '1e400')),
      { maxKeys: 8, noNullPrototype: true },
    );
    const anyBody = fc.oneof(fc.jsonValue({ maxDepth: 6 }), anyEvent, fc.array(anyEvent, { maxLength: 5 }));
    await fc.assert(
      fc.asyncProperty(anyBody, fc.constantFrom<'collect' | 'official'>('collect', 'official'), async (value, route) => {
        checkAnswer(await send(JSON.stringify(value) ?? 'undefined', { route }), 'any');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses content types a beacon or fetch would not send', async () => {
    const type = fc.oneof(fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html', 'application/xml'), fc.stringMatching(/^[a-z]{1,10}\/[a-z]{1,10}$/).filter((t) => t !== 'text/plain' && t !== 'application/json'));
    await fc.assert(
      fc.asyncProperty(validBatch, type, async (events, contentType) => {
        const answer = await send(JSON.stringify(events), { type: contentType });
        checkAnswer(answer, 'reject');
        expect(answer.status).toBe(415);
      }),
      { numRuns: 200 },
    );
  });

  afterAll(() => {
    // Nothing anywhere may have reached Object.prototype.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(
      ['__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', '__proto__', 'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf'].sort(),
    );
  });
});
