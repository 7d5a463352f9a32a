/**
 * Dead letters: `dead-letter.ndjson`, one `{"at":…,"reason":…,"event":{…}}` a line (../dead-letter.ts) — records
 * the upstream refused, kept out of the way with the reason. `umbeacon dead-letters` lists them
 * (`summarizeDeadLetters`) and moves them back into the spool once the cause is fixed
 * (`resendDeadLetters`); they keep their event_id, so the upstream de-duplicates any it has.
 */
import { createReadStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Spool } from '../spool.ts';
import { writeAll } from './segment.ts';
import { deadLetterOf } from '../dead-letter.ts';

/** Appends one dead letter, synced; resolves with the bytes it took. */
export async function appendDeadLetter(path: string, at: number, record: string, reason: string): Promise<number> {
  const line = `${JSON.stringify(deadLetterOf(record, reason, at))}\n`;
  const buf = Buffer.from(line, 'utf8');
  const fh = await open(path, 'a');
  try {
    await writeAll(fh, buf);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return buf.length;
}

/** Size of the dead-letter file (0 when there is none). */
export async function deadLetterSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export interface DeadLetterSummary {
  count: number;
  bytes: number;
  /** Lines that are not dead letters (a torn last line, a hand edit). */
  unreadable: number;
  /** When the first and the last one were written (ms). */
  first?: number;
  last?: number;
  /** Reasons, most frequent first. */
  reasons: { reason: string; count: number }[];
}

export async function summarizeDeadLetters(path: string): Promise<DeadLetterSummary> {
  const summary: DeadLetterSummary = { count: 0, bytes: await deadLetterSize(path), unreadable: 0, reasons: [] };
  const reasons = new Map<string, number>();
  for await (const line of lines(path)) {
    const letter = parse(line);
    if (!letter) {
      summary.unreadable++;
      continue;
    }
    summary.count++;
    summary.first = Math.min(summary.first ?? letter.at, letter.at);
    summary.last = Math.max(summary.last ?? letter.at, letter.at);
    reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
  }
  summary.reasons = [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
  return summary;
}

/**
 * Append the dead letters whose reason `match`es back to `spool` (synced, in order), and keep
 * the rest (and unreadable lines) in the file. A crash midway leaves some in both places: they
 * are sent again under the same event_id, which the upstream de-duplicates.
 */
export async function resendDeadLetters(spool: Pick<Spool, 'append'>, path: string, match: (reason: string) => boolean = () => true): Promise<{ moved: number; kept: number }> {
  const rest = `${path}.rest`;
  const keep = await open(rest, 'w');
  let moved = 0;
  let kept = 0;
  let chunk: string[] = [];
  try {
    for await (const line of lines(path)) {
      const letter = parse(line);
      if (letter && match(letter.reason)) {
        chunk.push(JSON.stringify(letter.event));
        moved++;
        if (chunk.length >= 500) {
          await spool.append(chunk);
          chunk = [];
        }
      } else {
        await writeAll(keep, Buffer.from(`${line}\n`, 'utf8'));
        kept++;
      }
    }
    if (chunk.length > 0) await spool.append(chunk);
    await keep.sync();
  } catch (error) {
    await keep.close();
    await unlink(rest).catch(() => {});
    throw error;
  }
  await keep.close();
  if (kept > 0) await rename(rest, path);
  else {
    await unlink(rest);
    await unlink(path).catch(() => {});
  }
  return { moved, kept };
}

async function* lines(path: string): AsyncGenerator<string> {
  let input;
  try {
    input = createReadStream(path, 'utf8');
    await new Promise<void>((resolve, reject) => input!.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line !== '') yield line;
}

function parse(line: string): { at: number; reason: string; event: Record<string, unknown> } | null {
  try {
    const value = JSON.parse(line) as { at?: unknown; reason?: unknown; event?: unknown };
    if (typeof value.at !== 'number' || typeof value.reason !== 'string') return null;
    if (typeof value.event !== 'object' || value.event === null || Array.isArray(value.event)) return null;
    return { at: value.at, reason: value.reason, event: value.event as Record<string, unknown> };
  } catch {
    return null;
  }
}

