/**
 * Hiding the server token in text that might echo it: upstream error bodies, network errors,
 * log lines. An upstream or a proxy may echo the request URL in any escaping, so each secret
 * is matched character by character in every form seen in the wild:
 *
 * - raw, and percent-encoded in either case (`%2F`, `%2f`), encoded more than once (`%252F`),
 *   any mix of encoded and plain characters (what `encodeURIComponent` and proxies produce);
 * - form-encoded (`+` for a space);
 * - JSON-escaped: `\/` (PHP's `json_encode` escapes `/`), `\uXXXX` in either case, and the same
 *   again inside another JSON string (`\\\/`);
 * - HTML character references (`&#47;`, `&#x2F;`);
 * - base64 and base64url of the secret at any alignment (an echoed `Authorization` header).
 *
 * Matching ignores case (hex digits come in both cases); hiding a look-alike that differs
 * only in case costs nothing. Runtime-neutral: no Node imports.
 */

export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

/**
 * @example
 *   const hide = createRedactor([serverToken, `${apiKey}.${serverToken}`]);
 *   hide(`upstream said: bad token ${encodeURIComponent(serverToken)}`); // 'upstream said: bad token [redacted]'
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const live = [...new Set(secrets.filter((s) => s.length > 0))];
  if (live.length === 0) return (text) => text;
  const patterns = live.sort((a, b) => b.length - a.length).map(secretPattern);
  const cores = live.flatMap(base64Cores).filter((c) => c.length >= 8);
  const all = [...patterns, ...cores.sort((a, b) => b.length - a.length).map(escapeRegExp)];
  const matcher = new RegExp(all.join('|'), 'gi');
  return (text) => (text ? text.replace(matcher, REDACTED) : text);
}

/** Replace every form of every secret in `message`. */
export function redact(message: string, secrets: readonly string[]): string {
  return createRedactor(secrets)(message);
}

function secretPattern(secret: string): string {
  return Array.from(secret, charPattern).join('');
}

const encoder = new TextEncoder();

/** Everything one character of a secret may look like in an echo. */
function charPattern(char: string): string {
  const code = char.codePointAt(0)!;
  const forms = [escapeRegExp(char)];
  // Percent-encoding of each UTF-8 byte, possibly encoded again (%25 is an encoded %).
  forms.push(Array.from(encoder.encode(char), (byte) => `%(?:25)*${hex2(byte)}`).join(''));
  // JSON \u escapes (a surrogate pair above U+FFFF), behind any number of backslashes.
  const units = code > 0xffff ? [0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff)] : [code];
  forms.push(units.map((unit) => `\\\\+u${unit.toString(16).padStart(4, '0')}`).join(''));
  // HTML character references.
  forms.push(`&#0*${code};`, `&#x0*${code.toString(16)};`);
  if (char === ' ') forms.push('\\+');
  // JSON may escape any of these with a backslash (`\/`, `\"`, `\\`); allow escapes of escapes.
  const escaped = `\\\\+${escapeRegExp(char)}`;
  if (!/[0-9a-z]/i.test(char)) forms.push(escaped);
  return `(?:${forms.join('|')})`;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * The part of base64(…secret…) that does not depend on the bytes around the secret, for each of
 * the three alignments, in both alphabets.
 */
function base64Cores(secret: string): string[] {
  const bytes = encoder.encode(secret);
  const out: string[] = [];
  for (const lead of [0, 1, 2]) {
    const padded = new Uint8Array(lead + bytes.length);
    padded.set(bytes, lead);
    let text = btoa(String.fromCharCode(...padded)).replace(/=+$/, '');
    // Characters that mix in a byte before the secret, and the last one that mixes in a byte after it.
    text = text.slice(lead === 0 ? 0 : lead === 1 ? 2 : 3, padded.length % 3 === 0 ? text.length : text.length - 1);
    out.push(text, text.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}
