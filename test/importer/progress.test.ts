import { describe, expect, it } from 'vitest';
import { createProgressView } from '../../src/importer/progress.ts';
import type { ImportProgress } from '../../src/importer/tally.ts';

function sink() {
  const chunks: string[] = [];
  const stream = { write: (c: string) => (chunks.push(c), true), isTTY: true, columns: 160, cursorTo() {}, clearLine() {}, moveCursor() {}, on() {}, removeListener() {} };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

const snapshot = (over: Partial<ImportProgress>): ImportProgress => ({
  read: 0, valid: 0, sent: 0, sentBefore: 0, skipped: 0, bytesRead: 0, bytesBefore: 0, totalBytes: 1000, requests: 0, retries: 0, elapsedMs: 0, ...over,
});

describe('progress view', () => {
  it('prints a plain line per interval when not on a terminal', () => {
    const out = sink();
    const view = createProgressView({ stream: out.stream, tty: false, intervalMs: 1000 });
    view.update(snapshot({ elapsedMs: 500, sent: 100, bytesRead: 100 }));
    view.update(snapshot({ elapsedMs: 1000, sent: 2000, bytesRead: 250, skipped: 2 }));
    view.update(snapshot({ elapsedMs: 1500, sent: 3000, bytesRead: 400 }));
    expect(out.text()).toBe('import: 2,000 events sent · 25.0% read · 2,000 events/s · ETA 3 s · 2 errors\n');
  });

  it('counts checked events on a dry run', () => {
    const out = sink();
    const view = createProgressView({ stream: out.stream, tty: false, intervalMs: 1000, dryRun: true });
    view.update(snapshot({ elapsedMs: 1000, valid: 4000, bytesRead: 1000 }));
    expect(out.text()).toBe('import: 4,000 events checked · 100.0% read · 4,000 events/s · 0 errors\n');
  });

  it('leaves earlier runs out of events/s and ETA after a resume', () => {
    const out = sink();
    const view = createProgressView({ stream: out.stream, tty: false, intervalMs: 1000 });
    view.update(snapshot({ elapsedMs: 2000, sent: 9000, sentBefore: 8000, bytesRead: 600, bytesBefore: 500 }));
    expect(out.text()).toBe('import: 9,000 events sent · 60.0% read · 500 events/s · ETA 8 s · 0 errors\n');
  });

  it('draws a bar with events, events/s, ETA and errors on a terminal', () => {
    const out = sink();
    const view = createProgressView({ stream: out.stream, tty: true });
    view.update(snapshot({ elapsedMs: 1000, sent: 1500, bytesRead: 500, skipped: 1 }));
    view.stop(snapshot({ elapsedMs: 2000, sent: 3000, bytesRead: 1000, skipped: 1 }));
    expect(out.text()).toMatch(/importing .* 50% \| 1,500 events sent \| 1,500 events\/s \| ETA 1 s \| 1 errors/);
    expect(out.text()).toMatch(/importing .* 100% \| 3,000 events sent \| 1,500 events\/s \| ETA 0 s \| 1 errors/);
  });
});
