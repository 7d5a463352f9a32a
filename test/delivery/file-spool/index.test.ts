import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFileSpool, type FileSpool } from '../../../src/delivery/file-spool/index.ts';
import type { Logger } from '../../../src/delivery/log.ts';
import { createMemorySpool } from '../../../src/delivery/memory-spool.ts';
import { SpoolFullError, SpoolUnavailableError, type Spool } from '../../../src/delivery/spool.ts';
import { nodeIo } from '../../../src/delivery/file-spool/segment.ts';
import { buildSpoolOnce, spoolProcess } from '../../support/spool-process.ts';

let dir: string;
let lines: { level: string; msg: string; fields?: Record<string, unknown> }[];
const logger: Logger = {
  info: (msg, fields) => lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
  warn: (msg, fields) => lines.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
  error: (msg, fields) => lines.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
};
const rec = (i: number) => JSON.stringify({ event_type: 'e', event_id: `id-${i}`, note: 'ünïcode\ttab\nnewline' });
const open = (extra: { maxBytes?: number; segmentBytes?: number } = {}) => createFileSpool({ dir, logger, ...extra });
const segments = () => readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();

async function drainAll(spool: Spool, batch = 7): Promise<string[]> {
  const out: string[] = [];
  for (let b = await spool.read(batch, 1e9); b; b = await spool.read(batch, 1e9)) {
    out.push(...b.records);
    await spool.ack(b.cursor);
  }
  return out;
}

beforeAll(() => buildSpoolOnce(), 120_000);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-spool-'));
  lines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// The same contract for both spools; the file spool then gets its durability tests.
describe.each([
  ['memory spool', async (maxBytes?: number) => createMemorySpool(maxBytes ? { maxBytes } : {})],
  ['file spool', async (maxBytes?: number) => open(maxBytes ? { maxBytes } : {})],
] as const)('%s', (_name, make) => {
  it('hands records back in order, in batches, until acked', async () => {
    const spool = await make();
    await spool.append([rec(0), rec(1), rec(2)]);
    await spool.append([rec(3)]);
    const first = await spool.read(2, 1e9);
    expect(first?.records).toEqual([rec(0), rec(1)]);
    expect((await spool.read(2, 1e9))?.records).toEqual([rec(0), rec(1)]);
    await spool.ack(first!.cursor);
    expect(spool.stats().depth).toBe(2);
    expect(await drainAll(spool)).toEqual([rec(2), rec(3)]);
    expect(await spool.read(10, 1e9)).toBeNull();
    expect(spool.stats()).toEqual({ depth: 0, bytes: 0 });
    await spool.close();
  });

  it('respects the byte limit but always returns at least one record', async () => {
    const spool = await make();
    await spool.append([rec(0), rec(1), rec(2)]);
    expect((await spool.read(10, Buffer.byteLength(rec(0)) * 2))?.records).toHaveLength(2);
    expect((await spool.read(10, 1))?.records).toHaveLength(1);
    await spool.close();
  });

  it('reports depth, bytes and the oldest arrival', async () => {
    const spool = await make();
    const before = Date.now();
    await spool.append([rec(0), rec(1)]);
    const stats = spool.stats();
    expect(stats.depth).toBe(2);
    expect(stats.bytes).toBeGreaterThanOrEqual(rec(0).length * 2);
    expect(stats.oldestAt).toBeGreaterThanOrEqual(before);
    await spool.close();
  });

  it('refuses appends over the cap with SpoolFullError and stores nothing', async () => {
    const spool = await make(1000);
    await spool.append([rec(0)]);
    await expect(spool.append(Array.from({ length: 20 }, (_, i) => rec(i)))).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.stats().depth).toBe(1);
    await spool.close();
  });
});

