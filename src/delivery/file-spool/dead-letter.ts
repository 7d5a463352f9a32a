/**
 * Dead letters: `dead-letter.ndjson`, one `{"at":…,"reason":…,"event":{…}}` a line — records
 * the upstream refused, kept out of the way with the reason.
 */
import { open, stat } from 'node:fs/promises';
import { writeAll } from './segment.ts';

/** Appends one dead letter, synced; resolves with the bytes it took. */
export async function appendDeadLetter(path: string, at: number, record: string, reason: string): Promise<number> {
  const line = `{"at":${at},"reason":${JSON.stringify(reason)},"event":${isJson(record) ? record : JSON.stringify(record)}}\n`;
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

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
