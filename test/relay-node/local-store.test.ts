import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStore, readRecent } from '../../src/relay-node/local-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-local-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const batch = (from: number, n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ event_type: 'e', n: from + i, pad: 'x'.repeat(80) })));
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { n: number }) : []);

describe('the embedded local store', () => {
  it('appends every event of a batch as a line', async () => {
    const store = createLocalStore(join(dir, 'events.ndjson'));
    expect(await store.send(batch(0, 3))).toMatchObject({ kind: 'ok' });
    expect(await store.send(batch(3, 2))).toMatchObject({ kind: 'ok' });
    expect(lines(join(dir, 'events.ndjson')).map((e) => e.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps at most DATA_MAX_MB: the newest events, in events.ndjson and the one file before it', async () => {
    const file = join(dir, 'events.ndjson');
    const maxBytes = 20_000;
    const store = createLocalStore(file, maxBytes);
    for (let i = 0; i < 100; i++) expect(await store.send(batch(i * 10, 10))).toMatchObject({ kind: 'ok' });
    // 100 batches of ~1 KB each: 100 KB written, 20 KB kept.
    const kept = [...lines(join(dir, 'events.1.ndjson')), ...lines(file)].map((e) => e.n);
    const size = statSync(file).size + statSync(join(dir, 'events.1.ndjson')).size;
    expect(size).toBeLessThanOrEqual(maxBytes);
    expect(size).toBeGreaterThan(maxBytes / 2);
    // The newest, in order and without a gap, ending with the last one sent.
    expect(kept.at(-1)).toBe(999);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 1000 - kept.length + i));
    expect((await readRecent(file, 5)).map((e) => e['n'])).toEqual([995, 996, 997, 998, 999]);
  });

  it('counts what an earlier run left in the file', async () => {
    const file = join(dir, 'events.ndjson');
    const first = createLocalStore(file, 20_000);
    for (let i = 0; i < 7; i++) await first.send(batch(i * 10, 10)); // ~8 KB of the 10 KB half
    expect(existsSync(join(dir, 'events.1.ndjson'))).toBe(false);
    const restarted = createLocalStore(file, 20_000);
    for (let i = 7; i < 10; i++) await restarted.send(batch(i * 10, 10));
    expect(existsSync(join(dir, 'events.1.ndjson'))).toBe(true);
    expect(statSync(file).size).toBeLessThan(10_000);
  });

  it('asks for a retry when the directory cannot be written', async () => {
    const store = createLocalStore(join(dir, 'missing', 'events.ndjson'));
    expect(await store.send(batch(0, 1))).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^local store: ENOENT/) });
  });
});
