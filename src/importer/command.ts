/**
 * `umbeacon import FILE|-`: flags and environment → `startImport`, progress on stderr, the
 * summary on stdout, and an exit code a script can branch on (see EXIT_CODES).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LIMITS } from '../shared/event.ts';
import { createProgressView } from './progress.ts';
import { startImport, type ImportOutcome, type ImportSummary } from './importer.ts';
import { ImportSetupError } from './setup.ts';

/** Exit codes of `umbeacon import`, documented in `--help` and docs/server-side.md. */
export const EXIT_CODES = {
  /** Everything imported (skipped records, if any, within --max-errors). */
  ok: 0,
  /** Unexpected internal error. */
  internal: 1,
  /** Usage: bad flags, unreadable input, missing credentials, a checkpoint that does not fit. */
  usage: 2,
  /** More bad records than --max-errors; the checkpoint stops before the one that tipped it. */
  tooManyErrors: 3,
  /** The upstream refused the credentials or kept failing past --max-retries. */
  upstream: 4,
  /** Interrupted (Ctrl-C, SIGTERM); resume with --resume. */
  interrupted: 130,
} as const;

const OUTCOME_CODES: Record<ImportOutcome, number> = {
  done: EXIT_CODES.ok,
  'already-done': EXIT_CODES.ok,
  'too-many-errors': EXIT_CODES.tooManyErrors,
  'upstream-failed': EXIT_CODES.upstream,
  interrupted: EXIT_CODES.interrupted,
};

/** Skipped records printed on the terminal; the report file has all of them. */
const PRINTED_SKIPS = 10;

interface ImportFlags {
  dryRun?: boolean;
  resume?: boolean;
  checkpoint?: string;
  report?: string;
  format: 'auto' | 'ndjson' | 'json';
  maxErrors: number;
  rate?: number;
  concurrency: number;
  batchSize: number;
  maxRetries: number;
  timeout: number;
  apiKey?: string;
  serverToken?: string;
  url?: string;
  progress: boolean;
  json?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('bulk-import historical events (NDJSON or a JSON array) into Usermaven, with their original _timestamp')
    .argument('<file>', 'NDJSON file (one event per line) or a file holding one JSON array; - reads standard input')
    .option('--dry-run', 'check and count every record; send nothing, write no checkpoint')
    .option('--resume', 'continue an interrupted import from its checkpoint')
    .option('--checkpoint <path>', 'checkpoint file (default: FILE.checkpoint.json)')
    .option('--report <path>', 'report of skipped records (default: FILE.errors.ndjson)')
    .addOption(new Option('--format <format>', 'input format').choices(['auto', 'ndjson', 'json']).default('auto'))
    .option('--max-errors <n>', 'skip up to N bad records; one more stops the import', count('--max-errors'), 0)
    .option('--rate <n>', 'send at most N events per second (default: as fast as the upstream takes them)', positive('--rate'))
    .option('--concurrency <n>', 'requests in flight', positive('--concurrency'), 4)
    .option('--batch-size <n>', `events per request (at most ${LIMITS.upstreamEvents})`, positive('--batch-size'), LIMITS.upstreamEvents)
    .option('--max-retries <n>', 'retries of one request (back-off 0.5 s doubling to 60 s) before giving up', count('--max-retries'), 10)
    .option('--timeout <ms>', 'upstream request timeout', positive('--timeout'), 15_000)
    .addOption(new Option('--api-key <key>', 'Usermaven API key').env('USERMAVEN_API_KEY'))
    .addOption(new Option('--server-token <token>', 'Usermaven server token (prefer the environment: flags show up in ps)').env('USERMAVEN_SERVER_TOKEN'))
    .addOption(new Option('--url <url>', 'Usermaven events URL (default https://events.usermaven.com)').env('USERMAVEN_URL'))
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--json', 'print the summary as JSON on stdout')
    .addHelpText(
      'after',
      `
Every record needs event_type and _timestamp (ms since 1970, or an ISO 8601 date; without an
offset it is UTC). A record without event_id gets one derived from its text, so importing the
same file twice does not double-count. api_key, token and source_ip in the file are ignored.

Exit codes:
  0    imported (skipped records, if any, within --max-errors)
  1    unexpected internal error
  2    usage: bad flags, unreadable input, missing credentials, checkpoint does not fit
  3    more bad records than --max-errors (see the report; fix them or raise the limit, then --resume)
  4    the upstream refused the credentials, or kept failing past --max-retries (then --resume)
  130  interrupted (Ctrl-C); continue with --resume

Examples:
  USERMAVEN_API_KEY=… USERMAVEN_SERVER_TOKEN=… umbeacon import events.ndjson
  umbeacon import history.json --dry-run
  gunzip -c events.ndjson.gz | umbeacon import - --max-errors 100 --rate 2000
  umbeacon import events.ndjson --resume`,
    )
    // Commander's own usage errors exit 1; ours say 2 for every usage problem.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_CODES.usage))
    .action(async (file: string, flags: ImportFlags) => {
      const code = await runImportCommand(file, flags);
      // Requests abandoned after an interrupt or an upstream failure must not keep the process up.
      if (code === EXIT_CODES.interrupted || code === EXIT_CODES.upstream) process.exit(code);
      process.exitCode = code;
    });
}

