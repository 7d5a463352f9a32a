import { describe, expect, it } from 'vitest';
import { eventViolation, isPlainObject, type RuleOptions, type Violation } from '../../src/shared/event-rules.ts';

/** `levels` objects, one inside the other, the innermost holding `leaf`. */
function nest(levels: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}
function nestArrays(levels: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}
const ok = { event_type: 'pageview' };
const parsed = (json: string) => JSON.parse(json) as unknown;

describe('isPlainObject', () => {
  it.each<[string, unknown, boolean]>([
    ['{}', {}, true],
    ['JSON.parse output', parsed('{"a":1}'), true],
    ['a null-prototype object', Object.create(null), true],
    ['an object with an own "__proto__" key', parsed('{"__proto__":{}}'), true],
    ['an array', [], false],
    ['a Date', new Date(), false],
    ['a Map', new Map(), false],
    ['a class instance', new (class Point {})(), false],
    ['null', null, false],
    ['a string', 'x', false],
    ['a number', 1, false],
    ['undefined', undefined, false],
  ])('%s → %s', (_name, value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});

describe('eventViolation: accepted', () => {
  it.each<[string, unknown, RuleOptions?]>([
    ['the smallest event', ok],
    ['every field with its type', {
      event_type: 'signup', event_id: crypto.randomUUID(), _timestamp: 1.7e12, sent_at: 1.7e12, local_tz_offset: -60,
      user: { anonymous_id: 'ab12cd34ef', id: 'u1', email: 'a@b.c', custom: { plan: 'pro' } }, company: { id: 'c1' },
      event_attributes: { n: 1, list: [1, { x: null }] }, ids: { _ga: 'GA1' }, utm: { source: 'news' }, click_id: { gclid: 'g' },
      url: 'https://x/', page_title: 't', referer: '', doc_path: '/', doc_host: 'x', doc_search: '', vp_size: '1x1',
      screen_resolution: '1x1', user_agent: 'ua', user_language: 'en', doc_encoding: 'UTF-8', src: 'umbeacon',
    }],
    ['nulls where the official SDK sends them', { event_type: 'a', user: { anonymous_id: 'ab12cd34ef', id: null }, company: null, url: null, _timestamp: null }],
    ['objects nested exactly 8 levels (the event is level 1)', { event_type: 'a', event_attributes: nest(7) }],
    ['arrays nested exactly 8 levels', { event_type: 'a', x: nestArrays(7) }],
    ['a deeper event under a higher limit', { event_type: 'a', event_attributes: nest(20) }, { depth: 30 }],
    ['forbidden words as values, not keys', { event_type: '__proto__', event_attributes: { k: 'constructor', prototypeish: 1 } }],
    ['an event_type of 200 characters', { event_type: 't'.repeat(200) }],
    ['an event_id of 100 characters', { event_type: 'a', event_id: 'i'.repeat(100) }],
    ['the largest and smallest doubles, and integers beyond 2^53 (kept as JSON reads them)', parsed('{"event_type":"a","x":[1.7976931348623157e308,-1.7e308,5e-324,12345678901234567891]}')],
  ])('%s', (_name, event, options) => {
    expect(eventViolation(event, options)).toBeUndefined();
  });
});

describe('eventViolation: refused', () => {
  it.each<[string, unknown, Partial<Violation>, RuleOptions?]>([
    ['an array', [ok], { code: 'not_object', message: 'not an object' }],
    ['a string', 'pageview', { code: 'not_object' }],
    ['null', null, { code: 'not_object' }],
    ['objects nested 9 levels', { event_type: 'a', event_attributes: nest(8) }, { code: 'too_deep', message: 'nested deeper than 8 levels' }],
    ['arrays nested 9 levels', { event_type: 'a', x: nestArrays(8) }, { code: 'too_deep' }],
    ['arrays nested 20,000 levels', { event_type: 'a', x: nestArrays(20_000) }, { code: 'too_deep' }],
    ['a depth under a lower limit', { event_type: 'a', event_attributes: nest(3) }, { code: 'too_deep', message: 'nested deeper than 3 levels' }, { depth: 3 }],
    ['a "__proto__" key from JSON', parsed('{"event_type":"a","event_attributes":{"__proto__":{"admin":true}}}'), { code: 'forbidden_key', message: 'contains a "__proto__" key' }],
    ['a "constructor" key deep down', { event_type: 'a', user: { custom: { constructor: 1 } } }, { code: 'forbidden_key', message: 'contains a "constructor" key' }],
    ['a "prototype" key inside an array', { event_type: 'a', x: [{ prototype: 1 }] }, { code: 'forbidden_key' }],
    ['1e400 (Infinity once parsed) in an attribute', parsed('{"event_type":"a","event_attributes":{"n":1e400}}'), { code: 'out_of_range', message: 'holds a number beyond what JSON carries (±1.8e308): send it as a string' }],
    ['-1e400 inside an array', parsed('{"event_type":"a","x":[0,[-1e400]]}'), { code: 'out_of_range' }],
    ['no event_type', { url: 'x' }, { code: 'event_type', field: 'event_type', message: 'missing event_type' }],
    ['a numeric event_type', { event_type: 5 }, { code: 'event_type', message: 'event_type must be a non-empty string' }],
    ['a blank event_type', { event_type: ' \t' }, { code: 'event_type' }],
    ['an event_type over 200 characters', { event_type: 't'.repeat(201) }, { code: 'event_type', message: 'event_type is longer than 200 characters' }],
    ['an empty event_id', { event_type: 'a', event_id: '' }, { code: 'wrong_type', field: 'event_id' }],
    ['an event_id over 100 characters', { event_type: 'a', event_id: 'i'.repeat(101) }, { code: 'wrong_type', message: 'event_id must be a non-empty string of at most 100 characters (or leave it out)' }],
    ['a numeric event_id', { event_type: 'a', event_id: 5 }, { code: 'wrong_type', field: 'event_id' }],
    ['user as a string', { event_type: 'a', user: 'bob' }, { code: 'wrong_type', field: 'user', message: 'user must be an object' }],
    ['company as an array', { event_type: 'a', company: [] }, { code: 'wrong_type', field: 'company' }],
    ['ids as a number', { event_type: 'a', ids: 1 }, { code: 'wrong_type', field: 'ids' }],
    ['utm as a string', { event_type: 'a', utm: 'x' }, { code: 'wrong_type', field: 'utm' }],
    ['click_id as a Date', { event_type: 'a', click_id: new Date() }, { code: 'wrong_type', field: 'click_id' }],
    ['null event_attributes when nulls are refused', { event_type: 'a', event_attributes: null }, { code: 'wrong_type', message: 'event_attributes must be an object' }, { nullObjects: 'refuse' }],
    ['url as an array', { event_type: 'a', url: ['x'] }, { code: 'wrong_type', message: 'url must be a string' }],
    ['src as a number', { event_type: 'a', src: 1 }, { code: 'wrong_type', field: 'src' }],
    ['_timestamp as a string', { event_type: 'a', _timestamp: 'yesterday' }, { code: 'wrong_type', message: '_timestamp must be a number (UTC ms)' }],
    ['sent_at as Infinity', { event_type: 'a', sent_at: Infinity }, { code: 'wrong_type', field: 'sent_at' }],
    ['local_tz_offset as NaN', { event_type: 'a', local_tz_offset: NaN }, { code: 'wrong_type', message: 'local_tz_offset must be a number (minutes)' }],
    ['user.anonymous_id as a number', { event_type: 'a', user: { anonymous_id: 1 } }, { code: 'wrong_type', field: 'user.anonymous_id' }],
    ['user.id as a number', { event_type: 'a', user: { id: 42 } }, { code: 'wrong_type', message: 'user.id must be a string' }],
    ['user.email as an object', { event_type: 'a', user: { email: {} } }, { code: 'wrong_type', field: 'user.email' }],
  ])('%s', (_name, event, expected, options) => {
    expect(eventViolation(event, options)).toMatchObject(expected);
  });

  it('walks a million-node event without recursing and stops at the first forbidden key', () => {
    const wide = { event_type: 'a', event_attributes: Object.fromEntries(Array.from({ length: 1_000_000 }, (_, i) => [`k${i}`, [i]])) };
    expect(eventViolation(wide)).toBeUndefined();
    (wide.event_attributes as Record<string, unknown>)['k5'] = parsed('{"__proto__":1}');
    expect(eventViolation(wide)).toMatchObject({ code: 'forbidden_key' });
  });
});
