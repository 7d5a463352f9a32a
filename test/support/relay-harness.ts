/**
 * Runs the relay core two ways with one API, so one suite specifies both: `direct` calls the
 * handler with `new Request(...)` (no port), `http` serves it through the node:http adapter on
 * 127.0.0.1:0 and uses real HTTP. Both see the client as 127.0.0.1.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeListener } from '../../src/relay-node/node-adapter.ts';
import { createRelay, type RelayHandler, type RelayOptions } from '../../src/relay/handler.ts';
import { createMemorySpool, type MemorySpool } from '../../src/delivery/memory-spool.ts';

export type Mode = 'direct' | 'http';

export interface Harness {
  relay: RelayHandler;
  spool: MemorySpool;
  /** Base URL the requests go to (http://relay.test for direct). */
  base: string;
  call(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array }): Promise<Response>;
  close(): Promise<void>;
}

export async function makeRelay(mode: Mode, options: Partial<RelayOptions> = {}): Promise<Harness> {
  const spool = (options.spool as MemorySpool | undefined) ?? createMemorySpool();
  const relay = createRelay({ rateLimit: 0, ...options, spool });
  if (mode === 'direct') {
    const base = 'http://relay.test';
    return {
      relay,
      spool,
      base,
      // A Host header names the site, as the node:http adapter reads it.
      call: (path, init = {}) => relay(new Request((init.headers?.['host'] ? `http://${init.headers['host']}` : base) + path, init as RequestInit), { remoteAddress: '127.0.0.1' }),
      close: async () => {},
    };
  }
  const server: Server = createServer(toNodeListener(relay));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    relay,
    spool,
    base,
    // node:http rather than fetch: fetch would refuse or rewrite some headers a test must
    // control (Origin, Host, Cookie) and hides the raw Set-Cookie list.
    call: (path, init = {}) =>
      new Promise<Response>((resolve, reject) => {
        const req = httpRequest(base + path, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            const status = res.statusCode ?? 0;
            const body = status === 204 || status === 304 || init.method === 'HEAD' ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers }));
          });
        });
        req.on('error', reject);
        req.end(init.body);
      }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
