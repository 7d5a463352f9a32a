/**
 * examples/prometheus/alerts.yml and examples/grafana/umbeacon.json, tested with the real
 * thing: Debian's `promtool` checks and unit-tests the rules, and a real `prometheus` server
 * scrapes a relay, loads the rules and answers every dashboard query. Every expression names
 * only families the relay exports. Skipped where the `prometheus` package is not installed
 * (`npm test` installs it as root on Debian: scripts/provision.mjs), but never under `CI`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';
import { root, startTestRelay, tempDir, type InProcessRelay } from '../support/fault-relay.ts';
import { scrape } from '../support/scrape.ts';

const RULES = join(root, 'examples/prometheus/alerts.yml');
const RULES_TEST = join(root, 'examples/prometheus/alerts.test.yml');
const DASHBOARD = join(root, 'examples/grafana/umbeacon.json');
const has = (tool: string) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
const tools = has('promtool') && has('prometheus');

/** The `expr:` of every rule in alerts.yml (inline, or a `|` block). */
function ruleExpressions(): string[] {
  const lines = readFileSync(RULES, 'utf8').split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|' && m[2] !== '>') return void out.push(m[2]!);
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) block.push(lines[j]!.trim());
    out.push(block.join(' '));
  });
  return out;
}

/** Every query of the dashboard, with Grafana's variables replaced as Grafana would. */
function dashboardExpressions(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  return exprs.map((e) => e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*'));
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers outside `{…}`, `[…]`, strings and grouping clauses, not called as functions. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** A port free right now (Prometheus cannot listen on port 0 and say which it got). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('metricNames', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(metricNames('sum by (instance) (rate(a_total{status=~"5..", x="b_total"}[5m])) / sum(c_bytes + d) > 0.8').sort()).toEqual(['a_total', 'c_bytes', 'd']);
    expect(metricNames('histogram_quantile(0.5, sum by (le) (rate(h_bucket[1m])))')).toEqual(['h_bucket']);
  });
});

describe.skipIf(!tools && !process.env.CI)('the example alerts and dashboard, with Debian\'s prometheus', () => {
  let up: FakeUpstream;
  let relay: InProcessRelay;
  let data: ReturnType<typeof tempDir>;
  let exported: Set<string>;

  beforeAll(async () => {
    up = await startFakeUpstream();
    data = tempDir('prometheus');
    relay = await startTestRelay(up, data.dir, { metricsPort: 0 });
    const s = await scrape(relay.metricsListener!.url);
    // A family with labels has no sample until its first count, so names come from `# TYPE` too.
    exported = new Set(s.samples.map((x) => x.name));
    for (const [, name, type] of s.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name! + suffix);
    }
  });
  afterAll(async () => {
    await relay?.close({ drainMs: 0 });
    await up?.close();
    data?.remove();
  });

  it('passes promtool check rules and promtool test rules', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 4 rules found');
    const test = spawnSync('promtool', ['test', 'rules', RULES_TEST], { encoding: 'utf8', cwd: join(root, 'examples/prometheus') });
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  it('names only series the relay exports, in every alert and every dashboard query', () => {
    const exprs = [...ruleExpressions(), ...dashboardExpressions()];
    expect(ruleExpressions()).toHaveLength(4);
    expect(dashboardExpressions().length).toBeGreaterThan(10);
    const unknown = exprs.flatMap((e) => metricNames(e).filter((n) => !exported.has(n)).map((n) => `${n} in ${e}`));
    expect(unknown).toEqual([]);
  });

  it('a real Prometheus scrapes the relay, loads the alerts and answers every dashboard query', async () => {
    const dir = tempDir('prometheus-server');
    const port = await freePort();
    const target = new URL(relay.metricsListener!.url).host;
    writeFileSync(join(dir.dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(RULES)}]`,
      'scrape_configs:',
      `  - { job_name: umbeacon, static_configs: [{ targets: [${JSON.stringify(target)}] }] }`,
      '',
    ].join('\n'));
    let server: ChildProcess | undefined;
    let output = '';
    try {
      server = spawn('prometheus', [`--config.file=${join(dir.dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      server.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      server.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const api = `http://127.0.0.1:${port}`;
      const query = async (q: string) => {
        const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
        return (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      };
      await expect.poll(async () => (await fetch(`${api}/-/ready`).catch(() => null))?.status, { timeout: 30_000, interval: 200 }).toBe(200);

      const post = (n: number) => fetch(`${relay.url}/u/e`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(Array.from({ length: n }, () => ({ event_type: 'pageview', event_id: crypto.randomUUID() }))) });
      expect((await post(7)).status).toBe(200);
      const value = async (q: string) => Number((await query(q)).data.result[0]?.value[1] ?? NaN);
      await expect.poll(() => value('sum(umbeacon_events_received_total{job="umbeacon"})'), { timeout: 20_000, interval: 250 }).toBe(7);
      await expect.poll(() => value('umbeacon_events_forwarded_total{job="umbeacon"}'), { timeout: 20_000, interval: 250 }).toBe(7);

      // The target is up and the rules evaluate without error.
      const targets = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
      expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
      type Rules = { data: { groups: { rules: { name: string; query: string; health: string; lastError?: string; state: string }[] }[] } };
      const rules = async () => ((await (await fetch(`${api}/api/v1/rules`)).json()) as Rules).data.groups.flatMap((g) => g.rules);
      await expect.poll(async () => (await rules()).map((r) => `${r.name}:${r.health}`), { timeout: 10_000, interval: 250 }).toEqual([
        'UmbeaconBacklogOld:ok',
        'UmbeaconDeadLetters:ok',
        'UmbeaconUpstream5xx:ok',
        'UmbeaconSpoolNearlyFull:ok',
      ]);
      // A healthy relay fires nothing.
      expect((await rules()).map((r) => r.state)).toEqual(['inactive', 'inactive', 'inactive', 'inactive']);
      // The spool-cap rule's ratio, computed by Prometheus from what the relay exports.
      expect(await value('(umbeacon_spool_bytes + umbeacon_spool_dead_letter_bytes) / umbeacon_spool_max_bytes')).toBeGreaterThanOrEqual(0);

      // Every dashboard query is valid PromQL for this server, and those without rate() have data.
      for (const expr of dashboardExpressions()) {
        const answer = await query(expr);
        expect(answer.status, `${expr}: ${answer.error ?? ''}`).toBe('success');
        if (!/rate\(|increase\(/.test(expr)) expect(answer.data.result.length, expr).toBeGreaterThan(0);
      }
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- prometheus said:\n${output.slice(-4000)}`, { cause: error });
    } finally {
      server?.kill('SIGTERM');
      if (server && server.exitCode === null) await new Promise((r) => server!.once('exit', r));
      dir.remove();
    }
  }, 90_000);
});
