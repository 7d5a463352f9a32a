import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUpstream, type SendResult, type Upstream } from '../../src/delivery/upstream.ts';
import { loadCheckpoint } from '../../src/importer/checkpoint.ts';
import { startImport, type ImportOptions } from '../../src/importer/importer.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { expectedTimestamp, historicalEvent, tempDir, writeEvents } from '../support/import-files.ts';

let upstream: FakeUpstream;
let dir: string;

beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: 'imp-key', serverToken: 'imp-secret' });
  dir = tempDir();
});
afterEach(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (options: Partial<ImportOptions> & { input: string }) =>
  startImport({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url, ...options }).done;

/** Every accepted event's `n` attribute (its index in the generated file). */
const indexes = (events: Record<string, unknown>[]) => events.map((e) => (e['event_attributes'] as { n: number }).n);

const readReport = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { line: number; record: number; reason: string; text: string });

describe('import', () => {
  it.each(['ndjson', 'array'] as const)('delivers a 10,000-event %s file complete, with original timestamps, in at most 25 requests', async (format) => {
    const input = writeEvents(dir, 10_000, format);
    const summary = await run({ input });
    expect(summary).toMatchObject({ outcome: 'done', sent: 10_000, valid: 10_000, skipped: 0 });
    expect(upstream.requests.length).toBeLessThanOrEqual(25);
    expect(upstream.eventIds().size).toBe(10_000);
    expect(indexes(upstream.events).sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    for (const event of upstream.events) {
      const n = (event['event_attributes'] as { n: number }).n;
      expect(event['_timestamp']).toBe(expectedTimestamp(n));
      expect(event['api_key']).toBe('imp-key');
    }
    expect(loadCheckpoint(summary.checkpointPath)).toMatchObject({ done: true, sent: 10_000 });
    expect(existsSync(summary.reportPath)).toBe(false);
  });

  it('sends the same event_ids when the same file is imported again', async () => {
    const input = writeEvents(dir, 1200);
    await run({ input });
    const first = upstream.events.map((e) => e['event_id']);
    upstream.clear();
    const again = await run({ input });
    expect(again.outcome).toBe('done');
    expect(upstream.events.map((e) => e['event_id'])).toEqual(first);
    expect(new Set(first).size).toBe(1200);
  });

  it('says a finished import is complete instead of sending it again on --resume', async () => {
    const input = writeEvents(dir, 10);
    await run({ input });
    upstream.clear();
    const summary = await run({ input, resume: true });
    expect(summary.outcome).toBe('already-done');
    expect(upstream.requests).toEqual([]);
  });

  it('reports bad lines with line numbers and reasons, and imports the rest within --max-errors', async () => {
    const lines = [
      JSON.stringify(historicalEvent(0)),
      '{"event_type":"a",', // 2: broken JSON
      '',
      JSON.stringify({ _timestamp: 1700000000000 }), // 4
      JSON.stringify(historicalEvent(1)),
      JSON.stringify({ event_type: 'a', _timestamp: 1700000000 }), // 6: seconds
      JSON.stringify({ event_type: 'a', _timestamp: 'last week' }), // 7
      '[1]', // 8
      JSON.stringify(historicalEvent(2)),
    ];
    const input = join(dir, 'mixed.ndjson');
    writeFileSync(input, lines.join('\n'));
    const seen: number[] = [];
    const summary = await run({ input, maxErrors: 5, onSkip: (e) => seen.push(e.line) });
    expect(summary).toMatchObject({ outcome: 'done', sent: 3, skipped: 5, read: 8 });
    expect(indexes(upstream.events)).toEqual([0, 1, 2]);
    expect(seen).toEqual([2, 4, 6, 7, 8]);
    expect(readReport(summary.reportPath).map((e) => [e.line, e.record, e.reason.replace(/ \(.*/, '')])).toEqual([
      [2, 2, 'not valid JSON'],
      [4, 3, 'missing event_type'],
      [6, 5, '_timestamp 1700000000 looks like seconds; write milliseconds'],
      [7, 6, '_timestamp "last week" is neither ms since 1970 nor an ISO 8601 date'],
      [8, 7, 'not a JSON object'],
    ]);
    expect(summary.reportPath).toBe(`${input}.errors.ndjson`);
  });

  it('stops at the first bad line by default, checkpoints right before it, and resumes once it is fixed', async () => {
    const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify(historicalEvent(i)));
    const good = lines[1100]!;
    lines[1100] = '{"event_type":"broken"}';
    const input = join(dir, 'stop.ndjson');
    writeFileSync(input, lines.join('\n') + '\n');

    const stopped = await run({ input });
    expect(stopped).toMatchObject({ outcome: 'too-many-errors', skipped: 1, resumeLine: 1101 });
    expect(readReport(stopped.reportPath).map((e) => [e.line, e.reason])).toEqual([[1101, 'missing _timestamp']]);
    expect(indexes(upstream.events).sort((a, b) => a - b)).toEqual(Array.from({ length: 1100 }, (_, i) => i));
    expect(loadCheckpoint(stopped.checkpointPath)).toMatchObject({ line: 1101, sent: 1100, done: false });

    // Fixing a line after the checkpoint keeps the checkpoint valid.
    lines[1100] = good;
    writeFileSync(input, lines.join('\n') + '\n');
    upstream.clear();
    const resumed = await run({ input, resume: true });
    expect(resumed).toMatchObject({ outcome: 'done', sent: 1500, skipped: 0 });
    expect(indexes(upstream.events).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => 1100 + i));
    expect(existsSync(resumed.reportPath)).toBe(false);
  });

  it('sends nothing on a dry run and still counts and reports', async () => {
    const input = join(dir, 'dry.ndjson');
    writeFileSync(input, [JSON.stringify(historicalEvent(0)), '{"nope":1}', JSON.stringify(historicalEvent(1))].join('\n'));
    const summary = await run({ input, dryRun: true, serverToken: '' });
    expect(summary).toMatchObject({ outcome: 'too-many-errors', dryRun: true, valid: 2, skipped: 1, sent: 0 });
    expect(upstream.requests).toEqual([]);
    expect(existsSync(summary.checkpointPath)).toBe(false);
    expect(readReport(summary.reportPath).map((e) => e.line)).toEqual([2]);
  });

  it('reads standard input when the file is -', async () => {
    const text = Array.from({ length: 700 }, (_, i) => JSON.stringify(historicalEvent(i))).join('\n');
    const stdin = Readable.from([Buffer.from(text.slice(0, 1000)), Buffer.from(text.slice(1000))]);
    const summary = await run({ input: '-', stdin, checkpointPath: join(dir, 'stdin.checkpoint.json'), reportPath: join(dir, 'stdin.errors.ndjson') });
    expect(summary).toMatchObject({ outcome: 'done', sent: 700 });
    expect(upstream.eventIds().size).toBe(700);
  });

  it('retries what the upstream fails to take, and nothing goes missing', async () => {
    const input = writeEvents(dir, 2000);
    upstream.fail(503, { count: 3, retryAfter: 0 });
    const summary = await run({ input });
    expect(summary).toMatchObject({ outcome: 'done', sent: 2000, retries: 3 });
    expect(upstream.eventIds().size).toBe(2000);
  });

  it('reports an event the upstream refuses and sends the rest of its batch', async () => {
    const input = writeEvents(dir, 1000);
    upstream.reject((e) => (e['event_attributes'] as { n: number }).n === 321);
    const summary = await run({ input, maxErrors: 1 });
    expect(summary).toMatchObject({ outcome: 'done', sent: 999, skipped: 1 });
    expect(readReport(summary.reportPath).map((e) => [e.line, e.reason])).toEqual([[322, expect.stringMatching(/^the upstream refused it: upstream answered 400/)]]);
    expect(upstream.eventIds().size).toBe(999);
  });

  describe('an upstream that refuses everything (400 or 422 to every request)', () => {
    it.each([400, 422])('lists no record as bad on %i, and sends every event in the same run once it heals', async (status) => {
      const input = writeEvents(dir, 2000);
      // Two rounds of the first batch refused whole (each event on its own too), then healed.
      upstream.fail(status, { count: 2 * (1 + 64) });
      const summary = await run({ input, concurrency: 1, maxErrors: 1_000_000 });
      expect(summary).toMatchObject({ outcome: 'done', sent: 2000, skipped: 0 });
      expect(existsSync(summary.reportPath)).toBe(false);
      expect(upstream.eventIds().size).toBe(2000);
      expect(loadCheckpoint(summary.checkpointPath)).toMatchObject({ done: true, sent: 2000 });
    });

    it('gives up like an outage past --max-retries, checkpoint before the batch, and --resume sends every event once it heals', async () => {
      const input = writeEvents(dir, 2000);
      upstream.fail(400);
      const failed = await run({ input, maxRetries: 1, maxErrors: 1_000_000 });
      expect(failed).toMatchObject({ outcome: 'upstream-failed', sent: 0, skipped: 0, resumeLine: 1 });
      expect(failed.reason).toMatch(/upstream refused every event of the batch \(500\): upstream answered 400.*gave up after 1 retries/);
      expect(existsSync(failed.reportPath)).toBe(false);
      expect(loadCheckpoint(failed.checkpointPath)).toMatchObject({ done: false, sent: 0, line: 1 });

      upstream.heal();
      const resumed = await run({ input, resume: true });
      expect(resumed).toMatchObject({ outcome: 'done', sent: 2000, skipped: 0 });
      expect(upstream.eventIds().size).toBe(2000);
    });
  });

  it('stops with upstream-failed when the credentials are refused, without leaking the token', async () => {
    const input = writeEvents(dir, 10);
    const summary = await run({ input, serverToken: 'wrong-secret' });
    expect(summary.outcome).toBe('upstream-failed');
    expect(summary.reason).toMatch(/401.*check USERMAVEN_API_KEY/);
    expect(JSON.stringify(summary)).not.toContain('wrong-secret');
    expect(summary.resumeLine).toBe(1);
  });

  it('moves the checkpoint only past batches acknowledged in order, with requests in flight', async () => {
    const input = writeEvents(dir, 2000, 'ndjson');
    // The first batch is held until three later ones are acknowledged; then the run is interrupted.
    const real = createUpstream({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    let laterAcks = 0;
    const interrupt = new AbortController();
    const ordered: Upstream = {
      host: real.host,
      async send(body): Promise<SendResult> {
        if (calls++ === 0) {
          await held;
          return { kind: 'retry', status: 0, reason: 'held back' };
        }
        const result = await real.send(body);
        if (++laterAcks === 3) {
          interrupt.abort();
          release();
        }
        return result;
      },
    };
    const stopped = await run({ input, upstream: ordered, concurrency: 4, signal: interrupt.signal, graceMs: 5000 });
    expect(stopped.outcome).toBe('interrupted');
    expect(upstream.events.length).toBe(1500);
    expect(loadCheckpoint(stopped.checkpointPath)).toMatchObject({ offset: 0, line: 1, sent: 0 });

    const resumed = await run({ input, resume: true });
    expect(resumed).toMatchObject({ outcome: 'done', sent: 2000 });
    expect(upstream.eventIds().size).toBe(2000);
  });

  it.each([
    ['an NDJSON file', 'ndjson', false],
    ['a JSON array', 'array', false],
    ['NDJSON on standard input', 'ndjson', true],
  ] as const)('resumes %s exactly where an interrupt left it', async (_name, format, viaStdin) => {
    const file = writeEvents(dir, 3000, format);
    const input = viaStdin ? '-' : file;
    const paths = { checkpointPath: join(dir, 'cp.json'), reportPath: join(dir, 'report.ndjson') };
    const stdin = () => (viaStdin ? { stdin: Readable.from([readFileSync(file)]) } : {});
    const real = createUpstream({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url });
    const interrupt = new AbortController();
    let acks = 0;
    const interruptAfterTwo: Upstream = {
      host: real.host,
      async send(body) {
        const result = await real.send(body);
        if (result.kind === 'ok' && ++acks === 2) interrupt.abort();
        return result;
      },
    };
    const stopped = await run({ input, ...paths, ...stdin(), upstream: interruptAfterTwo, batchSize: 400, concurrency: 1, signal: interrupt.signal });
    expect(stopped).toMatchObject({ outcome: 'interrupted', sent: 800 });
    expect(loadCheckpoint(paths.checkpointPath)).toMatchObject({ format, sent: 800, records: 800, line: 801 });

    const resumed = await run({ input, ...paths, ...stdin(), resume: true });
    expect(resumed).toMatchObject({ outcome: 'done', sent: 3000, read: 2200 });
    expect(upstream.events).toHaveLength(3000);
    expect(indexes(upstream.events).sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it.each([
    ['changed before the checkpoint', (text: string) => `${JSON.stringify(historicalEvent(99_999))}\n${text}`, /changed before the checkpoint's position/],
    ['shorter than the checkpoint', (text: string) => text.slice(0, 1000), /is shorter .* than the checkpoint's position/],
  ])('refuses to resume when the file was %s', async (_name, edit, message) => {
    const input = writeEvents(dir, 1000);
    const real = createUpstream({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url });
    const interrupt = new AbortController();
    const once: Upstream = { host: real.host, send: (body) => real.send(body).finally(() => interrupt.abort()) };
    const stopped = await run({ input, upstream: once, batchSize: 100, concurrency: 1, signal: interrupt.signal });
    expect(stopped).toMatchObject({ outcome: 'interrupted', sent: 100 });
    writeFileSync(input, edit(readFileSync(input, 'utf8')));
    await expect(run({ input, resume: true })).rejects.toThrow(message);
  });

  it('refuses to resume with a checkpoint of a different file', async () => {
    const input = writeEvents(dir, 1000);
    const interrupt = new AbortController();
    interrupt.abort();
    await run({ input, signal: interrupt.signal });
    const other = writeEvents(dir, 10, 'ndjson', 'other.ndjson');
    await expect(run({ input: other, resume: true, checkpointPath: `${input}.checkpoint.json` })).rejects.toThrow(/the checkpoint is for .*events\.ndjson, not .*other\.ndjson/);
  });

  it('honours --rate by sending smaller batches no faster than asked', async () => {
    const input = writeEvents(dir, 30);
    const summary = await run({ input, rate: 10 });
    expect(summary).toMatchObject({ outcome: 'done', sent: 30 });
    expect(upstream.requests.map((r) => r.events.length)).toEqual([10, 10, 10]);
    // Three batches of 10 at 10 events/s: the third may leave no earlier than 2 s after the first.
    expect(upstream.requests[2]!.at - upstream.requests[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  it('gives up after --max-retries without the token in the reason, and a resume completes the import', async () => {
    const input = writeEvents(dir, 1500);
    // The failure body echoes the request target, token and all.
    upstream.fail(503, { retryAfter: 0, body: (target) => `bad gateway for ${target}` });
    const failed = await run({ input, concurrency: 1, maxRetries: 2 });
    expect(failed).toMatchObject({ outcome: 'upstream-failed', sent: 0, retries: 3, resumeLine: 1 });
    expect(failed.reason).toMatch(/503.*gave up after 2 retries/);
    expect(JSON.stringify(failed)).not.toContain(upstream.serverToken);

    upstream.heal();
    const resumed = await run({ input, resume: true });
    expect(resumed).toMatchObject({ outcome: 'done', sent: 1500 });
    expect(upstream.events).toHaveLength(1500);
    expect(indexes(upstream.events).sort((a, b) => a - b)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });

  it('lists each bad record once in the report, however often the import is interrupted', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(historicalEvent(i)));
    lines[49] = 'oops';
    lines[149] = '[]'; // read ahead by the first run, after its checkpoint: reported again by the next
    lines[649] = '{"event_type":"a"}';
    const input = join(dir, 'twice.ndjson');
    writeFileSync(input, lines.join('\n') + '\n');
    const real = createUpstream({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url });
    const interruptedRun = async (resume: boolean) => {
      const interrupt = new AbortController();
      const once: Upstream = { host: real.host, send: (body) => real.send(body).finally(() => interrupt.abort()) };
      return run({ input, resume, upstream: once, batchSize: 100, concurrency: 1, maxErrors: 5, signal: interrupt.signal });
    };
    expect(await interruptedRun(false)).toMatchObject({ outcome: 'interrupted', sent: 100, resumeLine: 102 });
    expect(await interruptedRun(true)).toMatchObject({ outcome: 'interrupted', sent: 200, resumeLine: 203 });

    const resumed = await run({ input, resume: true, maxErrors: 5 });
    expect(resumed).toMatchObject({ outcome: 'done', sent: 997, skipped: 3 });
    expect(readReport(resumed.reportPath).map((e) => [e.line, e.record])).toEqual([
      [50, 50],
      [150, 150],
      [650, 650],
    ]);
    expect(upstream.events).toHaveLength(997);
  });
});
