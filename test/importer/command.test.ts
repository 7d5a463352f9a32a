/**
 * The built CLI (`node bin/umbeacon.js import …`) as a user runs it: killed and resumed,
 * interrupted with Ctrl-C, exit codes, help.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/importer/checkpoint.ts';
import { idFromText } from '../../src/importer/event.ts';
import { buildIfStale, spawnCli } from '../support/cli-process.mjs';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { historicalEvent, tempDir, writeEvents } from '../support/import-files.ts';

let upstream: FakeUpstream;
let dir: string;

beforeAll(() => buildIfStale(), 120_000);
beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: 'cli-key', serverToken: 'cli-secret' });
  dir = tempDir();
});
afterEach(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exit: Promise<Exit> } {
  const run = spawnCli({
    command: 'import',
    args,
    env: { USERMAVEN_API_KEY: upstream.apiKey, USERMAVEN_SERVER_TOKEN: upstream.serverToken, USERMAVEN_URL: upstream.url, ...env },
  });
  return { child: run.child, exit: run.exited.then(({ code, signal }) => ({ code, signal, stdout: run.stdout(), stderr: run.stderr() })) };
}

/** The event_ids the importer derives for the generated lines of `input`. */
function expectedIds(input: string): Set<string> {
  return new Set(readFileSync(input, 'utf8').trim().split('\n').map(idFromText));
}

