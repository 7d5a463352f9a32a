import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/relay/errors.ts';
import { checkEvent, parseEvents, readBody } from '../../src/relay/validate.ts';

/** The RelayError `fn` throws (or rejects with), as status, code and message. */
async function refusal(fn: () => unknown): Promise<{ status: number; code: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    const e = error as RelayError;
    return { status: e.status, code: e.code, message: e.message };
  }
  throw new Error('expected a refusal');
}
const text = (s: string) => new TextEncoder().encode(s);
const stream = (chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });

describe('parseEvents', () => {
  it.each<[string, string, number]>([
    ['one event object', '{"event_type":"a"}', 1],
    ['an array of events', '[{"event_type":"a"},{"event_type":"b"}]', 2],
    ['500 events', JSON.stringify(Array.from({ length: 500 }, () => ({ event_type: 'a' }))), 500],
    ['whitespace around the JSON', ' \n[{"event_type":"a"}]\n', 1],
  ])('takes %s', (_name, body, count) => {
    expect(parseEvents(body)).toHaveLength(count);
  });

  it.each<[string, string, { eventsPerRequest?: number; depth?: number }, string, RegExp]>([
    ['text that is not JSON', '[{"event_type":', {}, 'bad_json', /^body is not valid JSON/],
    ['an empty body', '', {}, 'bad_json', /not valid JSON/],
    ['an empty array', '[]', {}, 'empty', /^body holds no events$/],
    ['501 events', JSON.stringify(Array.from({ length: 501 }, () => ({ event_type: 'a' }))), {}, 'too_many_events', /^body holds 501 events; at most 500 per request$/],
    ['more than a lower event limit', '[{"event_type":"a"},{"event_type":"b"}]', { eventsPerRequest: 1 }, 'too_many_events', /at most 1 per request/],
    ['a bare string', '"pageview"', {}, 'not_object', /^event 0: not an object$/],
    ['a bad second event, named by its index', '[{"event_type":"a"},{"event_type":"a","user":"bob"}]', {}, 'wrong_type', /^event 1: user must be an object$/],
    ['nesting past a lower depth', '[{"event_type":"a","x":[[1]]}]', { depth: 2 }, 'too_deep', /^event 0: nested deeper than 2 levels$/],
    ['a __proto__ key', '{"event_type":"a","__proto__":{"admin":true}}', {}, 'forbidden_key', /^event 0: contains a "__proto__" key$/],
    ['an escaped __proto__ key', '{"event_type":"a","\\u005f_proto__":{}}', {}, 'forbidden_key', /"__proto__"/],
    ['20,000 nested arrays', `[{"event_type":"a","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}]`, {}, 'too_deep', /nested deeper than 8 levels/],
  ])('refuses %s', async (_name, body, limits, code, message) => {
    const r = await refusal(() => parseEvents(body, limits));
    expect(r).toMatchObject({ status: 400, code });
    expect(r.message).toMatch(message);
  });
});

describe('checkEvent', () => {
  it('asserts one event at the index it names', async () => {
    expect(() => checkEvent({ event_type: 'a' }, 3)).not.toThrow();
    expect(await refusal(() => checkEvent({}, 3))).toMatchObject({ code: 'event_type', message: 'event 3: missing event_type' });
  });
});

describe('readBody', () => {
  const LIMIT = 32;
  const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
    new Request('http://relay.test/u/e', { method: 'POST', body, headers, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);

  it.each<[string, () => Request, Uint8Array | undefined, string]>([
    ['a small body', () => post('{"event_type":"a"}'), undefined, '{"event_type":"a"}'],
    ['no body', () => post(null), undefined, ''],
    ['a body of exactly the limit', () => post('x'.repeat(LIMIT)), undefined, 'x'.repeat(LIMIT)],
    ['a body in several chunks', () => post(stream([text('{"event_'), text('type":"a"}')])), undefined, '{"event_type":"a"}'],
    ['UTF-8 split across chunks', () => post(stream([new Uint8Array([0x63, 0x61, 0x66, 0xc3]), new Uint8Array([0xa9])])), undefined, 'café'],
    ['a body the adapter read already', () => post(null), text('{"pre":1}'), '{"pre":1}'],
  ])('reads %s', async (_name, request, preread, expected) => {
    expect(await readBody(request(), LIMIT, preread)).toBe(expected);
  });

  it.each<[string, () => Request, Uint8Array | undefined, number, string]>([
    ['a declared length over the limit, unread', () => post('x', { 'content-length': String(LIMIT + 1) }), undefined, 413, 'too_large'],
    ['a body over the limit', () => post('x'.repeat(LIMIT + 1)), undefined, 413, 'too_large'],
    ['a stream over the limit', () => post(stream([text('x'.repeat(20)), text('x'.repeat(20))])), undefined, 413, 'too_large'],
    ['a pre-read body over the limit', () => post(null), text('x'.repeat(LIMIT + 1)), 413, 'too_large'],
    ['bytes that are not UTF-8', () => post(new Uint8Array([0x63, 0xe9, 0x22])), undefined, 400, 'bad_encoding'],
    ['a lone surrogate half in UTF-8', () => post(new Uint8Array([0xed, 0xa0, 0x80])), undefined, 400, 'bad_encoding'],
    ['pre-read bytes that are not UTF-8', () => post(null), new Uint8Array([0xff]), 400, 'bad_encoding'],
  ])('refuses %s', async (_name, request, preread, status, code) => {
    expect(await refusal(() => readBody(request(), LIMIT, preread))).toMatchObject({ status, code });
  });
});
