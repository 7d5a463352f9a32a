import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startImport } from '../../src/importer/importer.ts';
import { startFakeUpstream } from '../support/fake-upstream.ts';
import { historicalEvent, tempDir } from '../support/import-files.ts';
import { UUID_RE } from '../../src/shared/visitor-id.ts';
import { convertRecord, idFromText, toMillis } from '../../src/importer/event.ts';
import { FORBIDDEN_KEYS, NUMBER_FIELDS, OBJECT_FIELDS, STRING_FIELDS } from '../../src/shared/event-rules.ts';

const now = Date.UTC(2026, 0, 1);
const options = { apiKey: 'key-from-config', now };
/** `n` arrays, one inside the other. */
const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('convertRecord', () => {
  it('keeps the fields, sets api_key, and derives a stable UUID-shaped event_id', () => {
    const text = '{"event_type":"signup","_timestamp":1700000000000,"user":{"id":"u1"},"event_attributes":{"plan":"pro"}}';
    const result = convertRecord(text, options);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const event = JSON.parse(result.json) as Record<string, unknown>;
    expect(event).toEqual({
      api_key: 'key-from-config',
      event_type: 'signup',
      _timestamp: 1700000000000,
      user: { id: 'u1' },
      event_attributes: { plan: 'pro' },
      event_id: result.eventId,
    });
    expect(result.eventId).toMatch(UUID_RE);
    expect(convertRecord(text, options)).toEqual(result);
    expect(result.bytes).toBe(Buffer.byteLength(result.json));
  });

  it('keeps a given event_id', () => {
    const result = convertRecord('{"event_type":"a","_timestamp":1700000000000,"event_id":"mine-1"}', options);
    expect(result.ok && result.eventId).toBe('mine-1');
  });

  it('drops api_key, token and source_ip from the file', () => {
    const result = convertRecord('{"event_type":"a","_timestamp":1700000000000,"api_key":"forged","token":"t","source_ip":"6.6.6.6"}', options);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const event = JSON.parse(result.json) as Record<string, unknown>;
    expect(event.api_key).toBe('key-from-config');
    expect(event).not.toHaveProperty('token');
    expect(event).not.toHaveProperty('source_ip');
  });

  it.each([
    ['{"event_type":"a",', /^not valid JSON/],
    ['[1,2]', /^not a JSON object \(got an array\)$/],
    ['"text"', /^not a JSON object \(got string\)$/],
    ['null', /^not a JSON object \(got null\)$/],
    ['{"_timestamp":1700000000000}', /^missing event_type$/],
    ['{"event_type":"","_timestamp":1700000000000}', /^event_type must be a non-empty string$/],
    ['{"event_type":7,"_timestamp":1700000000000}', /^event_type must be a non-empty string$/],
    ['{"event_type":"a"}', /^missing _timestamp$/],
    ['{"event_type":"a","_timestamp":1700000000}', /looks like seconds; write milliseconds \(1700000000000\)/],
    ['{"event_type":"a","_timestamp":"yesterday"}', /neither ms since 1970 nor an ISO 8601 date/],
    ['{"event_type":"a","_timestamp":true}', /not boolean/],
    ['{"event_type":"a","_timestamp":"2030-01-01T00:00:00Z"}', /is in the future/],
    ['{"event_type":"a","_timestamp":1700000000000,"event_id":5}', /^event_id must be a non-empty string/],
    ['{"event_type":"a","_timestamp":1700000000000,"user":"bob"}', /^user must be an object$/],
    ['{"event_type":"a","_timestamp":1700000000000,"company":[]}', /^company must be an object$/],
    ['{"event_type":"a","_timestamp":1700000000000,"event_attributes":null}', /^event_attributes must be an object$/],
    ['{"event_type":"a","_timestamp":1700000000000,"user":{"custom":{"__proto__":{"x":1}}}}', /^contains a "__proto__" key$/],
    [`{"event_type":"a","_timestamp":1700000000000,"big":"${'x'.repeat(33_000)}"}`, /^event is \d+ bytes; the limit is 32768$/],
    // The relay's rules (src/shared/event-rules.ts): an import sends nothing the relay refuses.
    ['{"event_type":"a","_timestamp":1700000000000,"event_attributes":{"constructor":{"prototype":1}}}', /^contains a "constructor" key$/],
    ['{"event_type":"a","_timestamp":1700000000000,"user":{"id":42}}', /^user\.id must be a string$/],
    ['{"event_type":"a","_timestamp":1700000000000,"url":["x"]}', /^url must be a string$/],
    ['{"event_type":"a","_timestamp":1700000000000,"sent_at":"soon"}', /^sent_at must be a number/],
    ['{"event_type":"a","_timestamp":1700000000000,"utm":"spring"}', /^utm must be an object$/],
  ])('refuses %s', (text, reason) => {
    const result = convertRecord(text, options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('convertRecord at the limits', () => {
  // The relay refuses deeper than 8 (LIMITS.depth); an ISO _timestamp (re-serialized) and a
  // "__proto__" anywhere in the text once took paths that recursed on the input.
  it.each<[string, string, RegExp]>([
    ['a record nested 9 levels', `{"event_type":"a","_timestamp":1700000000000,"x":${nested(8)}}`, /^nested deeper than 8 levels$/],
    ['a record nested 50 levels', `{"event_type":"a","_timestamp":1700000000000,"x":${nested(50)}}`, /^nested deeper than 8 levels$/],
    ['20,000 arrays deep with an ISO _timestamp', `{"event_type":"a","_timestamp":"2023-11-14T22:13:20Z","x":${nested(20_000)}}`, /^nested deeper than 8 levels$/],
    ['20,000 arrays deep with "__proto__" in the text', `{"event_type":"a","_timestamp":1700000000000,"__proto__x":1,"x":${nested(20_000)}}`, /^nested deeper than 8 levels$/],
    ['an event_type of 201 characters', `{"event_type":"${'t'.repeat(201)}","_timestamp":1700000000000}`, /^event_type is longer than 200 characters$/],
    ['an event_id of 101 characters', `{"event_type":"a","_timestamp":1700000000000,"event_id":"${'i'.repeat(101)}"}`, /^event_id must be a non-empty string of at most 100 characters/],
  ])('refuses %s, as the relay does', (_name, text, reason) => {
    const result = convertRecord(text, options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('takes a record nested exactly 8 levels deep, as the relay does', () => {
    expect(convertRecord(`{"event_type":"a","_timestamp":1700000000000,"x":${nested(7)}}`, options).ok).toBe(true);
  });

  it('takes a null event_id as none and derives one', () => {
    const text = '{"event_type":"a","_timestamp":1700000000000,"event_id":null}';
    const result = convertRecord(text, options);
    expect(result.ok && JSON.parse(result.json)).toMatchObject({ event_id: idFromText(text) });
  });
});

/** Whether a key the event rules forbid at any depth (`prototype`, …) is somewhere inside `v`. */
const forbiddenInside = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && Object.entries(v).some(([k, child]) => FORBIDDEN_KEYS.has(k) || forbiddenInside(child));

describe('convertRecord, any event', () => {
  it('yields the record plus api_key, event_id and _timestamp in ms, minus dropped fields', () => {
    // Free-form extra fields; the fields with rules are generated (valid) below.
    const ruled = new Set<string>(['__proto__', 'constructor', 'prototype', 'event_type', 'api_key', 'token', 'source_ip', ...OBJECT_FIELDS, ...STRING_FIELDS, ...NUMBER_FIELDS]);
    const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !ruled.has(k)), fc.jsonValue({ maxDepth: 2 }).filter((v) => !forbiddenInside(v)), { maxKeys: 4 });
    const record = fc.record(
      {
        event_type: fc.string({ minLength: 1, maxLength: 10 }).filter((t) => t.trim() !== ''),
        _timestamp: fc.oneof(fc.integer({ min: 1e11, max: now }), fc.integer({ min: 1e11, max: now }).map((ms) => new Date(ms).toISOString())),
        event_id: fc.uuid(),
        api_key: fc.string(),
        source_ip: fc.string(),
        user: fc.record({ id: fc.string() }),
      },
      { requiredKeys: ['event_type', '_timestamp'] },
    );
    fc.assert(
      fc.property(record, extra, fc.boolean(), (event, more, pretty) => {
        const source = { ...more, ...event };
        const text = JSON.stringify(source, null, pretty ? 1 : undefined);
        const result = convertRecord(text, options);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const { api_key: _k, source_ip: _s, ...kept } = source as Record<string, unknown>;
        const expected = {
          ...kept,
          api_key: 'key-from-config',
          event_id: event.event_id ?? idFromText(text),
          _timestamp: typeof event._timestamp === 'string' ? Date.parse(event._timestamp) : event._timestamp,
        };
        // Through JSON as the file went: fc.jsonValue makes -0, which JSON writes as 0, and
        // toEqual tells -0 from 0.
        expect(JSON.parse(result.json)).toEqual(JSON.parse(JSON.stringify(expected)));
        expect(result.bytes).toBe(Buffer.byteLength(result.json));
      }),
      { numRuns: 300 },
    );
  });
});

describe('toMillis', () => {
  it.each<[unknown, number]>([
    [1700000000000, 1700000000000],
    [1700000000000.6, 1700000000001],
    ['1700000000000', 1700000000000],
    ['2023-11-14T22:13:20.000Z', 1700000000000],
    ['2023-11-14T23:13:20+01:00', 1700000000000],
    ['2023-11-14T22:13:20', 1700000000000],
    ['2023-11-14', Date.UTC(2023, 10, 14)],
  ])('reads %j as %i', (value, ms) => {
    expect(toMillis(value, now)).toBe(ms);
  });
});

describe('idFromText', () => {
  it('is UUID-shaped, deterministic, and differs between texts', () => {
    const a = idFromText('{"event_type":"a"}');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idFromText('{"event_type":"a"}')).toBe(a);
    expect(idFromText('{"event_type":"b"}')).not.toBe(a);
  });
});

describe('an import with a bad time or bad bytes on a line', () => {
  const lines = [
    Buffer.from(JSON.stringify(historicalEvent(0))),
    Buffer.from('{"event_type":"a","_timestamp":1e20}'), // 2: past what a Date holds (threw RangeError: exit 130)
    Buffer.concat([Buffer.from('{"event_type":"a","_timestamp":1700000000000,"user":{"first_name":"Ren'), Buffer.from([0xe9]), Buffer.from('e"}}')]), // 3: Latin-1
    Buffer.from(JSON.stringify({ ...historicalEvent(1), user: { first_name: 'Ren\uFFFDe' } })), // 4: a U+FFFD of the file's own
    Buffer.from(JSON.stringify(historicalEvent(2))),
  ];

  it.each(['ndjson', 'array'] as const)('reports those lines and sends the rest, unaltered (%s)', async (format) => {
    const upstream = await startFakeUpstream({ apiKey: 'imp-key', serverToken: 'imp-secret' });
    const dir = tempDir();
    try {
      const input = join(dir, `bad.${format}`);
      const joined = format === 'ndjson' ? Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])) : Buffer.concat([Buffer.from('[\n'), ...lines.flatMap((l, i) => [l, Buffer.from(i < lines.length - 1 ? ',\n' : '\n')]), Buffer.from(']')]);
      writeFileSync(input, joined);
      const skipped: [number, string][] = [];
      const summary = await startImport({ input, apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url, maxErrors: 5, onSkip: (e) => skipped.push([e.line, e.reason]) }).done;
      expect(summary).toMatchObject({ outcome: 'done', sent: 3, skipped: 2 });
      expect(skipped.map(([line]) => line)).toEqual(format === 'ndjson' ? [2, 3] : [3, 4]); // the array's `[` has a line of its own
      expect(skipped[0]![1]).toMatch(/^_timestamp 100000000000000000000 is past the last time a date can hold/);
      expect(skipped[1]![1]).toMatch(/not valid UTF-8/);
      expect(upstream.events.map((e) => (e['user'] as { first_name?: string } | undefined)?.first_name ?? null)).toEqual([null, 'Ren\uFFFDe', null]);
    } finally {
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
