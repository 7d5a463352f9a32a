/**
 * The file spool against a plain in-memory model, driven by fast-check commands: append, read,
 * ack, dead-letter, crash (the directory as the disk holds it, with or without a torn tail,
 * opened by a new spool) and a clean reopen. After every step the spool holds what the model
 * holds; a read hands out the model's oldest records, in order. At the end everything not
 * acknowledged is still there, in order: nothing acknowledged is lost, nothing is reordered
 * (so each visitor's events keep their order).
 */
import { closeSync, cpSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFileSpool, type FileSpool } from '../../../src/delivery/file-spool/index.ts';
import type { Logger } from '../../../src/delivery/log.ts';
import type { SpoolBatch } from '../../../src/delivery/spool.ts';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
/** Small segments, so a run rotates, deletes spent segments and recovers across several. */
const SEGMENT_BYTES = 512;

interface Model {
  /** Appended and not acknowledged, oldest first. */
  pending: string[];
  /** Dead-lettered, in order. */
  dead: string[];
  /** How many records the last read handed out, while they wait for an ack. */
  inflight: number | null;
}

interface Real {
  root: string;
  dir: string;
  spool: FileSpool;
  batch: SpoolBatch | null;
  opened: number;
}

const open = (dir: string) => createFileSpool({ dir, segmentBytes: SEGMENT_BYTES, logger: quiet, lock: { heartbeatMs: 60_000, staleMs: 120_000 } });

function same(m: Model, r: Real): void {
  expect(r.spool.stats().depth).toBe(m.pending.length);
}

class Append implements fc.AsyncCommand<Model, Real> {
  constructor(readonly records: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await r.spool.append(this.records);
    m.pending.push(...this.records);
    same(m, r);
  }
  toString = () => `append(${this.records.length})`;
}

class Read implements fc.AsyncCommand<Model, Real> {
  constructor(readonly max: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const batch = await r.spool.read(this.max, 1e6);
    if (m.pending.length === 0) {
      expect(batch).toBeNull();
      r.batch = null;
      m.inflight = null;
      return;
    }
    expect(batch).not.toBeNull();
    const records = batch!.records;
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.length).toBeLessThanOrEqual(this.max);
    expect(records).toEqual(m.pending.slice(0, records.length));
    r.batch = batch;
    m.inflight = records.length;
  }
  toString = () => `read(${this.max})`;
}

class Ack implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.inflight !== null;
  async run(m: Model, r: Real) {
    await r.spool.ack(r.batch!.cursor);
    m.pending.splice(0, m.inflight!);
    m.inflight = null;
    r.batch = null;
    same(m, r);
  }
  toString = () => 'ack';
}

class DeadLetter implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.inflight !== null;
  async run(m: Model, r: Real) {
    for (const record of r.batch!.records) await r.spool.deadLetter(record, 'refused');
    await r.spool.ack(r.batch!.cursor);
    m.dead.push(...m.pending.splice(0, m.inflight!));
    m.inflight = null;
    r.batch = null;
    same(m, r);
    const kept = readFileSync(r.spool.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.stringify((JSON.parse(l) as { event: unknown }).event));
    expect(kept).toEqual(m.dead.map((d) => JSON.stringify(JSON.parse(d))));
  }
  toString = () => 'dead-letter';
}

/**
 * The process dies: what is on disk is what a new process finds. The directory is copied as it
 * stands (without the lock of the live process), optionally with a line torn mid-write after
 * the last synced one, and a new spool opens the copy. What was read and not acknowledged is
 * handed out again.
 */
class Crash implements fc.AsyncCommand<Model, Real> {
  constructor(readonly torn: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const copy = join(r.root, `crash-${r.opened++}`);
    cpSync(r.dir, copy, { recursive: true, filter: (src) => !/owner-.*\.lock$/.test(src) });
    if (this.torn) tearTail(copy);
    await r.spool.close();
    r.dir = copy;
    r.spool = await open(copy);
    r.batch = null;
    m.inflight = null;
    same(m, r);
  }
  toString = () => `crash(${this.torn ? 'torn' : 'clean'})`;
}

class Reopen implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.spool.close();
    r.spool = await open(r.dir);
    r.batch = null;
    m.inflight = null;
    same(m, r);
  }
  toString = () => 'reopen';
}

/** Half a line written where the next append would go, never synced (a write the crash cut). */
function tearTail(dir: string): void {
  const last = readdirSync(dir).filter((f) => f.startsWith('seg-')).sort().at(-1);
  if (!last) return;
  const path = join(dir, last);
  const data = readFileSync(path);
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const torn = Buffer.from('1700000000000\t{"v":"torn","i":');
  if (end + torn.length > statSync(path).size) return;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, torn, 0, torn.length, end);
  } finally {
    closeSync(fd);
  }
}

const record = fc
  .record({ v: fc.constantFrom('visitor-a', 'visitor-b', 'visitor-c'), i: fc.nat(), note: fc.string({ maxLength: 60 }) })
  .map((r) => JSON.stringify(r));
const commands = fc.commands(
  [
    fc.array(record, { minLength: 1, maxLength: 6 }).map((records) => new Append(records)),
    fc.integer({ min: 1, max: 8 }).map((max) => new Read(max)),
    fc.constant(new Ack()),
    fc.constant(new DeadLetter()),
    fc.boolean().map((torn) => new Crash(torn)),
    fc.constant(new Reopen()),
  ],
  { maxCommands: 30 },
);

describe('the file spool against a model', () => {
  it('loses nothing acknowledged and keeps the order, through reads, acks, dead letters, crashes and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const root = mkdtempSync(join(tmpdir(), 'umbeacon-model-'));
        const dir = join(root, 'spool');
        const real: Real = { root, dir, spool: await open(dir), batch: null, opened: 0 };
        const model: Model = { pending: [], dead: [], inflight: null };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // Everything not acknowledged is still there, in order.
          const left: string[] = [];
          for (let b = await real.spool.read(5, 1e6); b; b = await real.spool.read(5, 1e6)) {
            left.push(...b.records);
            await real.spool.ack(b.cursor);
          }
          expect(left).toEqual(model.pending);
        } finally {
          await real.spool.close();
          rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});
