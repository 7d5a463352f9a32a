/**
 * Recovery on open: rebuild the ledger from the checkpoint and the segments on disk. Spent
 * segments left behind are deleted; a torn tail (the process died mid-write, before the sync
 * that line needed) is logged and blanked so the next append starts on a clean line.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import { createLedger, type Ledger, type Position } from './ledger.ts';
import { arrivalEnd, listSegments, NL, segPath } from './segment.ts';

export async function recover(dir: string, checkpoint: Position, segmentBytes: number, log: Logger): Promise<Ledger> {
  const sizes = new Map<number, number>();
  let depth = 0;
  let bytes = 0;
  let oldestAt: number | undefined;
  let head: Position = { segment: checkpoint.segment, offset: checkpoint.offset };

  for (const segment of await listSegments(dir)) {
    if (segment < head.segment) {
      await unlink(segPath(dir, segment)).catch(() => {});
      continue;
    }
    const data = await readFile(segPath(dir, segment));
    // Data ends at the last non-zero byte: the rest is preallocated padding.
    let used = data.length;
    while (used > 0 && data[used - 1] === 0) used--;
    const end = data.lastIndexOf(NL, used - 1) + 1;
    if (end < used) await blankTornTail(dir, segment, data, end, used, log);
    let pos = segment === head.segment ? Math.min(head.offset, end) : 0;
    while (pos < end) {
      const nl = data.indexOf(NL, pos);
      // The same test `read` applies, on the bytes: no string per line for a spool of millions.
      const tab = arrivalEnd(data, pos, nl);
      if (tab >= 0) {
        depth++;
        bytes += nl - pos + 1;
        oldestAt ??= Number(data.toString('latin1', pos, tab));
      }
      pos = nl + 1;
    }
    sizes.set(segment, end);
  }
  if (!sizes.has(head.segment)) {
    // Checkpoint points at a segment that is gone (fully spent); start from the next live one.
    const next = [...sizes.keys()].find((s) => s > head.segment);
    head = next === undefined ? { segment: Math.max(head.segment, 1), offset: 0 } : { segment: next, offset: 0 };
  }
  let current = Math.max(head.segment, ...sizes.keys());
  if ((sizes.get(current) ?? 0) >= segmentBytes) current++;
  if (depth > 0) log.info('spool resumed', { depth, bytes, from: head });
  return createLedger({ head, sizes, current, depth, bytes, oldestAt, deadLetterBytes: 0 });
}

/**
 * A torn tail was never acknowledged, so nobody is owed it: say what is dropped (where, how
 * many bytes, a preview) and overwrite it with zeros.
 */
async function blankTornTail(dir: string, segment: number, data: Buffer, end: number, used: number, log: Logger): Promise<void> {
  const torn = data.subarray(end, used);
  log.warn('spool skipped a truncated record', {
    segment: segPath(dir, segment),
    offset: end,
    bytes: torn.length,
    preview: torn.toString('utf8').replace(/\0+/g, '').slice(0, 80),
  });
  const fh = await open(segPath(dir, segment), 'r+');
  try {
    await fh.write(Buffer.alloc(used - end), 0, used - end, end);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
