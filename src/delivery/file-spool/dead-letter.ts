/**
 * Dead letters: `dead-letter.ndjson`, one `{"at":…,"reason":…,"event":{…}}` a line — records
 * the upstream refused, kept out of the way with the reason.
 */
import { open } from 'node:fs/promises';
import { writeAll } from './segment.ts';

export async function appendDeadLetter(path: string, at: number, record: string, reason: string): Promise<void> {
  const line = `{"at":${at},"reason":${JSON.stringify(reason)},"event":${isJson(record) ? record : JSON.stringify(record)}}\n`;
  const fh = await open(path, 'a');
  try {
    await writeAll(fh, Buffer.from(line, 'utf8'));
    await fh.datasync();
  } finally {
    await fh.close();
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
