/**
 * A full or failing disk under the spool: while writes fail, POSTs get 503 with Retry-After and
 * /healthz is 503 with the reason; acknowledging needs no space, so delivery frees the disk;
 * the relay takes events again by itself; a restart re-sends nothing delivered.
 *
 * Once with writes failing on cue (an injected ENOSPC or EIO: deterministic), once on a real
 * tmpfs that fills up (mounted in a user + mount namespace, so no root needed; skipped where
 * `unshare -r -m` is not allowed).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeIo, type SpoolIo } from '../../src/delivery/file-spool/segment.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.ts';

let upstream: FakeUpstream;
let data: ReturnType<typeof tempDir>;
let relay: InProcessRelay | undefined;
let n = 0;

beforeEach(async () => {
  upstream = await startFakeUpstream();
  data = tempDir('disk');
});
afterEach(async () => {
  await relay?.close({ drainMs: 0 });
  relay = undefined;
  await upstream.close();
  data.remove();
});

const post = async (count = 5) => {
  const events = Array.from({ length: count }, () => ({ event_type: 'disk', event_id: `disk-${n++}`, event_attributes: { pad: 'x'.repeat(200) } }));
  const res = await fetch(`${relay!.url}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(events) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown>, ids: events.map((e) => e.event_id) };
};
const health = async () => {
  const res = await fetch(`${relay!.url}/healthz`);
  return { status: res.status, body: (await res.json()) as { status: string; storage: { ok: boolean; reason?: string }; spool: { depth: number } } };
};
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a disk that fails under the spool', () => {
  it.each([
    ['ENOSPC', 'disk_full'],
    ['EIO', 'write_error'],
  ])('answers 503 with Retry-After while writes fail with %s, says %s on /healthz, and heals by itself', async (code, reason) => {
    let failing = false;
    const refuse = () => Object.assign(new Error(`${code}: injected`), { code });
    const io: SpoolIo = {
      createSegment: (...args) => (failing ? Promise.reject(refuse()) : nodeIo.createSegment(...args)),
      write: (...args) => (failing ? Promise.reject(refuse()) : nodeIo.write(...args)),
    };
    relay = await startTestRelay(upstream, data.dir, { spool: { io, retryMs: 20 } });
    const acked: string[] = [];
    for (let i = 0; i < 4; i++) acked.push(...(await post()).ids);

    failing = true;
    const refused = await post();
    expect(refused).toMatchObject({ status: 503, retryAfter: '10', body: { error: 'storage_unavailable' } });
    expect(String(refused.body['message'])).toContain(`(${code})`);
    expect(await health()).toMatchObject({ status: 503, body: { status: 'unavailable', storage: { ok: false, reason } } });
    // Appends fail fast while it is down: nothing is half-stored.
    expect((await post()).status).toBe(503);

    failing = false;
    await until(health, (h) => h.status === 200, 'healthz after the disk came back');
    const again = await post();
    expect(again.status).toBe(200);
    acked.push(...again.ids);
    await upstream.waitFor((u) => acked.every((id) => u.eventIds().has(id)), 20_000);
  });
});

describe.skipIf(!canMountTmpfs)('a real tmpfs that fills up', () => {
  let tmpfs: Tmpfs | undefined;
  afterEach(async () => {
    await relay?.close({ drainMs: 0 });
    relay = undefined;
    await tmpfs?.unmount();
    tmpfs = undefined;
  });

  it('delivers and frees the disk with it full, takes events again by itself, and a restart re-sends nothing', async () => {
    tmpfs = await mountTmpfs({ size: '512k' });
    const dataDir = join(tmpfs.path, 'data');
    const start = () => startTestRelay(upstream, dataDir, { spool: { segmentBytes: 64 * 1024, retryMs: 20 } });

    upstream.fail(503);
    relay = await start();
    const acked: string[] = [];
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 2000 && !refused; i++) {
      const r = await post();
      if (r.status === 200) acked.push(...r.ids);
      else refused = r;
    }
    expect(refused).toMatchObject({ status: 503, retryAfter: '10', body: { error: 'storage_unavailable' } });
    expect(String(refused!.body['message'])).toContain('(ENOSPC)');
    expect(await health()).toMatchObject({ status: 503, body: { storage: { ok: false, reason: 'disk_full' } } });
    expect(acked.length).toBeGreaterThan(100);
    // And take the last free page too (someone else's file): now not even a small file fits.
    const filler = openSync(join(dataDir, '..', 'filler'), 'w');
    try {
      for (;;) writeSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(filler);
    }

    // The upstream comes back with the disk still full: every acknowledgement must still land.
    upstream.heal();
    await upstream.waitFor((u) => acked.every((id) => u.eventIds().has(id)), 30_000);
    const h = await until(health, (x) => x.status === 200 && x.body.spool.depth === 0, 'healthz after delivery freed the disk');
    expect(h.body.storage).toEqual({ ok: true });
    const after = await post();
    expect(after.status).toBe(200);
    acked.push(...after.ids);
    await upstream.waitFor((u) => acked.every((id) => u.eventIds().has(id)), 20_000);

    await relay.close({ drainMs: 2000 });
    const received = upstream.events.length;
    relay = await start();
    expect(relay.spool.stats().depth).toBe(0);
    expect(upstream.events.length).toBe(received);
    console.log(`tmpfs 512 KiB: ${acked.length} acknowledged, all delivered; disk full refused with 503 ENOSPC, healed by itself`);
  });
});
