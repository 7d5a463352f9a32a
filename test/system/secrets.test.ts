/**
 * The server token is a secret: it never reaches a response (any route, any error), the served
 * script, a log line, /healthz, the dead-letter file or an error message — also when the
 * upstream echoes the request URL back. And what a client claims as api_key/token/source_ip is
 * ignored.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay-node/config.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { root, startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';

// Characters that change under URL encoding (+ / =) and under JSON escaping (/), so a leak in
// any of those spellings is caught too.
const TOKEN = 'Zq7+Xk/9Wm=Rt4Lp8Vb';
const API_KEY = 'pubkey123';

const CREDENTIALS = `${API_KEY}.${TOKEN}`;
const pct = (text: string) => encodeURIComponent(text);
const lowerPct = (text: string) => pct(text).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const unicodeEscaped = (text: string) => Array.from(text, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
const htmlEntities = (text: string) => text.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
const jsonSlashes = (text: string) => JSON.stringify(text).slice(1, -1).replaceAll('/', '\\/');

/** Every way the token could be spelled in a response, log line or file. */
const spellings = [TOKEN, pct(TOKEN), lowerPct(TOKEN), pct(pct(TOKEN)), new URLSearchParams({ t: TOKEN }).toString().slice(2), jsonSlashes(TOKEN), unicodeEscaped(TOKEN), htmlEntities(TOKEN)];
/** Also a fragment of it: a message cut at a length limit must not keep half the secret. */
const fragments = Array.from({ length: TOKEN.length - 5 }, (_, i) => TOKEN.slice(i, i + 6));
/** And 12 characters from inside its base64, at each alignment (an echoed Authorization header). */
const base64Fragments = ['', '.', '..'].flatMap((lead) => {
  const b64 = btoa(`${API_KEY}${lead}.${TOKEN}`);
  return Array.from({ length: b64.length - 20 }, (_, i) => b64.slice(i + 14, i + 26)).filter((f) => f.length === 12);
});

function leaks(text: string): string[] {
  const found = spellings.filter((s) => text.includes(s));
  for (const f of fragments) if (text.includes(f) || text.includes(encodeURIComponent(f))) found.push(f);
  for (const f of base64Fragments) if (text.includes(f)) found.push(`base64 ${f}`);
  return [...new Set(found)];
}

let upstream: FakeUpstream;
let relay: InProcessRelay;
let data: ReturnType<typeof tempDir>;

beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: API_KEY, serverToken: TOKEN });
  data = tempDir('secrets');
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  await upstream.close();
  data.remove();
});

