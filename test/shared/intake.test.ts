import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEvent } from '../../src/client/build-event.ts';
import { createMemorySpool } from '../../src/delivery/memory-spool.ts';
import { convertRecord, toMillis } from '../../src/importer/event.ts';
import { createRelay } from '../../src/relay/handler.ts';
import { decodeUtf8, eventIdOf, hasDroppedField, instantOf, LARGEST_MS, recordText } from '../../src/shared/intake.ts';

describe('instantOf', () => {
  it.each<[unknown, number]>([
    [1700000000000, 1700000000000],
    [1700000000000.6, 1700000000001],
    ['1700000000000', 1700000000000],
    [new Date(1700000000000), 1700000000000],
    ['2023-11-14T22:13:20.000Z', 1700000000000],
    ['2023-11-14t22:13:20z', 1700000000000],
    ['2023-11-14T23:13:20+01:00', 1700000000000],
    ['2023-11-14T23:13:20+0100', 1700000000000],
    ['2023-11-14T17:13:20-05', 1700000000000],
    ['2023-11-14T22:13:20', 1700000000000],
    ['2023-11-14 22:13:20', 1700000000000],
    ['2023-11-14 22:13', 1699999980000],
    ['2023-11-14T22:13:20.123456789Z', 1700000000123],
    ['2023-11-14T22:13:20,5', 1700000000500],
    ['2023-11-14', Date.UTC(2023, 10, 14)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    [LARGEST_MS, LARGEST_MS],
  ])('reads %j as %i', (value, ms) => {
    expect(instantOf(value)).toEqual({ ok: true, ms });
  });

  it.each<[unknown, RegExp]>([
    [1e20, /past the last time a date can hold/],
    [LARGEST_MS + 1, /past the last time/],
    [-5, /not a valid time/],
    [1700000000, /looks like seconds; write milliseconds \(1700000000000\)/],
    ['1700000000', /looks like seconds/],
    ['1970-06-01', /before 1973-03-03/],
    [new Date(Number.NaN), /not a valid time/],
    ['yesterday', /neither ms since 1970 nor an ISO 8601 date/],
    ['Jan 1 2024 10:00', /neither ms/], // Date.parse takes it, as local time
    ['2024/01/01', /neither ms/],
    ['2023-02-29', /neither ms/],
    ['2023-11-14T24:00:00', /neither ms/],
    ['2023-11-14T22:13:60', /neither ms/],
    ['2023-11-14T22:13:20+25:00', /neither ms/],
    ['2023-11-14T22:13:20 ', /neither ms/],
    ['-1700000000000', /neither ms/],
    [null, /not null/],
    [true, /not boolean/],
    [[1700000000000], /not an array/],
    [{ ms: 1 }, /not object/],
  ])('refuses %j', (value, reason) => {
    const result = instantOf(value);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(fc.property(fc.anything({ withDate: true, withBigInt: true, withMap: true, withTypedArray: true }), (value) => {
      instantOf(value);
    }));
  });
});

describe('eventIdOf', () => {
  it.each<[unknown, string | undefined]>([[undefined, undefined], [null, undefined], ['k3j4h5g6f7', 'k3j4h5g6f7'], ['x'.repeat(100), 'x'.repeat(100)]])('takes %j', (value, id) => {
    expect(eventIdOf(value)).toEqual({ ok: true, id });
  });
  it.each(['', 'x'.repeat(101), 42, {}])('refuses %j', (value) => {
    expect(eventIdOf(value)).toMatchObject({ ok: false, reason: expect.stringContaining('non-empty string') });
  });
});

describe('hasDroppedField', () => {
  it('sees api_key, token and source_ip of the event itself only', () => {
    expect(hasDroppedField({ event_type: 'a', token: 't' })).toBe(true);
    expect(hasDroppedField({ event_type: 'a', source_ip: '1.2.3.4' })).toBe(true);
    expect(hasDroppedField(Object.create({ api_key: 'k' }) as Record<string, unknown>)).toBe(false);
  });
});

describe('decodeUtf8', () => {
  it('refuses bytes that are not UTF-8 rather than put U+FFFD in their place', () => {
    expect(decodeUtf8(new Uint8Array([0x52, 0x65, 0x6e, 0xe9, 0x65]))).toEqual({ ok: false, reason: 'is not valid UTF-8' });
    expect(decodeUtf8(new TextEncoder().encode('Renée \uFFFD'))).toEqual({ ok: true, text: 'Renée \uFFFD' });
  });
});

describe('recordText', () => {
  const latin1 = new Uint8Array([0x7b, 0x22, 0x52, 0x65, 0x6e, 0xe9, 0x65, 0x22, 0x7d]); // {"Renée"} in Latin-1
  it('makes bytes that are not UTF-8 a bad record, where the fast decode put U+FFFD', () => {
    expect(recordText(latin1, new TextDecoder().decode(latin1))).toEqual({ text: '', problem: 'record is not valid UTF-8; re-encode the file as UTF-8' });
  });
  it("keeps a U+FFFD of the file's own, and trims", () => {
    const bytes = new TextEncoder().encode(' {"n":"Ren\uFFFDe"}\r\n');
    expect(recordText(bytes, new TextDecoder().decode(bytes))).toEqual({ text: '{"n":"Ren\uFFFDe"}' });
  });
});

// ---- The same value, the same instant at every entry point -------------------------------------

/** Past every time a Date holds: nothing valid is "in the future", and the receive time is no valid instant. */
const NOW = 9e15;
const spool = createMemorySpool();
const relay = createRelay({ spool, apiKey: 'k', rateLimit: 0, now: () => NOW });

type Seen = number | 'invalid';

/** What the relay stores for `_timestamp: value`: the receive time (or a 400) is its "invalid". */
async function viaRelay(value: unknown): Promise<Seen> {
  const res = await relay(new Request('http://relay.test/u/e', { method: 'POST', body: JSON.stringify([{ event_type: 'a', _timestamp: value }]) }));
  if (res.status === 400) return 'invalid';
  expect(res.status).toBe(200);
  const batch = await spool.read(10, 1e6);
  await spool.ack(batch!.cursor);
  const ms = (JSON.parse(batch!.records[0]!) as { _timestamp: number })._timestamp;
  return ms === NOW ? 'invalid' : ms;
}

/** What the importer sends for an import line with `_timestamp: value`: a reported line is its "invalid". */
function viaImporter(value: unknown): Seen {
  const result = convertRecord(JSON.stringify({ event_type: 'a', _timestamp: value }), { apiKey: 'k', now: NOW });
  return result.ok ? result.timestamp : 'invalid';
}

/** What the Node client sends for `{ timestamp: value }`: a TypeError naming the option is its "invalid". */
function viaClient(value: unknown): Seen {
  try {
    return buildEvent('track', 'k', 'a', undefined, { timestamp: value as string }, NOW).event._timestamp;
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('options.timestamp');
    return 'invalid';
  }
}

const isoDate = fc.date({ min: new Date(-1e11), max: new Date(LARGEST_MS), noInvalidDate: true });
const offset = fc.constantFrom('', 'Z', 'z', '+00:00', '-05:00', '+0530', '+14', '-23:59', '+24:00');
/** ISO 8601 in every form the rule reads, and near misses of it. */
const isoText = fc
  .tuple(isoDate, fc.constantFrom('T', ' ', 't', '_'), fc.constantFrom(10, 16, 19, 23), offset, fc.constantFrom('', '456', '9'))
  .map(([date, sep, cut, zone, more]) => {
    const iso = date.toISOString().replace(/^\+0*|Z$/g, '');
    const base = iso.slice(0, 10) + (cut > 10 ? sep + iso.slice(11, cut) : '');
    return base + (cut === 23 ? more : '') + (cut > 10 ? zone : '');
  });
const timeLike = fc.oneof(
  isoText,
  fc.integer({ min: -1e12, max: 1e16 }),
  fc.double({ min: 0, max: 1e17, noNaN: true }),
  fc.constantFrom(1e20, -1, 0, 99_999_999_999, 1e11, LARGEST_MS, LARGEST_MS + 1, '', ' ', '0', '1e12', '２０２４-01-01'),
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.string(),
  fc.jsonValue(),
);

describe('relay, client and importer', () => {
  it('agree on the instant of any _timestamp, or all call it invalid, and nothing throws', async () => {
    await fc.assert(
      fc.asyncProperty(timeLike, async (value) => {
        const relayed = await viaRelay(value);
        // The client gets what the other two read from the JSON text.
        const parsed = JSON.parse(JSON.stringify(value)) as unknown;
        expect({ importer: viaImporter(value), client: viaClient(parsed) }).toEqual({ importer: relayed, client: relayed });
      }),
      { numRuns: 400 },
    );
  });

  describe('in a zone that is not UTC', () => {
    const zone = process.env['TZ'];
    afterEach(() => {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    });

    it.each([
      ['2024-01-01T10:00:00', Date.UTC(2024, 0, 1, 10)],
      ['2021-01-20 09:55:35', Date.UTC(2021, 0, 20, 9, 55, 35)],
    ])('take an offsetless %s as UTC, not the machine time', async (text, ms) => {
      process.env['TZ'] = 'America/New_York';
      expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(300); // the zone took
      expect({ importer: toMillis(text, NOW), client: viaClient(text), relay: await viaRelay(text) }).toEqual({ importer: ms, client: ms, relay: ms });
    });
  });

  it('the client refuses a time past what a Date holds, naming the option', () => {
    expect(() => buildEvent('track', 'k', 'a', undefined, { timestamp: 1e20 }, Date.now())).toThrow(/track: options\.timestamp .*past the last time a date can hold/);
  });
});
