/**
 * The built client (`dist/client.js`) in a process of its own: killed with SIGKILL after its
 * events were made durable, and a script that never calls close().
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { buildIfStale } from '../support/cli-process.mjs';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

const root = new URL('../..', import.meta.url).pathname;
const clientModule = join(root, 'dist/client.js');
let upstream: FakeUpstream;

beforeAll(() => buildIfStale(), 120_000);
beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: 'du-key', serverToken: 'du-secret' });
});
afterEach(async () => {
  await upstream.close();
});

/** Runs `body` as an ES module with `createClient` and `options` in scope; resolves on its exit. */
function script(body: string, options: Record<string, unknown>, onLine?: (line: string, kill: () => void) => void) {
  const source = `import { createClient } from ${JSON.stringify(clientModule)};\nconst options = ${JSON.stringify(options)};\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (onLine) for (const line of c.toString().split('\n').filter(Boolean)) onLine(line, () => child.kill('SIGKILL'));
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

describe('client durability (built dist/client.js)', () => {
  it('loses nothing it made durable when the process is killed, and the next client sends it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'umbeacon-client-'));
    upstream.hang();
    const options = { apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url, dataDir, timeoutMs: 500 };
    const killed = await script(
      `const client = createClient({ ...options, onError: () => {} });
       await Promise.all(Array.from({ length: 150 }, (_, i) => client.track('durable', { i }, { eventId: 'durable-' + i })));
       console.log('stored');
       setInterval(() => {}, 1000);`,
      options,
      (line, kill) => line === 'stored' && kill(),
    );
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(upstream.events).toEqual([]);

    upstream.heal();
    const next = createClient({ apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url, dataDir, onError: () => {} });
    try {
      expect(await next.flush(10_000)).toBe(true);
    } finally {
      await next.close();
    }
    expect(upstream.eventIds()).toEqual(new Set(Array.from({ length: 150 }, (_, i) => `durable-${i}`)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets a script exit by itself once its events are sent, without close()', async () => {
    const done = await script(
      `const client = createClient(options);
       await client.track('from_a_script', { ok: true });
       await client.flush();
       console.log('flushed');`,
      { apiKey: upstream.apiKey, serverToken: upstream.serverToken, url: upstream.url },
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('flushed');
    expect(upstream.events).toEqual([expect.objectContaining({ event_type: 'from_a_script' })]);
  });
});
