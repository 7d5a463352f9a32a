/** Generated import inputs for the importer's tests and its benchmark. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Base of generated timestamps: 2024-01-01T00:00:00Z. */
export const T0 = Date.UTC(2024, 0, 1);

/** Event number `i`: every third one has its `_timestamp` as an ISO date instead of ms. */
export function historicalEvent(i: number): Record<string, unknown> {
  const ms = T0 + i * 1000;
  return {
    event_type: i % 5 === 0 ? 'signup' : 'page_view',
    _timestamp: i % 3 === 0 ? new Date(ms).toISOString() : ms,
    user: { id: `user-${i % 97}`, email: `user${i % 97}@example.com` },
    event_attributes: { n: i, plan: i % 2 ? 'pro' : 'free' },
  };
}

/** The timestamp event `i` must arrive with. */
export const expectedTimestamp = (i: number) => T0 + i * 1000;

export function tempDir(prefix = 'umbeacon-import-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `count` events as NDJSON (or one JSON array); returns the path. */
export function writeEvents(dir: string, count: number, format: 'ndjson' | 'array' = 'ndjson', name?: string): string {
  const path = join(dir, name ?? (format === 'ndjson' ? 'events.ndjson' : 'events.json'));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify(historicalEvent(i)));
  writeFileSync(path, format === 'ndjson' ? lines.join('\n') + '\n' : `[\n${lines.join(',\n')}\n]\n`);
  return path;
}