describe('file spool', () => {
  it('survives a restart: resumes after the checkpoint', async () => {
    let spool = await open();
    await spool.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    const b = await spool.read(4, 1e9);
    await spool.ack(b!.cursor);
    await spool.close();
    spool = await open();
    expect(spool.stats().depth).toBe(6);
    expect(await drainAll(spool)).toEqual(Array.from({ length: 6 }, (_, i) => rec(i + 4)));
    await spool.close();
  });

  it('survives a crash without close (nothing acked is lost)', async () => {
    // Another process appends and is SIGKILLed with the directory open: its files, lock
    // included, stay exactly as they were.
    const child = spoolProcess(dir, `const spool = await createFileSpool({ dir });
await spool.append(${JSON.stringify([rec(0), rec(1)])});
process.kill(process.pid, 'SIGKILL');`);
    expect((await child.exited).signal).toBe('SIGKILL');
    const again = await open();
    expect(await drainAll(again)).toEqual([rec(0), rec(1)]);
    await again.close();
  });

  it('skips a truncated last record after a power cut and says what it skipped', async () => {
    let spool = await open();
    await spool.append([rec(0), rec(1)]);
    await spool.close();
    appendFileSync(join(dir, segments().at(-1)!), `${Date.now()}\t{"event_type":"torn","ev`);
    spool = await open();
    const warn = lines.find((l) => l.msg === 'spool skipped a truncated record');
    expect(warn?.fields).toMatchObject({ bytes: expect.any(Number), preview: expect.stringContaining('torn') });
    await spool.append([rec(2)]);
    expect(await drainAll(spool)).toEqual([rec(0), rec(1), rec(2)]);
    await spool.close();
  });

  it('preallocates segments and recovers a record torn inside the zeros', async () => {
    let spool = await open({ segmentBytes: 64 * 1024 });
    await spool.append([rec(0)]);
    await spool.close();
    const file = join(dir, segments()[0]!);
    expect(statSync(file).size).toBe(64 * 1024);
    // A power cut mid-write: part of a line landed where the zeros were.
    const dataEnd = readFileSync(file).indexOf(0);
    const fd = openSync(file, 'r+');
    writeSync(fd, `${Date.now()}\t{"event_type":"to`, dataEnd);
    closeSync(fd);
    spool = await open({ segmentBytes: 64 * 1024 });
    expect(lines.find((l) => l.msg === 'spool skipped a truncated record')?.fields).toMatchObject({ offset: dataEnd, preview: expect.stringContaining('"to') });
    await spool.append([rec(1)]);
    expect(await drainAll(spool)).toEqual([rec(0), rec(1)]);
    await spool.close();
    const again = await open({ segmentBytes: 64 * 1024 });
    expect(again.stats().depth).toBe(0);
    await again.close();
  });

  it('skips unreadable lines instead of blocking delivery', async () => {
    let spool = await open();
    await spool.append([rec(0)]);
    await spool.close();
    appendFileSync(join(dir, segments().at(-1)!), '\0\0\0\0\n');
    spool = await open();
    await spool.append([rec(1)]);
    expect(await drainAll(spool)).toEqual([rec(0), rec(1)]);
    expect(lines.some((l) => l.msg === 'spool skipped an unreadable line')).toBe(true);
    await spool.close();
  });

  it('moves on to the next segment when the rest of one is unreadable', async () => {
    let spool = await open({ segmentBytes: 10 });
    await spool.append([rec(0)]);
    await spool.append([rec(1)]);
    const first = await spool.read(1, 1e9);
    await spool.ack(first!.cursor);
    await spool.close();
    appendFileSync(join(dir, segments()[0]!), '\0\0\0\n');
    spool = await open({ segmentBytes: 10 });
    expect(await drainAll(spool)).toEqual([rec(1)]);
    await spool.close();
  });

  it('rotates segments and deletes spent ones', async () => {
    const spool = await open({ segmentBytes: 500 });
    for (let i = 0; i < 20; i++) await spool.append([rec(i)]);
    expect(segments().length).toBeGreaterThan(3);
    expect(await drainAll(spool, 3)).toEqual(Array.from({ length: 20 }, (_, i) => rec(i)));
    expect(segments().length).toBeLessThanOrEqual(2);
    await spool.close();
    const again = await open({ segmentBytes: 500 });
    expect(again.stats().depth).toBe(0);
    await again.close();
  });

  it('shares one fsync between concurrent appends (group commit)', async () => {
    const spool = await open();
    const before = spool.syncs();
    await Promise.all(Array.from({ length: 200 }, (_, i) => spool.append([rec(i)])));
    expect(spool.stats().depth).toBe(200);
    // The first append syncs alone; everything that queued meanwhile shares the next sync.
    expect(spool.syncs() - before).toBeLessThanOrEqual(2);
    // One segment holds all 200, in append order.
    expect(await drainAll(spool, 500)).toEqual(Array.from({ length: 200 }, (_, i) => rec(i)));
    await spool.close();
  });

  it('writes dead letters with their reason', async () => {
    const spool = await open();
    await spool.deadLetter(rec(5), 'upstream answered 400: bad');
    const line = JSON.parse(readFileSync(spool.deadLetterPath, 'utf8').trim());
    expect(line).toMatchObject({ reason: 'upstream answered 400: bad', event: JSON.parse(rec(5)) });
    await spool.close();
  });

  it('acknowledges in place: one 64-byte checkpoint, no temporary file', async () => {
    const spool = await open();
    await spool.append([rec(0), rec(1)]);
    const b = await spool.read(1, 1e9);
    await spool.ack(b!.cursor);
    expect(readdirSync(dir).filter((f) => f.startsWith('checkpoint'))).toEqual(['checkpoint.json']);
    expect(statSync(join(dir, 'checkpoint.json')).size).toBe(64);
    await spool.close();
  });

  it('counts dead letters against the cap, and says so when they fill it', async () => {
    const spool = await open({ maxBytes: 2 * 1048576 });
    const big = JSON.stringify({ event_id: 'x', pad: 'p'.repeat(1048576) });
    await spool.deadLetter(big, 'upstream answered 400');
    await spool.deadLetter(big, 'upstream answered 400');
    expect(spool.stats().deadLetterBytes).toBeGreaterThan(2 * 1048576);
    const error = await spool.append([rec(0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolFullError);
    expect((error as Error).message).toMatch(/cap 2 MB, 2 MB of it dead letters: see umbeacon dead-letters/);
    await spool.close();
    const again = await open({ maxBytes: 2 * 1048576 });
    await expect(again.append([rec(0)])).rejects.toBeInstanceOf(SpoolFullError);
    await again.close();
  });

  it('refuses appends at once while writes fail, and takes them again once a segment can be made', async () => {
    let failing = false;
    const enospc = () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    const spool = await createFileSpool({
      dir,
      logger,
      retryMs: 10,
      io: {
        createSegment: (...a) => (failing ? enospc() : nodeIo.createSegment(...a)),
        write: (...a) => (failing ? enospc() : nodeIo.write(...a)),
      },
    });
    await spool.append([rec(0)]);
    failing = true;
    await expect(spool.append([rec(1)])).rejects.toBeInstanceOf(SpoolUnavailableError);
    expect(spool.health?.()).toMatchObject({ ok: false, reason: 'disk_full' });
    await expect(spool.append([rec(2)])).rejects.toThrow('no space left on its disk (ENOSPC)');
    failing = false;
    while (!spool.health?.().ok) await new Promise((r) => setTimeout(r, 5));
    await spool.append([rec(3)]);
    expect(await drainAll(spool)).toEqual([rec(0), rec(3)]);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['spool cannot write; refusing new events until it can', 'spool writes again']));
    await spool.close();
  });

  it('starts over from the oldest segment when the checkpoint is unreadable', async () => {
    let spool = await open();
    await spool.append([rec(0)]);
    const b = await spool.read(1, 1e9);
    await spool.ack(b!.cursor);
    await spool.append([rec(1)]);
    await spool.close();
    writeFileSync(join(dir, 'checkpoint.json'), '{garbage');
    spool = await open();
    expect((await drainAll(spool)).at(-1)).toBe(rec(1));
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
    await spool.close();
  });
});