interface Seen {
  status: number;
  raw: string;
}
function call(url: string, method = 'GET', body?: string | Buffer, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-type': 'text/plain', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: `${res.rawHeaders.join('\n')}\n\n${Buffer.concat(chunks).toString('utf8')}` }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const event = (extra: Record<string, unknown> = {}) => ({ event_type: 'secret-test', event_id: crypto.randomUUID(), user: { anonymous_id: crypto.randomUUID() }, ...extra });

describe('forged fields', () => {
  it.each([
    ['/u/e', {}],
    [`/api/v1/event?token=${API_KEY}`, {}],
  ])('ignores api_key, token and source_ip sent to %s', async (path) => {
    relay = await startTestRelay(upstream, data.dir);
    const forged = event({ api_key: 'attacker-key', token: `attacker-key.${'x'.repeat(10)}`, source_ip: '6.6.6.6', server_token: 'nope' });
    const answer = await call(relay.url + path, 'POST', JSON.stringify([forged]), { 'x-forwarded-for': '7.7.7.7' });
    expect(answer.status).toBe(200);
    await upstream.waitFor((u) => u.eventIds().has(forged.event_id));
    const arrived = upstream.events.find((e) => e['event_id'] === forged.event_id)!;
    expect(arrived['api_key']).toBe(API_KEY);
    expect(arrived['source_ip']).toBe('127.0.0.1');
    expect(arrived).not.toHaveProperty('token');
    // Upstream requests carry the relay's own token in the URL only, never a client's.
    expect(new Set(upstream.requests.map((r) => r.token))).toEqual(new Set([`${API_KEY}.${TOKEN}`]));
  });
});

describe('the server token', () => {
  it('appears in no response of any route, success or error', async () => {
    relay = await startTestRelay(upstream, data.dir, { eventsPage: true, scriptFile: `${root}/public/u.js` });
    const valid = JSON.stringify([event()]);
    const answers = await Promise.all([
      call(relay.url + '/u.js'),
      call(relay.url + '/u/p.gif?url=https%3A%2F%2Fsite.test%2F'),
      call(relay.url + '/healthz'),
      call(relay.url + '/_events'),
      call(relay.url + '/_events/data'),
      call(relay.url + '/'),
      call(relay.url + '/nope'),
      call(relay.url + '/u/e', 'POST', valid),
      call(relay.url + '/u/e', 'POST', '{broken'),
      call(relay.url + '/u/e', 'POST', Buffer.from([0xff, 0xfe])),
      call(relay.url + '/u/e', 'POST', JSON.stringify([{ event_type: 'x', __proto__x: 1, nested: JSON.parse('{"__proto__":1}') }])),
      call(relay.url + '/u/e', 'POST', 'x'.repeat(70_000)),
      call(relay.url + '/u/e', 'POST', valid, { 'content-type': 'application/xml' }),
      call(relay.url + '/u/e', 'PUT', valid),
      call(relay.url + '/u/e', 'OPTIONS', undefined, { origin: 'https://elsewhere.test' }),
      call(relay.url + `/api/v1/event?token=${API_KEY}`, 'POST', valid),
      call(relay.url + `/api/v1/event?token=${API_KEY}.${TOKEN}`, 'POST', valid),
      call(relay.url + '/api/v1/event?token=wrong', 'POST', valid),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 404, 200, 400, 400, 400, 413, 415, 405, 204, 200, 403, 403]);
    for (const a of answers) expect(leaks(a.raw)).toEqual([]);
  });

  it.each([
    ['500', 500, 0],
    ['429', 429, 0],
    ['400 (dead letter)', 400, 0],
    // Padding puts the token across the 200-character cut of the reason excerpt.
    ['500, cut mid-token', 500, 115],
    ['400 (dead letter), cut mid-token', 400, 115],
  ])('stays out of /healthz, logs and the dead-letter file when the upstream echoes the URL in a %s', async (_name, status, pad) => {
    relay = await startTestRelay(upstream, data.dir);
    const body = (target: string) => JSON.stringify({ error: 'bad request', detail: `${'.'.repeat(pad)} POST ${target}`, url: `http://upstream${target}` });
    const sent = event();
    // A refusal is the event's fault (dead letter) only while the upstream takes its neighbours.
    if (status === 400) upstream.reject((e) => e['event_id'] === sent.event_id, 400, { body });
    else upstream.fail(status, { count: 3, body });
    await call(relay.url + '/u/e', 'POST', JSON.stringify([sent, event()]));
    await upstream.waitFor((u) => u.requests.some((r) => r.status === status));
    const health = await call(relay.url + '/healthz');
    if (status !== 400) {
      expect(health.raw).toMatch(new RegExp(`"lastStatus":${status}`));
      await upstream.waitFor((u) => u.eventIds().has(sent.event_id));
    } else {
      await expect.poll(() => readOrEmpty(relay.spool.deadLetterPath)).toContain(sent.event_id);
    }
    expect(leaks(health.raw)).toEqual([]);
    expect(leaks(relay.lines.join('\n'))).toEqual([]);
    expect(leaks(readOrEmpty(relay.spool.deadLetterPath))).toEqual([]);
    expect(relay.lines.some((l) => l.includes('upstream'))).toBe(true);
  });

  it('stays out of every metric, label and log line, through failures, timeouts and dead letters', async () => {
    relay = await startTestRelay(upstream, data.dir, { metricsPort: 0 });
    const body = (target: string) => JSON.stringify({ error: 'echo', url: `http://upstream${target}`, token: CREDENTIALS, b64: btoa(CREDENTIALS) });
    const kept = event();
    const refused = event();
    upstream.fail(500, { count: 2, body });
    await call(relay.url + '/u/e', 'POST', JSON.stringify([kept]));
    await upstream.waitFor((u) => u.eventIds().has(kept.event_id));
    upstream.hang();
    await call(relay.url + '/u/e', 'POST', JSON.stringify([event()]));
    await expect.poll(async () => (await call(relay.metricsListener!.url)).raw, { timeout: 10_000 }).toContain('status="timeout"');
    upstream.heal();
    upstream.reject((e) => e['event_id'] === refused.event_id, 400, { body });
    await call(relay.url + '/u/e', 'POST', JSON.stringify([refused, event()]));
    await call(relay.url + `/api/v1/event?token=${API_KEY}.${TOKEN}`, 'POST', JSON.stringify([event()]));
    await expect.poll(() => readOrEmpty(relay.spool.deadLetterPath)).toContain(refused.event_id);
    await expect.poll(async () => (await call(relay.metricsListener!.url)).raw).toContain('umbeacon_events_dead_lettered_total 1');
    const metrics = await call(relay.metricsListener!.url);
    expect(metrics.raw).toContain('umbeacon_upstream_requests_total{status="500"} 2');
    expect(leaks(metrics.raw)).toEqual([]);
    expect(leaks(relay.lines.join('\n'))).toEqual([]);
  });

  // The raw request target is `/api/v1/s2s/event?token=pubkey123.Zq7%2BXk%2F9Wm%3DRt4Lp8Vb`.
  const decoded = (target: string) => decodeURIComponent(target);
  it.each([
    ['JSON-escaped, / as \\/ (PHP json_encode)', (t: string) => `{"url":"${jsonSlashes(`http://upstream${decoded(t)}`)}"}`],
    ['every character as a \\u escape', (t: string) => `{"token":"${unicodeEscaped(CREDENTIALS)}","path":"${unicodeEscaped(decoded(t))}"}`],
    ['lower-case percent-encoding', (t: string) => `bad target ${t.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ['form-encoding', (t: string) => `received ${new URLSearchParams({ url: `http://upstream${decoded(t)}`, token: CREDENTIALS }).toString()}`],
    ['percent-encoding twice', (t: string) => `redirect_uri=${pct(`http://upstream${t}`)}`],
    ['base64 (an Authorization header)', () => `authorization: Basic ${btoa(CREDENTIALS)}; again ${btoa(`x${CREDENTIALS}`)} ${btoa(`xy${TOKEN}`)}`],
    ['HTML character references', (t: string) => `<p>${htmlEntities(decoded(t))}</p>`],
  ])('stays out of /healthz, logs and dead letters when the upstream echoes it %s', async (_name, echo) => {
    relay = await startTestRelay(upstream, data.dir);
    const body = (target: string) => `upstream-text: ${echo(target)}`;
    const refused = event();
    const kept = event();
    upstream.fail(500, { count: 3, body });
    await call(relay.url + '/u/e', 'POST', JSON.stringify([kept]));
    await upstream.waitFor((u) => u.requests.filter((r) => r.status === 500).length >= 1);
    const health = await call(relay.url + '/healthz');
    await upstream.waitFor((u) => u.eventIds().has(kept.event_id));
    upstream.reject((e) => e['event_id'] === refused.event_id, 400, { body });
    await call(relay.url + '/u/e', 'POST', JSON.stringify([refused, event()]));
    await expect.poll(() => readOrEmpty(relay.spool.deadLetterPath)).toContain(refused.event_id);
    // /healthz is public: a status and a category, never the upstream's words.
    expect(JSON.parse(health.raw.slice(health.raw.indexOf('\n\n') + 2)).upstream).toMatchObject({ lastStatus: 500, problem: 'server_error' });
    expect(health.raw).not.toContain('upstream-text');
    expect(leaks(health.raw)).toEqual([]);
    // The log keeps the upstream's words, redacted.
    expect(relay.lines.join('\n')).toContain('upstream-text');
    expect(leaks(relay.lines.join('\n'))).toEqual([]);
    expect(leaks(readOrEmpty(relay.spool.deadLetterPath))).toEqual([]);
  });

  it('stays out of the start-up error for a wrong USERMAVEN_URL pasted with the token in it', () => {
    const attempts = [`events.usermaven.com/api/v1/s2s/event?token=${API_KEY}.${TOKEN}`, `https://events.usermaven.com/?token=${API_KEY}.${TOKEN}`, `ftp://${TOKEN}@events.usermaven.com`];
    for (const url of attempts) {
      let message = '';
      try {
        loadConfig({ USERMAVEN_API_KEY: API_KEY, USERMAVEN_SERVER_TOKEN: TOKEN, USERMAVEN_URL: url, SITE_DIR: `${root}/public` });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message, url).toMatch(/^USERMAVEN_URL: /);
      expect(leaks(message), url).toEqual([]);
    }
  });

  it('is not in the served script', () => {
    expect(leaks(readFileSync(`${root}/public/u.js`, 'utf8'))).toEqual([]);
  });
});

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
