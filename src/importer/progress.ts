/**
 * How an import shows its progress: a cli-progress bar on a terminal (events, events/s, ETA,
 * errors), plain lines every few seconds otherwise (CI logs, `> file` redirects), where a
 * redrawn bar would only be noise.
 */
import cliProgress from 'cli-progress';
import type { ImportProgress } from './tally.ts';

export interface ProgressView {
  update(progress: ImportProgress): void;
  /** Print a line without tearing the bar. */
  log(line: string): void;
  stop(progress: ImportProgress): void;
}

export interface ProgressViewOptions {
  stream: NodeJS.WriteStream;
  /** Bar when true; plain lines when false. */
  tty: boolean;
  /** Plain mode: one line per this many ms (default 5 s). */
  intervalMs?: number;
  /** A dry run counts valid events instead of sent ones. */
  dryRun?: boolean;
}

export function createProgressView(options: ProgressViewOptions): ProgressView {
  const { stream } = options;
  const verb = options.dryRun ? 'checked' : 'sent';
  const countOf = (p: ImportProgress) => (options.dryRun ? p.valid : p.sent);
  // Events/s of this run: a resumed import's earlier events are left out.
  const rateOf = (p: ImportProgress) => (p.elapsedMs > 0 ? Math.round(((countOf(p) - (options.dryRun ? 0 : p.sentBefore)) * 1000) / p.elapsedMs) : 0);
  /** Time left from this run's read speed (cli-progress's own ETA misreads a resumed start). */
  const etaOf = (p: ImportProgress) => {
    const thisRun = p.bytesRead - p.bytesBefore;
    const left = (p.totalBytes ?? 0) - p.bytesRead;
    if (left <= 0) return '0 s';
    return thisRun > 0 ? formatSeconds((left / thisRun) * (p.elapsedMs / 1000)) : '…';
  };

  if (options.tty) {
    let bar: cliProgress.SingleBar | undefined;
    const payload = (p: ImportProgress) => ({ count: countOf(p).toLocaleString('en-US'), rate: rateOf(p).toLocaleString('en-US'), left: etaOf(p), skipped: p.skipped });
    const start = (p: ImportProgress) => {
      const known = p.totalBytes !== undefined && p.totalBytes > 0;
      bar = new cliProgress.SingleBar(
        {
          stream,
          hideCursor: true,
          fps: 5,
          format: known
            ? `importing {bar} {percentage}% | {count} events ${verb} | {rate} events/s | ETA {left} | {skipped} errors`
            : `importing {count} events ${verb} | {rate} events/s | {skipped} errors`,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(known ? p.totalBytes! : 1, known ? p.bytesRead : 0, payload(p));
    };
    return {
      update(p) {
        if (!bar) start(p);
        else bar.update(p.totalBytes ? p.bytesRead : 0, payload(p));
      },
      log(line) {
        // cli-progress redraws on the current line: clear it, print, let the next update redraw.
        if (bar) stream.write('\r\x1b[2K');
        stream.write(line + '\n');
      },
      stop(p) {
        if (!bar) start(p);
        bar!.update(p.totalBytes ? p.bytesRead : 0, payload(p));
        bar!.stop();
      },
    };
  }

  const intervalMs = options.intervalMs ?? 5000;
  let last = 0;
  const line = (p: ImportProgress) => {
    const parts = [`import: ${countOf(p).toLocaleString('en-US')} events ${verb}`, `${rateOf(p).toLocaleString('en-US')} events/s`];
    if (p.totalBytes) {
      parts.splice(1, 0, `${((p.bytesRead / p.totalBytes) * 100).toFixed(1)}% read`);
      if (p.bytesRead < p.totalBytes && p.bytesRead > p.bytesBefore) parts.push(`ETA ${etaOf(p)}`);
    }
    parts.push(`${p.skipped} errors`);
    stream.write(parts.join(' · ') + '\n');
  };
  return {
    update(p) {
      if (p.elapsedMs - last < intervalMs) return;
      last = p.elapsedMs;
      line(p);
    },
    log(text) {
      stream.write(text + '\n');
    },
    stop() {},
  };
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.ceil(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
