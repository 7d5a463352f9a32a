import { describe, expect, it } from 'vitest';
import { createRedactor, redact } from '../../src/delivery/redact.ts';

const TOKEN = 'Zq7+Xk/9Wm=Rt4Lp8Vb';
const hide = createRedactor([`key.${TOKEN}`, TOKEN]);

describe('createRedactor', () => {
  it.each([
    ['raw', TOKEN],
    ['percent-encoded', encodeURIComponent(TOKEN)],
    ['percent-encoded, lower case', encodeURIComponent(TOKEN).toLowerCase()],
    ['percent-encoded twice', encodeURIComponent(encodeURIComponent(TOKEN))],
    ['partly percent-encoded', TOKEN.replace('/', '%2f')],
    ['form-encoded', new URLSearchParams({ t: TOKEN }).toString().slice(2)],
    ['JSON with \\/', JSON.stringify(TOKEN).slice(1, -1).replaceAll('/', '\\/')],
    ['JSON \\u escapes', Array.from(TOKEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`).join('')],
    ['JSON inside JSON', JSON.stringify(JSON.stringify(TOKEN).replaceAll('/', '\\/')).slice(1, -1)],
    ['HTML references', TOKEN.replace('/', '&#47;').replace('+', '&#x2b;')],
    ['base64', btoa(TOKEN)],
    ['base64 inside other bytes', btoa(`Basic key.${TOKEN}!`)],
    ['base64url', btoa(`ab${TOKEN}`).replace(/\+/g, '-').replace(/\//g, '_')],
  ])('hides the token %s', (_name, spelled) => {
    const out = hide(`before ${spelled} after`);
    expect(out).toMatch(/^before .*\[redacted\].* after$/);
    expect(out).not.toContain(spelled);
    expect(out).not.toMatch(/Xk|Rt4L/);
  });

  it('hides a URL holding the token whole, the longest secret first', () => {
    expect(hide(`POST /e?token=key.${encodeURIComponent(TOKEN)} failed`)).toBe('POST /e?token=[redacted] failed');
  });

  it('leaves text without a secret alone', () => {
    expect(hide('upstream answered 503: {"status":"error"}')).toBe('upstream answered 503: {"status":"error"}');
    expect(createRedactor([])('anything')).toBe('anything');
  });

  it('keeps the two-argument redact()', () => {
    expect(redact('a k.tok b tok', ['tok'])).toBe('a k.[redacted] b [redacted]');
  });
});
