/**
 * Faults of the relay itself: SIGKILL under load and restart, SIGTERM, a full disk cap, a
 * damaged spool. The process tests run the real CLI (`node bin/umbeacon.js serve`, built).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { buildOnce, cliEnv, root, startCli, startTestRelay, tempDir, type CliRelay, type InProcessRelay } from '../support/fault-relay.ts';
import { missingUpstream, outOfOrder, startLoad } from '../support/load-driver.ts';
import { killUnderLoad } from '../support/fault-kill.ts';
import { canMountTmpfs, mountTmpfs } from '../support/tmpfs.ts';

let upstream: FakeUpstream;
let data: ReturnType<typeof tempDir>;
const children: CliRelay[] = [];
let inProcess: InProcessRelay | undefined;

beforeAll(() => buildOnce());
beforeEach(async () => {
  upstream = await startFakeUpstream();
  data = tempDir('process');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await inProcess?.close({ drainMs: 0 });
  inProcess = undefined;
  await upstream.close();
  data.remove();
});

describe('the relay process', () => {
  it('loses nothing acknowledged when SIGKILLed under load and restarted', async () => {
    const report = await killUnderLoad({ upstream, dataDir: data.dir, kills: 1, track: (c) => children.push(c) });
    expect(report.kills).toBe(1);
    expect(report.missing).toEqual([]);
    expect(report.outOfOrder).toEqual([]);
    expect(report.acked).toBeGreaterThan(0);
  });

  it('refuses a second relay on the same DATA_DIR with one line naming the first, which keeps serving and loses nothing', async () => {
    const first = await startCli(cliEnv(upstream, data.dir));
    children.push(first);
    const load = startLoad({ target: () => first.url, visitors: 4, maxEvents: 300 });
    await load.waitAcked(50);
    const refused = await startCli(cliEnv(upstream, data.dir)).then(
      (second) => {
        children.push(second);
        return null;
      },
      (error: Error) => error.message,
    );
    expect(refused).not.toBeNull();
    const [head, ...printed] = refused!.split('\n').filter(Boolean);
    expect(head).toBe('relay exited (1) before listening:');
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(new RegExp(`^umbeacon serve: .* is in use by pid ${first.child.pid} \\(since [^)]+\\); one process per directory`));
    await load.waitAcked(300);
    await load.stop();
    await upstream.waitFor(() => missingUpstream(load, upstream.eventIds()).length === 0, 30_000);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
  });

  it('refuses a DATA_DIR inside SITE_DIR, in one line, before it writes or serves anything', async () => {
    const site = join(data.dir, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<p>site</p>');
    const dataDir = join(site, 'data');
    const refused = await startCli(cliEnv(upstream, dataDir, { SITE_DIR: site })).then(
      (relay) => {
        children.push(relay);
        return 'started';
      },
      (error: Error) => error.message,
    );
    const printed = refused.split('\n').filter(Boolean).slice(1);
    expect(printed).toEqual([`umbeacon serve: DATA_DIR: ${dataDir} overlaps SITE_DIR ${site}: the spool would be published as static files; put DATA_DIR outside SITE_DIR (and SITE_DIR outside DATA_DIR)`]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it.skipIf(!canMountTmpfs)('says a read-only DATA_DIR is not writable, in one line, instead of "ENOENT … mkdir"', async () => {
    const tmpfs = await mountTmpfs({ size: '64k', readOnly: true });
    try {
      const dataDir = join(tmpfs.path, 'data');
      const refused = await startCli(cliEnv(upstream, dataDir)).then(
        (relay) => {
          children.push(relay);
          return 'started';
        },
        (error: Error) => error.message,
      );
      const printed = refused.split('\n').filter(Boolean).slice(1);
      expect(printed).toEqual([`umbeacon serve: DATA_DIR ${join(dataDir, 'spool')} is not writable (EROFS): mount it read-write, or use a directory the user running this process can write`]);
    } finally {
      await tmpfs.unmount();
    }
  });

  it('counts dead letters against DATA_MAX_MB; umbeacon dead-letters lists them by reason and --resend sends them once the cause is fixed', async () => {
    const bad = (e: Record<string, unknown>) => (e['event_attributes'] as { bad?: boolean } | undefined)?.bad === true;
    upstream.reject(bad);
    const first = await startCli(cliEnv(upstream, data.dir, { DATA_MAX_MB: '1' }));
    children.push(first);
    const good: string[] = [];
    const refused: string[] = [];
    const postTo = async (url: string, events: Record<string, unknown>[]) =>
      fetch(`${url}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(events) });
    const deadFile = join(data.dir, 'spool', 'dead-letter.ndjson');
    const deadCount = () => (existsSync(deadFile) ? readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).length : 0);
    // Each batch: nine good events and one the upstream refuses for good, ~55 KB of it. Once the
    // dead letters fill the 1 MB cap, new events are refused, and the answer says why.
    let full: Response | undefined;
    for (let b = 0; b < 40 && !full; b++) {
      const events: Record<string, unknown>[] = Array.from({ length: 9 }, (_, i) => ({ event_type: 'ok', event_id: `good-${b}-${i}` }));
      events.push({ event_type: 'bad', event_id: `bad-${b}`, event_attributes: { bad: true, pad: 'x'.repeat(55_000) } });
      const res = await postTo(first.url, events);
      if (res.status !== 200) {
        full = res;
        break;
      }
      good.push(...events.slice(0, 9).map((e) => e['event_id'] as string));
      refused.push(`bad-${b}`);
      await upstream.waitFor((u) => good.every((id) => u.eventIds().has(id)) && deadCount() === refused.length, 30_000);
    }
    expect(full?.status).toBe(503);
    expect(((await full!.json()) as { message: string }).message).toMatch(/^spool is full \(cap 1 MB, 1 MB of it dead letters: see umbeacon dead-letters\)/);
    expect(refused.length).toBeGreaterThan(15);
    const n = refused.length;

    const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/umbeacon.js', 'dead-letters', '--data-dir', data.dir, ...args], { cwd: root, encoding: 'utf8' });
    const listed = cli();
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${n} dead letter\\(s\\) in .*dead-letter\\.ndjson \\(\\d+ (KB|MB), counted against DATA_MAX_MB\\)`));
    expect(listed.stdout).toMatch(new RegExp(`\\n\\s+${n} {2}upstream answered 400`));
    expect(listed.stdout).not.toContain(upstream.serverToken);
    const busy = cli('--resend');
    expect(busy.status).toBe(1);
    expect(busy.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^umbeacon dead-letters: .* is in use by pid ${first.child.pid} \\(since [^)]+\\): stop the relay \\(or client\\) first, then run this again$`))]);

    // The cause is fixed upstream; the relay is stopped, the dead letters go back into its spool.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    upstream.heal();
    const resent = cli('--resend');
    expect(resent.status).toBe(0);
    expect(resent.stdout).toMatch(new RegExp(`^moved ${n} dead letter\\(s\\) back into the spool`));
    expect(cli().stdout).toMatch(/^no dead letters in /);
    const second = await startCli(cliEnv(upstream, data.dir, { DATA_MAX_MB: '1' }));
    children.push(second);
    await upstream.waitFor((u) => refused.every((id) => u.eventIds().has(id)), 30_000);
    expect((await postTo(second.url, [{ event_type: 'ok', event_id: 'after-resend' }])).status).toBe(200);
  });

  it('drains the spool and exits 0 on SIGTERM', async () => {
    upstream.fail(503);
    const relay = await startCli(cliEnv(upstream, data.dir, { DRAIN_MS: '10000' }));
    children.push(relay);
    const load = startLoad({ target: () => relay.url, visitors: 4, maxEvents: 300 });
    await load.waitAcked(300);
    await load.stop();
    // The backlog is on disk; the upstream comes back just as the relay is told to stop.
    upstream.heal();
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    expect(missingUpstream(load, upstream.eventIds())).toEqual([]);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
    const stopped = relay.output().split('\n').find((l) => l.includes('"msg":"stopped"'));
    expect(stopped).toMatch(/"drained":true/);
    expect(stopped).toMatch(/"keptForNextStart":0/);
    expect(relay.output()).not.toContain(upstream.serverToken);
  });

  it('keeps the backlog on disk when SIGTERM comes while the upstream is down, and sends it after restart', async () => {
    upstream.fail(503);
    const first = await startCli(cliEnv(upstream, data.dir, { DRAIN_MS: '300' }));
    children.push(first);
    const load = startLoad({ target: () => first.url, visitors: 4, maxEvents: 200 });
    await load.waitAcked(200);
    await load.stop();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped".*"drained":false/);
    // The 503s were logged — and the server token is in none of those lines.
    expect(first.output()).toMatch(/upstream failing/);
    expect(first.output()).not.toContain(upstream.serverToken);
    upstream.heal();
    const second = await startCli(cliEnv(upstream, data.dir));
    children.push(second);
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
  });
});

describe('SIGTERM keeps to DRAIN_MS', () => {
  it.each([
    ['hangs (no answer, a 60 s request timeout)', (u: FakeUpstream) => u.hang()],
    // Slow, so an answer lands after the drain deadline, when the old forwarder started the 600 s wait afresh.
    ['answers 429 with Retry-After: 600, after 1.5 s', (u: FakeUpstream) => (u.slow(1500), u.fail(429, { retryAfter: 600 }))],
  ])('exits within DRAIN_MS plus a second when the upstream %s, keeping what it could not send', async (_name, fault) => {
    fault(upstream);
    const first = await startCli(cliEnv(upstream, data.dir, { DRAIN_MS: '2000', UPSTREAM_TIMEOUT_MS: '60000' }));
    children.push(first);
    const load = startLoad({ target: () => first.url, visitors: 2, maxEvents: 50 });
    await load.waitAcked(50);
    await load.stop();
    // The forwarder is stuck in a request or a back-off when the signal comes.
    await upstream.waitFor((u) => u.requests.length >= 1);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const code = await Promise.race([first.exited, new Promise((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000))]);
    const tookMs = Date.now() - signalled;
    console.log(`SIGTERM with an upstream that ${_name}: exited ${code} after ${tookMs} ms (DRAIN_MS 2000)`);
    expect(code).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped".*"drained":false/);
    expect(first.output()).not.toContain(upstream.serverToken);
    upstream.heal();
    const second = await startCli(cliEnv(upstream, data.dir));
    children.push(second);
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
  });
});

describe('the disk cap', () => {
  it('answers 503 with a reason when DATA_MAX_MB is reached, loses nothing stored, and recovers', async () => {
    upstream.fail(503);
    inProcess = await startTestRelay(upstream, data.dir, { dataMaxMb: 1 });
    const relay = inProcess;
    // Big events fill 1 MB quickly.
    const pad = 'x'.repeat(2000);
    const load = startLoad({ target: () => relay.url, visitors: 4, maxBatch: 10, decorate: (e) => void (e['page_title'] = pad) });
    await load.until(() => (load.statuses.get(503) ?? 0) >= 5);
    const full = JSON.parse(load.sampleErrors.get(503)!) as { error: string; message: string };
    expect(full.error).toBe('spool_full');
    expect(full.message).toMatch(/spool is full \(cap 1 MB\)/);
    expect(relay.spool.stats().bytes).toBeLessThanOrEqual(1024 * 1024);
    const ackedWhileFull = load.ackedIds().length;
    expect(ackedWhileFull).toBeGreaterThan(0);

    // Space returns as the upstream takes the backlog; the visitors' retries then get through.
    upstream.heal();
    await load.waitAcked(ackedWhileFull + 200);
    await load.stop();
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    expect(outOfOrder(load, upstream.events)).toEqual([]);
    expect(relay.lines.some((l) => l.includes('"reason":"spool_full"'))).toBe(true);
  });
});

describe('a damaged spool', () => {
  it('starts, keeps every whole record and says what it skipped after a torn last record', async () => {
    upstream.fail(503);
    const first = await startCli(cliEnv(upstream, data.dir, { DRAIN_MS: '0' }));
    children.push(first);
    const load = startLoad({ target: () => first.url, visitors: 3, maxEvents: 120 });
    await load.waitAcked(120);
    await load.stop();
    first.child.kill('SIGKILL');
    await first.exited;

    // A power cut in the middle of a write: half a record, no newline.
    const spoolDir = join(data.dir, 'spool');
    const last = readdirSync(spoolDir).filter((f) => f.startsWith('seg-')).sort().at(-1)!;
    appendFileSync(join(spoolDir, last), `${Date.now()}\t{"event_id":"torn-record","event_type":"lo`);

    upstream.heal();
    const second = await startCli(cliEnv(upstream, data.dir));
    children.push(second);
    await upstream.waitFor((u) => missingUpstream(load, u.eventIds()).length === 0);
    expect(upstream.eventIds().has('torn-record')).toBe(false);
    const skipped = second.output().split('\n').find((l) => l.includes('truncated record'));
    expect(skipped).toBeDefined();
    expect(JSON.parse(skipped!)).toMatchObject({ level: 'warn', segment: expect.stringContaining(last), bytes: expect.any(Number), preview: expect.stringContaining('torn-record') });
    expect(outOfOrder(load, upstream.events)).toEqual([]);
  });
});