describe('umbeacon import (built CLI)', () => {
  it('resumes a SIGKILLed import without gaps, re-sending only unacknowledged batches under the same ids', async () => {
    const input = writeEvents(dir, 10_000);
    upstream.slow(100);
    const first = cli([input, '--concurrency', '2', '--no-progress']);
    await upstream.waitFor((u) => u.events.length >= 3000, 20_000);
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    // Requests the fake was still delaying land after the kill; let them, before counting.
    await upstream.waitFor((u) => u.requests.every((r) => r.status !== 0));
    const checkpoint = loadCheckpoint(`${input}.checkpoint.json`);
    expect(checkpoint).toBeDefined();
    expect(checkpoint!.done).toBe(false);
    expect(checkpoint!.sent).toBeGreaterThan(0);
    const before = upstream.events.length;
    // The checkpoint never runs ahead of what the upstream has.
    expect(checkpoint!.sent).toBeLessThanOrEqual(before);

    upstream.heal();
    const second = cli([input, '--resume', '--concurrency', '2', '--no-progress']);
    const result = await second.exit;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`resuming at line ${checkpoint!.line}`);
    expect(result.stdout).toContain(`import: 10000 events sent, ${10_000 - checkpoint!.sent} of them by this resumed run`);

    // No gaps: every line's id arrived. Same ids: nothing arrived that is not in the file.
    expect(upstream.eventIds()).toEqual(expectedIds(input));
    // The resumed run started at the checkpoint, not at the beginning.
    expect(upstream.events.length - before).toBe(10_000 - checkpoint!.sent);
    // Re-sent = acknowledged upstream but not yet checkpointed: at most the in-flight window.
    expect(upstream.events.length - 10_000).toBeLessThanOrEqual(2 * 2 * 500);
  });

  it('stops cleanly on Ctrl-C, says how to resume, and the resume completes the import', async () => {
    const input = writeEvents(dir, 5000);
    upstream.slow(100);
    const first = cli([input, '--concurrency', '1', '--no-progress']);
    await upstream.waitFor((u) => u.events.length >= 1000, 20_000);
    first.child.kill('SIGINT');
    const stopped = await first.exit;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toMatch(/^import interrupted; \d+ events sent/);
    expect(stopped.stderr).toMatch(/continue from line \d+ with:\n {2}umbeacon import \S+ --resume/);

    upstream.heal();
    const resumed = await cli([input, '--resume', '--no-progress']).exit;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(upstream.eventIds()).toEqual(expectedIds(input));
  });

  it('stops on Ctrl-C even while the upstream hangs, without waiting for the request timeout', async () => {
    const input = writeEvents(dir, 3000);
    upstream.hang();
    // A 10-minute request timeout: the test only finishes in time if Ctrl-C does not wait for it.
    const run = cli([input, '--timeout', '600000', '--no-progress']);
    await upstream.waitFor((u) => u.requests.length >= 1);
    run.child.kill('SIGINT');
    const stopped = await run.exit;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toMatch(/^import interrupted; 0 events sent/);
    expect(stopped.stderr).toContain('continue from line 1 with');
    expect(loadCheckpoint(`${input}.checkpoint.json`)).toMatchObject({ offset: 0, sent: 0, done: false });
  });

  it('exits 3 on bad lines beyond --max-errors and lists them with line numbers', async () => {
    const input = join(dir, 'bad.ndjson');
    writeFileSync(input, [JSON.stringify(historicalEvent(0)), '{"event_type":"a"}', 'oops', JSON.stringify(historicalEvent(1))].join('\n'));
    const result = await cli([input, '--max-errors', '1', '--no-progress']).exit;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${input}: line 2: missing _timestamp`);
    expect(result.stderr).toMatch(new RegExp(`${input}: line 3: not valid JSON`));
    expect(result.stderr).toContain('--max-errors 2');
    expect(readFileSync(`${input}.errors.ndjson`, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('reports records nested 20,000 arrays deep as bad lines, never a crash, and sends the rest', async () => {
    const input = join(dir, 'deep.ndjson');
    const deep = (extra: string) => `{"event_type":"a",${extra}"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    writeFileSync(input, [
      JSON.stringify(historicalEvent(0)),
      // An ISO _timestamp and a "__proto__" anywhere in the text each took a path that recursed.
      deep('"_timestamp":"2024-01-01T00:00:00Z",'),
      deep('"_timestamp":1704067200000,"__proto__x":1,'),
      JSON.stringify(historicalEvent(1)),
    ].join('\n'));
    const result = await cli([input, '--max-errors', '2', '--no-progress']).exit;
    expect(result.stderr).not.toContain('Maximum call stack');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${input}: line 2: nested deeper than 8 levels`);
    expect(result.stderr).toContain(`${input}: line 3: nested deeper than 8 levels`);
    expect(upstream.events).toHaveLength(2);
  });

  it.each([
    ['a missing server token', ['events.ndjson'], { USERMAVEN_SERVER_TOKEN: '' }, /no server token/],
    ['a missing file', ['nope.ndjson'], {}, /cannot read nope\.ndjson: ENOENT/],
    ['a bad flag value', ['events.ndjson', '--rate', 'fast'], {}, /--rate takes a number > 0/],
    ['an unknown flag', ['events.ndjson', '--turbo'], {}, /unknown option '--turbo'/],
    ['a relative upstream URL', ['events.ndjson'], { USERMAVEN_URL: 'events.example.com' }, /USERMAVEN_URL \/ --url must be an absolute URL/],
  ])('exits 2 on %s', async (_name, args, env, message) => {
    writeEvents(dir, 3);
    const [file, ...rest] = args;
    const result = await cli([file === 'nope.ndjson' ? file : join(dir, file!), ...rest], env).exit;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain(upstream.serverToken);
  });

  it('exits 4 when the upstream refuses the credentials, without printing the token', async () => {
    const input = writeEvents(dir, 3);
    const result = await cli([input, '--no-progress'], { USERMAVEN_SERVER_TOKEN: 'not-the-token' }).exit;
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/upstream answered 401/);
    expect(result.stdout + result.stderr).not.toContain('not-the-token');
  });

  it('prints a summary, and --json prints it as JSON', async () => {
    const input = writeEvents(dir, 1234);
    const plain = await cli([input]).exit;
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^import: 1234 events sent in 3 requests/);
    const json = await cli([input, '--json']).exit;
    expect(JSON.parse(json.stdout)).toMatchObject({ outcome: 'done', sent: 1234, requests: 3, skipped: 0 });
  });

  it('documents every flag and the exit codes in --help', async () => {
    const result = await cli(['--help']).exit;
    expect(result.code).toBe(0);
    for (const flag of ['--dry-run', '--resume', '--checkpoint', '--report', '--max-errors', '--rate', '--concurrency', '--api-key', '--server-token', '--url']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/Exit codes:[\s\S]*130 {2}interrupted/);
  });
});
