/**
 * The embedded default's destination: instead of Usermaven, forwarded batches are appended to
 * `DATA_DIR/events.ndjson`, one event a line, synced. It implements the same `Upstream`
 * interface, so the spool → forwarder path is exactly the one used with credentials.
 *
 * It keeps at most `maxBytes` (DATA_MAX_MB, like the spool): once the file reaches half of
 * it, it becomes `events.1.ndjson` (replacing the one before) and a new file starts, so a
 * relay left running without credentials keeps the newest events and never fills its disk.
 */
import { open, rename, stat } from 'node:fs/promises';
import type { Upstream } from '../delivery/upstream.ts';

export function createLocalStore(file: string, maxBytes = Number.POSITIVE_INFINITY): Upstream {
  const previous = file.replace(/(\.ndjson)?$/, '.1.ndjson');
  let size: number | undefined;
  return {
    host: 'local',
    async send(body) {
      try {
        const events = JSON.parse(body) as unknown[];
        const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
        const bytes = Buffer.byteLength(text);
        size ??= await stat(file).then((s) => s.size, () => 0);
        if (size > 0 && size + bytes > maxBytes / 2) {
          await rename(file, previous);
          size = 0;
        }
        const fh = await open(file, 'a');
        try {
          await fh.write(text);
          await fh.datasync();
        } finally {
          await fh.close();
        }
        size += bytes;
        return { kind: 'ok', status: 200 };
      } catch (error) {
        size = undefined; // measured again next time
        return { kind: 'retry', status: 0, reason: `local store: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}

/** The last `n` events of the local store (newest last), to seed the live page after a restart. */
export async function readRecent(file: string, n: number): Promise<Record<string, unknown>[]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await fh.stat();
    const want = Math.min(size, n * 2048);
    const buf = Buffer.alloc(want);
    await fh.read(buf, 0, want, size - want);
    const lines = buf.toString('utf8').split('\n').filter(Boolean);
    if (want < size) lines.shift(); // probably cut in the middle
    const out: Record<string, unknown>[] = [];
    for (const line of lines.slice(-n)) {
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a torn last line after a crash: skip
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}
