/**
 * The checkpoint: `checkpoint.json`, `{"segment":n,"offset":bytes}` — everything before it is
 * delivered.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Position } from './ledger.ts';

export async function readCheckpoint(path: string): Promise<Position> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as { segment?: unknown; offset?: unknown };
    if (Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset)) {
      return { segment: value.segment as number, offset: value.offset as number };
    }
  } catch {
    // Missing (first start) or unreadable: start from the oldest segment. Re-sending is safe;
    // the upstream de-duplicates on event_id.
  }
  return { segment: 0, offset: 0 };
}

/**
 * Replace the checkpoint atomically (write a temp file, rename over). Deliberately not synced:
 * a checkpoint lost in a power cut only means re-sending from an older one (or from the oldest
 * segment still on disk — spent segments are deleted only after the checkpoint moved past
 * them), which the upstream de-duplicates by event_id. Syncing it would put three more journal
 * commits per batch in the way of the appends, which do need theirs.
 */
export async function writeCheckpoint(path: string, head: Position): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(head));
  await rename(tmp, path);
}
