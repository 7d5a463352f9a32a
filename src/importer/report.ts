/**
 * The report of skipped records: one JSON object per line, `{"line","record","offset","reason","text"}`, written
 * next to the input. A resumed run keeps the entries before its checkpoint's byte offset and re-checks the
 * rest, so every bad record appears exactly once however often the import was interrupted.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface SkippedRecord {
  line: number;
  /** 1-based position of the record in the input (the element number of a JSON array). */
  record: number;
  /** Byte offset of the record in the input. */
  offset: number;
  reason: string;
  /** The record's text, cut to 500 characters. */
  text: string;
}

export interface Report {
  readonly path: string;
  /** Entries so far, including those kept from earlier runs. */
  readonly count: number;
  add(entry: SkippedRecord): void;
}

const TEXT_LIMIT = 500;

/**
 * Opens the report at `path`. Without `keepBeforeOffset` an old report is removed (this run
 * re-checks everything); with it, entries before that byte offset are kept. The file is created on the
 * first entry, so a clean import leaves no report behind.
 */
export function openReport(path: string, keepBeforeOffset?: number): Report {
  let count = 0;
  if (keepBeforeOffset === undefined) rmSync(path, { force: true });
  else {
    let kept: string[] = [];
    try {
      kept = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => {
          if (!line) return false;
          try {
            return (JSON.parse(line) as SkippedRecord).offset < keepBeforeOffset;
          } catch {
            return false;
          }
        });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (kept.length) writeFileSync(path, kept.join('\n') + '\n');
    else rmSync(path, { force: true });
    count = kept.length;
  }
  return {
    path,
    get count() {
      return count;
    },
    add(entry) {
      const text = entry.text.length > TEXT_LIMIT ? `${entry.text.slice(0, TEXT_LIMIT)}…` : entry.text;
      appendFileSync(path, JSON.stringify({ line: entry.line, record: entry.record, offset: entry.offset, reason: entry.reason, text }) + '\n');
      count++;
    },
  };
}
