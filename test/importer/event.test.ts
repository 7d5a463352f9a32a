import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UUID_RE } from '../../src/shared/visitor-id.ts';
import { convertRecord, idFromText, toMillis } from '../../src/importer/event.ts';

const now = Date.UTC(2026, 0, 1);
const options = { apiKey: 'key-from-config', now };

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
  ])('refuses %s', (text, reason) => {
    const result = convertRecord(text, options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('convertRecord, any event', () => {
  it('yields the record plus api_key, event_id and _timestamp in ms, minus dropped fields', () => {
    // Free-form extra fields; the fields with rules are generated (valid) below.
    const ruled = new Set(['__proto__', 'event_type', '_timestamp', 'event_id', 'api_key', 'token', 'source_ip', 'user', 'company', 'event_attributes', 'ids']);
    const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !ruled.has(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
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
