/**
 * Everything an import checks before it reads a single event: the options, the input, and the
 * checkpoint of an earlier run (whether and where to resume). Throws `ImportSetupError`
 * (exit code 2) when the import cannot start; no event is read, no file written.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CheckpointError, loadCheckpoint, verifyCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { Position } from './committer.ts';
import type { ImportOptions } from './importer.ts';

/** Thrown before any work when the options or the checkpoint are unusable (exit code 2). */
export class ImportSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportSetupError';
  }
}

/** Default file names next to the input (standard input: in the working directory). */
export function defaultPaths(input: string): { checkpointPath: string; reportPath: string } {
  const base = input === '-' ? resolve('umbeacon-stdin') : resolve(input);
  return { checkpointPath: `${base}.checkpoint.json`, reportPath: `${base}.errors.ndjson` };
}

/** Where the files are, and where this run starts. */
export interface ImportPlan {
  /** Absolute input path, or `-`. */
  input: string;
  checkpointPath: string;
  reportPath: string;
  dryRun: boolean;
  /** The input's size (not for standard input). */
  totalBytes?: number;
  /** The checkpoint this run continues, when resuming. */
  checkpoint?: Checkpoint;
  startAt: Position;
}

function importPaths(options: ImportOptions): Pick<ImportPlan, 'input' | 'checkpointPath' | 'reportPath' | 'dryRun'> {
  const paths = defaultPaths(options.input);
  return {
    input: options.input === '-' ? '-' : resolve(options.input),
    checkpointPath: options.checkpointPath ? resolve(options.checkpointPath) : paths.checkpointPath,
    reportPath: options.reportPath ? resolve(options.reportPath) : paths.reportPath,
    dryRun: options.dryRun ?? false,
  };
}

export function prepareImport(options: ImportOptions): ImportPlan {
  const plan: ImportPlan = { ...importPaths(options), startAt: { offset: 0, line: 1, records: 0 } };
  const { input, dryRun, checkpointPath } = plan;
  if (!dryRun && !options.upstream && !options.serverToken) {
    throw new ImportSetupError('no server token: set USERMAVEN_SERVER_TOKEN (or pass --server-token), or use --dry-run');
  }
  if (!options.apiKey && !dryRun) throw new ImportSetupError('no API key: set USERMAVEN_API_KEY (or pass --api-key)');
  if (options.url !== undefined && !dryRun && !URL.canParse(options.url)) {
    throw new ImportSetupError(`USERMAVEN_URL / --url must be an absolute URL such as https://events.usermaven.com (got ${JSON.stringify(options.url.slice(0, 60))})`);
  }
  if (input !== '-') {
    try {
      const info = statSync(input);
      if (!info.isFile()) throw new ImportSetupError(`${options.input} is not a file`);
      plan.totalBytes = info.size;
    } catch (error) {
      if (error instanceof ImportSetupError) throw error;
      throw new ImportSetupError(`cannot read ${options.input}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  try {
    const found = dryRun ? undefined : loadCheckpoint(checkpointPath);
    if (options.resume && !dryRun) {
      if (found) {
        verifyCheckpoint(found, input);
        plan.checkpoint = found;
        plan.startAt = { offset: found.offset, line: found.line, records: found.records };
      } else options.onNotice?.(`no checkpoint at ${checkpointPath}; starting from the beginning`);
    } else if (found && !found.done) {
      options.onNotice?.(`a checkpoint of an earlier run exists (line ${found.line}); starting over — pass --resume to continue it instead`);
    } else if (found?.done && !dryRun) {
      options.onNotice?.('an earlier import of this input finished; importing it again (same event_ids, so the upstream de-duplicates)');
    }
  } catch (error) {
    if (error instanceof CheckpointError) throw new ImportSetupError(error.message);
    throw error;
  }
  return plan;
}
