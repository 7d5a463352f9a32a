/**
 * The Next.js example's route handlers, called as Next calls them: a Web Request in, a
 * Response out. They import `umbeacon/node` by package name (self-reference), so this runs
 * against the built dist/ like an installed package.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnce } from '../support/relay-process.ts';

let dir: string;
type Route = Record<string, (request: Request) => Promise<Response>>;
let catchAll: Route;
let official: Route;

beforeAll(async () => {
  buildOnce();
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-next-'));
  process.env['DATA_DIR'] = dir;
  catchAll = (await import('../../examples/nextjs/app/u/[...path]/route.ts')) as unknown as Route;
  official = (await import('../../examples/nextjs/app/api/v1/event/route.ts')) as unknown as Route;
});
afterAll(async () => {
  const { relayStack } = (await import('../../examples/nextjs/lib/umbeacon.ts')) as { relayStack: () => Promise<{ close(ms: number): Promise<unknown> }> };
  await (await relayStack()).close(2000);
  delete process.env['DATA_DIR'];
  rmSync(dir, { recursive: true, force: true });
});

describe('Next.js example', () => {
  it('serves the tracker at /u/s.js with the collect path baked in', async () => {
    const res = await catchAll['GET']!(new Request('http://site.test/u/s.js'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"/u/e"');
  });

  it('stores events posted to /u/e and to the official SDK route', async () => {
    const a = await catchAll['POST']!(new Request('http://site.test/u/e', { method: 'POST', body: '[{"event_type":"next_event","event_id":"n-1"}]', headers: { 'x-forwarded-for': '203.0.113.9' } }));
    expect(a.status).toBe(200);
    const b = await official['POST']!(new Request('http://site.test/api/v1/event?token=any', { method: 'POST', body: '[{"event_type":"sdk_event","event_id":"n-2","utc_time":"2026-01-01T00:00:00.000Z"}]', headers: { 'content-type': 'application/json' } }));
    expect(b.status).toBe(200);
    await expect.poll(() => {
      try {
        return readFileSync(join(dir, 'events.ndjson'), 'utf8');
      } catch {
        return '';
      }
    }).toMatch(/n-1[\s\S]*n-2/);
    expect(readFileSync(join(dir, 'events.ndjson'), 'utf8')).toContain('"source_ip":"203.0.113.9"');
  });
});
