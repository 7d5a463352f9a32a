/**
 * One process per spool directory. Two writers on one directory overwrite each other's
 * segments and checkpoint, so acknowledged events are lost; the second open is refused instead,
 * with one line naming the holder.
 *
 * The lock is a file `owner-<n>.lock` holding the holder's identity. Taking it is an exclusive
 * create: `link()` of a fully written candidate file onto the next number `n + 1`, which fails
 * with EEXIST for everyone but one process — so a lock is never seen half-written, and of two
 * processes racing to take over the same stale lock exactly one gets `n + 1`. Numbers only grow:
 * after winning, a process checks that no higher number appeared meanwhile (else it backs off),
 * then deletes the lower ones.
 *
 * Whether the holder is alive:
 * - same machine and PID namespace (hostname, kernel boot id and /proc/self/ns/pid agree): the
 *   PID exists and its start time (/proc/<pid>/stat field 22) is the recorded one — a PID reused
 *   by another process after a SIGKILL does not count;
 * - otherwise (another container or host sharing the volume) the PID says nothing, so the
 *   holder refreshes the file's mtime every `heartbeatMs`, and a lock not refreshed for
 *   `staleMs` is dead. Each beat also checks the lock is still the newest: if another process
 *   took it over, `onLost` tells the holder to stop.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { link, open, readdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { syncDir } from './segment.ts';

const LOCK_RE = /^owner-(\d{10})\.lock$/;

export interface Holder {
  pid: number;
  host: string;
  /** Kernel boot id + PID namespace: where `pid` means something. */
  space: string;
  /** Process start time in clock ticks since boot (Linux), to tell a reused PID apart. */
  start: string | null;
  /** When it took the lock (ms). */
  since: number;
}

/** The directory is held by another live process. */
export class DirectoryLockedError extends Error {
  constructor(readonly dir: string, readonly holder: Holder | null, sameSpace: boolean) {
    const who = holder
      ? `pid ${holder.pid}${sameSpace ? '' : ` on ${holder.host}`} (since ${new Date(holder.since).toISOString()})`
      : 'another process';
    super(
      holder?.pid === process.pid && sameSpace
        ? `${dir} is already open in this process; open it once and share it`
        : `${dir} is in use by ${who}; one process per directory: stop that one first, or give this one a directory of its own`,
    );
    this.name = 'DirectoryLockedError';
  }
}

export interface DirectoryLock {
  readonly file: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How often the holder refreshes its lock (default 2 s). */
  heartbeatMs?: number;
  /** A lock from another host or container not refreshed for this long is dead (default 15 s). */
  staleMs?: number;
  /**
   * Called once if another process took the lock over (it judged this one dead: a pause longer
   * than `staleMs`, seen from another host). The holder must stop writing.
   */
  onLost?: (holder: Holder | null) => void;
}

export async function acquireLock(dir: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const staleMs = options.staleMs ?? 15_000;
  const me: Holder = { pid: process.pid, host: hostname(), space: space(), start: startTime(process.pid), since: Date.now() };
  for (let attempt = 0; ; attempt++) {
    const locks = await listLocks(dir);
    const top = locks.at(-1);
    if (top !== undefined) {
      const file = lockPath(dir, top);
      const holder = await readHolder(file);
      if (await isAlive(holder, file, me, staleMs)) throw new DirectoryLockedError(dir, holder, holder?.space === me.space && holder.host === me.host);
    }
    const n = (top ?? 0) + 1;
    const mine = lockPath(dir, n);
    if (!(await createExclusive(mine, JSON.stringify(me)))) {
      // Someone else took n first; look again (they are alive, so the next round refuses).
      if (attempt < 5) continue;
      throw new DirectoryLockedError(dir, await readHolder(mine), false);
    }
    const after = await listLocks(dir);
    if (after.some((m) => m > n)) {
      await unlink(mine).catch(() => {});
      continue;
    }
    for (const m of after) if (m < n) await unlink(lockPath(dir, m)).catch(() => {});
    await syncDir(dir);
    // Each beat: still ours? Then refresh the mtime (metadata only: needs no free space).
    const beat = async () => {
      try {
        const now = await listLocks(dir);
        const top = now.at(-1);
        if (top !== n) {
          clearInterval(timer);
          options.onLost?.(top === undefined ? null : await readHolder(lockPath(dir, top)));
          return;
        }
        await utimes(mine, new Date(), new Date());
      } catch {
        // The disk may be failing; the writer reports that. Try again on the next beat.
      }
    };
    const timer = setInterval(() => void beat(), heartbeatMs);
    timer.unref();
    return {
      file: mine,
      async release() {
        clearInterval(timer);
        await unlink(mine).catch(() => {});
      },
    };
  }
}

async function listLocks(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .map((name) => LOCK_RE.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

function lockPath(dir: string, n: number): string {
  return join(dir, `owner-${String(n).padStart(10, '0')}.lock`);
}

/** Write `content` to a private file, then link it to `path`: atomic, exclusive, never partial. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const candidate = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await open(candidate, 'wx');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(candidate, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(candidate).catch(() => {});
  }
}

async function readHolder(file: string): Promise<Holder | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.space !== 'string' || typeof value.since !== 'number') return null;
    return { pid: value.pid, host: value.host, space: value.space, start: typeof value.start === 'string' ? value.start : null, since: value.since };
  } catch {
    return null;
  }
}

async function isAlive(holder: Holder | null, file: string, me: Holder, staleMs: number): Promise<boolean> {
  if (holder && holder.host === me.host && holder.space === me.space) {
    if (holder.pid === me.pid) return holder.start === me.start;
    try {
      process.kill(holder.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    }
    const start = startTime(holder.pid);
    return holder.start === null || start === null || start === holder.start;
  }
  // Unreadable (it cannot be half-written, so it is damaged), or from elsewhere: go by the heartbeat.
  try {
    return Date.now() - (await stat(file)).mtimeMs < staleMs;
  } catch {
    return false;
  }
}

/** Where a PID means this process: boot id and PID namespace (Linux); elsewhere the host alone. */
function space(): string {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return '';
    }
  };
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host name alone says where a PID means something.
  }
  return `${read('/proc/sys/kernel/random/boot_id')}/${ns}`;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot. Null where unknown. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
