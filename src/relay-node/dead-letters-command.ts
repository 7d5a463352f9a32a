/**
 * `umbeacon dead-letters`: what the upstream refused for good, counted by reason, and — once
 * the cause is fixed — `--resend` moves them back into the spool, where the relay sends them
 * with its usual policy when it starts. Works on the relay's DATA_DIR and on a Node client's
 * `dataDir` alike.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createFileSpool, DirectoryLockedError, DirectoryNotWritableError, summarizeDeadLetters, type DeadLetterSummary } from '../delivery/file-spool/index.ts';

/** Exit codes, documented in `--help`. */
export const DEAD_LETTER_EXIT_CODES = {
  ok: 0,
  /** The directory is in use (stop the relay first), or cannot be read or written. */
  failed: 1,
  usage: 2,
} as const;

interface Flags {
  dataDir?: string;
  resend?: boolean;
  reason?: string;
  json?: boolean;
}

/** Shown reasons; `--json` has all of them. */
const PRINTED_REASONS = 10;

export function registerDeadLetters(program: Command): void {
  program
    .command('dead-letters')
    .description('list the events the upstream refused for good, by reason; --resend sends them again once the cause is fixed')
    .option('--data-dir <dir>', 'the relay DATA_DIR, or a Node client dataDir [DATA_DIR, default ./data]')
    .option('--resend', 'move them back into the spool; the relay sends them when it starts (stop it first)')
    .option('--reason <text>', 'only those whose reason contains this text')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  umbeacon dead-letters --data-dir /srv/umbeacon/data\n  umbeacon dead-letters --resend --reason "answered 400"\n' +
        '\nEvents keep their event_id, so the upstream de-duplicates any it already has.\n' +
        'Exit codes: 0 done (also when there are none), 1 directory in use or unreadable, 2 usage.',
    )
    .action(async (flags: Flags) => {
      process.exitCode = await run(flags);
    });
}

async function run(flags: Flags): Promise<number> {
  const dataDir = resolve(flags.dataDir ?? process.env['DATA_DIR'] ?? 'data');
  // The relay keeps its spool in DATA_DIR/spool; a client's dataDir is the spool itself.
  const dir = existsSync(join(dataDir, 'spool')) ? join(dataDir, 'spool') : dataDir;
  const file = join(dir, 'dead-letter.ndjson');
  const match = (reason: string) => flags.reason === undefined || reason.includes(flags.reason);
  if (!existsSync(dir)) {
    console.error(`umbeacon dead-letters: ${dir} does not exist (set --data-dir or DATA_DIR)`);
    return DEAD_LETTER_EXIT_CODES.failed;
  }
  try {
    if (!flags.resend) {
      const summary = await summarizeDeadLetters(file);
      print(flags, { file, ...summary }, () => describe(file, summary, flags.reason));
      return DEAD_LETTER_EXIT_CODES.ok;
    }
    // Taking the spool makes sure no relay writes it meanwhile.
    const spool = await createFileSpool({ dir });
    let result;
    try {
      result = await spool.resendDeadLetters(match);
    } finally {
      await spool.close();
    }
    print(flags, { file, ...result }, () =>
      result.moved === 0
        ? `no dead letters${flags.reason === undefined ? '' : ` with a reason containing "${flags.reason}"`} in ${file}`
        : `moved ${result.moved} dead letter(s) back into the spool in ${dir}; the relay sends them when it starts` +
          (result.kept > 0 ? `\n${result.kept} kept in ${file}` : ''),
    );
    return DEAD_LETTER_EXIT_CODES.ok;
  } catch (error) {
    const message =
      error instanceof DirectoryLockedError
        ? `${error.message.replace(/; one process per directory.*$/, '')}: stop the relay (or client) first, then run this again`
        : error instanceof DirectoryNotWritableError
          ? error.message
          : `cannot read ${file}: ${(error as Error).message}`;
    console.error(`umbeacon dead-letters: ${message}`);
    return DEAD_LETTER_EXIT_CODES.failed;
  }
}

function print(flags: Flags, value: object, text: () => string): void {
  console.log(flags.json ? JSON.stringify(value) : text());
}

function describe(file: string, s: DeadLetterSummary, only: string | undefined): string {
  if (s.count === 0) return `no dead letters in ${file}${s.unreadable ? ` (${s.unreadable} unreadable line(s))` : ''}`;
  const day = (ms: number | undefined) => (ms === undefined ? '?' : new Date(ms).toISOString().slice(0, 19).replace('T', ' '));
  const kb = (n: number) => (n < 1048576 ? `${Math.ceil(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);
  const width = String(s.reasons[0]?.count ?? 0).length;
  const out = [
    `${s.count} dead letter(s) in ${file} (${kb(s.bytes)}, counted against DATA_MAX_MB), ${day(s.first)} to ${day(s.last)} UTC`,
    '',
    `  ${'count'.padStart(width)}  reason`,
    ...s.reasons.slice(0, PRINTED_REASONS).map((r) => `  ${String(r.count).padStart(Math.max(width, 5))}  ${r.reason.length > 120 ? `${r.reason.slice(0, 119)}…` : r.reason}`),
  ];
  if (s.reasons.length > PRINTED_REASONS) out.push(`  … and ${s.reasons.length - PRINTED_REASONS} more reason(s) (--json lists all)`);
  if (s.unreadable > 0) out.push(`  ${s.unreadable} unreadable line(s), left as they are`);
  out.push('', `Once the cause is fixed: stop the relay, run umbeacon dead-letters --resend${only === undefined ? ' [--reason TEXT]' : ` --reason "${only}"`}, start it again.`);
  return out.join('\n');
}
