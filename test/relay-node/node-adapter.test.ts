import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toConnectMiddleware } from '../../src/relay-node/node-adapter.ts';
import { createRelayStack, type RelayStack } from '../../src/relay-node/server.ts';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.ts';

let stack: RelayStack;
let server: Server;
let up: FakeUpstream;
let dir: string;
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await stack.close(0);
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Connect-style app: optional JSON body parser, the relay mount, then the app's own route. */
async function app(parseBodiesFirst: boolean) {
  dir = mkdtempSync(join(tmpdir(), 'umbeacon-mw-'));
  up = await startFakeUpstream({ apiKey: 'k', serverToken: 's-token' });
  stack = await createRelayStack({ apiKey: 'k', serverToken: 's-token', upstreamUrl: up.url, dataDir: dir, fallback: null, log: () => {}, forwarder: { lingerMs: 0 } });
  const mount = toConnectMiddleware(stack.relay);
  server = createServer((req: IncomingMessage & { body?: unknown }, res) => {
    const next = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('the app');
    };
    if (!parseBodiesFirst) return mount(req, res, next);
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      try {
        req.body = JSON.parse(text);
      } catch {
        req.body = text;
      }
      mount(req, res, next);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.each([false, true])('Connect/Express mount (body parsed first: %s)', (parsed) => {
  it('answers relay routes and forwards events upstream', async () => {
    const url = await app(parsed);
    const res = await fetch(`${url}/u/e`, { method: 'POST', body: JSON.stringify([{ event_type: 'mounted', event_id: 'm-1' }]) });
    expect(res.status).toBe(200);
    await up.waitFor((u) => u.eventIds().has('m-1'));
  });

  it('passes every other path to the app', async () => {
    const url = await app(parsed);
    expect(await (await fetch(`${url}/dashboard`)).text()).toBe('the app');
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });
});