async function runImportCommand(file: string, flags: ImportFlags): Promise<number> {
  const stderr = process.stderr;
  const tty = Boolean(stderr.isTTY);
  const skipped: string[] = [];
  let skippedCount = 0;
  let view: ReturnType<typeof createProgressView> | undefined;
  const say = (line: string) => (view ? view.log(line) : stderr.write(line + '\n'));

  const interrupt = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(EXIT_CODES.interrupted);
    interrupt.abort();
    say('stopping: waiting up to 2 s for requests in flight (Ctrl-C again to quit at once)…');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (file === '-' && process.stdin.isTTY) say('reading events from the terminal; end with Ctrl-D (or pipe a file in: cat events.ndjson | umbeacon import -)');

  const run = startImport({
    input: file,
    apiKey: flags.apiKey ?? '',
    ...(flags.serverToken ? { serverToken: flags.serverToken } : {}),
    ...(flags.url ? { url: flags.url } : {}),
    dryRun: Boolean(flags.dryRun),
    resume: Boolean(flags.resume),
    ...(flags.checkpoint ? { checkpointPath: flags.checkpoint } : {}),
    ...(flags.report ? { reportPath: flags.report } : {}),
    format: flags.format === 'json' ? 'array' : flags.format,
    maxErrors: flags.maxErrors,
    ...(flags.rate ? { rate: flags.rate } : {}),
    concurrency: flags.concurrency,
    batchSize: flags.batchSize,
    maxRetries: flags.maxRetries,
    timeoutMs: flags.timeout,
    signal: interrupt.signal,
    onNotice: (message) => say(`import: ${message}`),
    onSkip: (entry) => {
      skippedCount++;
      const text = `${describeAt(entry.line, entry.record, file)}: ${entry.reason}`;
      // On a terminal the bar owns the screen: list skips after it; in logs, as they happen.
      if (tty && flags.progress) skipped.push(text);
      else if (skippedCount <= PRINTED_SKIPS) say(text);
    },
  });

  let timer: NodeJS.Timeout | undefined;
  if (flags.progress) {
    view = createProgressView({ stream: stderr, tty, dryRun: Boolean(flags.dryRun) });
    timer = setInterval(() => view!.update(run.progress()), tty ? 200 : 1000);
  }
  let summary: ImportSummary;
  try {
    summary = await run.done;
  } catch (error) {
    clearInterval(timer);
    if (error instanceof ImportSetupError) {
      stderr.write(`umbeacon import: ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    stderr.write(`umbeacon import: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_CODES.internal;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  clearInterval(timer);
  view?.stop(summary);
  for (const line of skipped.slice(0, PRINTED_SKIPS)) stderr.write(line + '\n');
  if (skippedCount > PRINTED_SKIPS) stderr.write(`… and ${skippedCount - PRINTED_SKIPS} more\n`);

  if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(describeSummary(summary) + '\n');
  const hint = resumeHint(file, flags, summary);
  if (hint) stderr.write(hint + '\n');
  return OUTCOME_CODES[summary.outcome];
}

function describeAt(line: number, record: number, file: string): string {
  return `${file === '-' ? 'stdin' : file}: line ${line}${line === record ? '' : ` (record ${record})`}`;
}

function describeSummary(s: ImportSummary): string {
  const seconds = (s.elapsedMs / 1000).toFixed(1);
  const rate = s.elapsedMs > 0 ? Math.round(((s.sent - s.sentBefore) * 1000) / s.elapsedMs) : 0;
  const skipped = s.skipped ? `; ${s.skipped} skipped (report: ${s.reportPath})` : '';
  switch (s.outcome) {
    case 'already-done':
      return `import: already complete (${s.sent} events sent); delete ${s.checkpointPath} to import again`;
    case 'done':
      return s.dryRun
        ? `dry run: ${s.valid} valid events in ${s.read} records${skipped}; nothing sent (${seconds} s)`
        : s.sentBefore
          ? `import: ${s.sent} events sent, ${s.sent - s.sentBefore} of them by this resumed run in ${s.requests} requests, ${seconds} s (${rate.toLocaleString('en-US')} events/s)${skipped}`
          : `import: ${s.sent} events sent in ${s.requests} requests, ${seconds} s (${rate.toLocaleString('en-US')} events/s)${skipped}`;
    case 'too-many-errors':
      return s.dryRun
        ? `dry run: ${s.valid} valid events in ${s.read} records; ${s.skipped} bad, more than --max-errors (report: ${s.reportPath})`
        : `import stopped: more than --max-errors bad records (${s.skipped}; report: ${s.reportPath}); ${s.sent} events sent`;
    case 'upstream-failed':
      return `import stopped: ${s.reason ?? 'the upstream failed'}; ${s.sent} events sent`;
    case 'interrupted':
      return `import interrupted${s.reason ? ` (${s.reason})` : ''}; ${s.sent} events sent`;
  }
}

/** The exact command that continues this import, with the flags that change where it resumes. */
function resumeHint(file: string, flags: ImportFlags, s: ImportSummary): string | undefined {
  if (s.dryRun || s.outcome === 'done' || s.outcome === 'already-done') return undefined;
  const args = ['umbeacon', 'import', quote(file), '--resume'];
  if (flags.checkpoint) args.push('--checkpoint', quote(flags.checkpoint));
  if (flags.report) args.push('--report', quote(flags.report));
  if (flags.format !== 'auto') args.push('--format', flags.format);
  const advice =
    s.outcome === 'too-many-errors'
      ? `fix the records listed in the report, or allow them with --max-errors ${s.skipped}, then continue from line ${s.resumeLine ?? 1} with`
      : `continue from line ${s.resumeLine ?? 1} with`;
  // Standard input cannot seek: the resumed run reads the same input again and skips what was sent.
  return file === '-' ? `${advice} the same input piped in again:\n  … | ${args.join(' ')}` : `${advice}:\n  ${args.join(' ')}`;
}

function quote(arg: string): string {
  return /^[\w./@:=+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function count(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a whole number ≥ 0, e.g. ${flag} 10`);
    return n;
  };
}

function positive(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} takes a number > 0, e.g. ${flag} 100`);
    return n;
  };
}
