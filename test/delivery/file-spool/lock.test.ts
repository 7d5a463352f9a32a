/**
 * One process per spool directory: a second open is refused naming the holder; a lock left by a
 * dead process (SIGKILL, a reused PID, a silent other host) never blocks a restart; of several
 * processes racing for one stale lock exactly one wins.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFileSpool } from '../../../src/delivery/file-spool/index.ts';
import { acquireLock, DirectoryLockedError } from '../../../src/delivery/file-spool/lock.ts';
import { buildSpoolOnce, spoolProcess, type SpoolProcess } from '../../support/spool-process.ts';

let dir: string;
const children: SpoolProcess[] = [];
const locks = () => readdirSync(dir).filter((f) => f.endsWith('.lock'));
/** A lock file as another process would have left it. */
const plant = (holder: Record<string, unknown>, n = 1) => {
  const file = join(dir, `owner-${String(n).padStart(10, '0')}.lock`);
  writeFileSync(file, JSON.stringify({ host: hostname(), since: Date.now(), start: null, ...holder }));
  return file;
};
const mySpace = () => JSON.parse(readFileSync(join(dir, locks()[0]!), 'utf8')).space as string;
/** The PID of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
/** Holds the directory open until killed; prints "open" once it has it. */
const holder = () => {
  const p = spoolProcess(dir, `await createFileSpool({ dir }).then(() => console.log('open'), (e) => console.log('refused ' + e.message));\nsetInterval(() => {}, 1000);`);
  children.push(p);
  return p;
};

beforeAll(() => buildSpoolOnce(), 120_000);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-lock-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('spool directory lock', () => {
  it('refuses a second open by another process, naming its pid, and lets go on close', async () => {
    const first = holder();
    await first.line((l) => l === 'open');
    await expect(createFileSpool({ dir })).rejects.toThrow(new RegExp(`${dir} is in use by pid ${first.child.pid} \\(since .*\\); one process per directory`));
    first.child.kill('SIGTERM');
    await first.exited;
    // A SIGKILLed or SIGTERMed holder leaves its lock file; it is dead, so it is taken over.
    const spool = await createFileSpool({ dir });
    await spool.close();
    expect(locks()).toEqual([]);
  });

  it('refuses a second open in the same process', async () => {
    const spool = await createFileSpool({ dir });
    await expect(createFileSpool({ dir })).rejects.toThrow('is already open in this process');
    await spool.close();
    const again = await createFileSpool({ dir });
    await again.close();
  });

  it('takes over the lock of a SIGKILLed holder', async () => {
    const first = holder();
    await first.line((l) => l === 'open');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(locks()).toHaveLength(1);
    const spool = await createFileSpool({ dir });
    expect(locks()).toHaveLength(1);
    await spool.close();
  });

  it.each([
    ['a pid that has exited', () => ({ pid: deadPid() })],
    ['a live pid reused by another process (start time differs)', () => ({ pid: process.ppid, start: '1' })],
    ['an unreadable lock not refreshed for longer than staleMs', () => ({ garbage: true })],
  ])('takes over a lock left by %s', async (_name, make) => {
    const probe = await acquireLock(dir);
    const space = mySpace();
    await probe.release();
    const h = make() as Record<string, unknown>;
    const file = h['garbage'] ? join(dir, 'owner-0000000001.lock') : plant({ ...h, space });
    if (h['garbage']) writeFileSync(file, '{not json');
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const lock = await acquireLock(dir, { staleMs: 15_000 });
    expect(locks()).toEqual(['owner-0000000002.lock']);
    await lock.release();
  });

  it('believes a lock from another host while its heartbeat is fresh, and not after', async () => {
    const file = plant({ pid: process.pid, host: 'other-host', space: 'elsewhere' });
    const error = await acquireLock(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect((error as Error).message).toContain(`pid ${process.pid} on other-host`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const lock = await acquireLock(dir, { staleMs: 15_000 });
    await lock.release();
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    plant({ pid: deadPid(), space: 'gone' });
    utimesSync(join(dir, 'owner-0000000001.lock'), new Date(0), new Date(0));
    const racers = Array.from({ length: 6 }, () => holder());
    const results = await Promise.all(racers.map((r) => r.line((l) => l === 'open' || l.startsWith('refused'))));
    expect(results.filter((r) => r === 'open')).toHaveLength(1);
    expect(results.filter((r) => r.startsWith('refused'))).toHaveLength(5);
    expect(locks()).toHaveLength(1);
  });
});

describe('a holder whose lock was taken over', () => {
  it('stops writing and acknowledging, and says so on health()', async () => {
    const spool = await createFileSpool({ dir, lock: { heartbeatMs: 10 } });
    await spool.append(['{"event_id":"a"}']);
    const batch = await spool.read(10, 1e9);
    // Another host judged this one dead (say, after a long pause) and took the directory.
    plant({ pid: 1, host: 'other-host', space: 'elsewhere' }, 2);
    while (spool.health?.().ok !== false) await new Promise((r) => setTimeout(r, 5));
    expect(spool.health?.()).toMatchObject({ ok: false, reason: 'taken_over' });
    await expect(spool.append(['{"event_id":"b"}'])).rejects.toThrow('another process took its directory over');
    expect(await spool.read(10, 1e9)).toBeNull();
    const checkpoint = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
    await spool.ack(batch!.cursor);
    expect(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).toBe(checkpoint);
    await spool.close();
  });
});
