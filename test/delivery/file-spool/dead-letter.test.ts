import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSpool, summarizeDeadLetters } from '../../../src/delivery/file-spool/index.ts';

let dir: string;
const file = () => join(dir, 'dead-letter.ndjson');
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-dead-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function withLetters(letters: [string, string][]) {
  const spool = await createFileSpool({ dir, now: (() => { let t = 1_000; return () => (t += 1_000); })() });
  for (const [id, reason] of letters) await spool.deadLetter(JSON.stringify({ event_type: 'e', event_id: id }), reason);
  return spool;
}

describe('dead letters', () => {
  it('summarizes by reason, most frequent first, with the first and last time', async () => {
    const spool = await withLetters([['a', 'answered 400: bad type'], ['b', 'answered 413: too large'], ['c', 'answered 400: bad type']]);
    await spool.close();
    writeFileSync(file(), `${readFileSync(file(), 'utf8')}{"torn":`);
    expect(await summarizeDeadLetters(file())).toMatchObject({
      count: 3,
      unreadable: 1,
      first: 2_000,
      last: 4_000,
      reasons: [{ reason: 'answered 400: bad type', count: 2 }, { reason: 'answered 413: too large', count: 1 }],
    });
  });

  it('says there are none when the file is missing', async () => {
    expect(await summarizeDeadLetters(file())).toEqual({ count: 0, bytes: 0, unreadable: 0, reasons: [] });
  });

  it('moves the matching ones back into the spool, in order, and keeps the rest', async () => {
    const spool = await withLetters([['a', 'answered 400: bad type'], ['b', 'answered 413: too large'], ['c', 'answered 400: bad type']]);
    expect(spool.stats().deadLetterBytes).toBeGreaterThan(0);
    expect(await spool.resendDeadLetters((r) => r.includes('400'))).toEqual({ moved: 2, kept: 1 });
    const batch = await spool.read(10, 1e9);
    expect(batch?.records.map((r) => JSON.parse(r).event_id)).toEqual(['a', 'c']);
    expect((await summarizeDeadLetters(file())).reasons).toEqual([{ reason: 'answered 413: too large', count: 1 }]);
    expect(await spool.resendDeadLetters()).toEqual({ moved: 1, kept: 0 });
    expect(existsSync(file())).toBe(false);
    expect(spool.stats().deadLetterBytes).toBeUndefined();
    await spool.close();
  });
});
