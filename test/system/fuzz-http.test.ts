/**
 * A sample of the fuzzed bodies of test/system/fuzz.test.ts once more over real HTTP, through the
 * node:http adapter (its own request and body handling) into a relay with a durable spool.
 * Bad bodies get a 4xx with a reason, store nothing, forward nothing; the relay stays up.
 */
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';

let upstream: FakeUpstream;
let relay: InProcessRelay;
let data: ReturnType<typeof tempDir>;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  upstream = await startFakeUpstream();
  data = tempDir('fuzz-http');
  relay = await startTestRelay(upstream, data.dir);
});
afterAll(async () => {
  agent.destroy();
  await relay.close({ drainMs: 0 });
  await upstream.close();
  data.remove();
});

function post(path: string, body: Uint8Array, type: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(relay.url + path, { method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.byteLength } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const encoder = new TextEncoder();
const bad = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => encoder.encode(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => encoder.encode(`${JSON.stringify(v)}]`)),
  fc.constantFrom('{"event_type":"a","__proto__":{"x":1}}', '[{"event_type":"a","_timestamp":"1"}]', '{"event_type":NaN}', '[]', '{}', '[[[[[[[[[[1]]]]]]]]]]').map((s) => encoder.encode(s)),
  fc.tuple(fc.constant('[{"event_type":"a","url":"'), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80])).map(([s, b]) => new Uint8Array([...encoder.encode(s), ...b, ...encoder.encode('"}]')])),
);

describe('fuzzed bodies over HTTP', () => {
  it('answers each bad body with a 4xx and a reason, stores nothing and forwards nothing', async () => {
    await fc.assert(
      fc.asyncProperty(bad, fc.constantFrom('/u/e', `/api/v1/event?token=${upstream.apiKey}`), fc.constantFrom('text/plain', 'application/json'), async (body, path, type) => {
        const answer = await post(path, body, type);
        expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(JSON.parse(answer.text)).toMatchObject({ status: 'error', error: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
      }),
      { numRuns: 600 },
    );
    expect(relay.spool.stats().depth).toBe(0);
    expect(upstream.requests).toEqual([]);
    const health = await post('/u/e', encoder.encode(JSON.stringify({ event_type: 'after-fuzz' })), 'text/plain');
    expect(health.status).toBe(200);
  });
});
