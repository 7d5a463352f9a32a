import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { limitConnectionsPerIp } from '../../src/relay-node/connection-limit.ts';
import { parseTrustProxy } from '../../src/relay/client-ip.ts';
import { silentLogger } from '../../src/delivery/log.ts';

let server: Server;
let sockets: Socket[] = [];
/** Connections of the current test the server closed (each test counts its own). */
let count = { closed: 0 };
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function listen(trustProxy: string, max: number): Promise<number> {
  server = createServer(() => {});
  count = { closed: 0 };
  limitConnectionsPerIp(server, { max, trust: parseTrustProxy(trustProxy), logger: silentLogger });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function open(port: number): Socket {
  const s = connect(port, '127.0.0.1');
  const mine = count; // a late close of this test's socket counts for this test only
  s.on('error', () => {});
  s.resume(); // read, so the server's FIN is seen
  s.on('close', () => mine.closed++);
  sockets.push(s);
  return s;
}

const serverHolds = () => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));

/** Open `n` more connections from 127.0.0.1; wait until the server closed `expectedClosed` of all and holds the rest. */
async function settle(port: number, n: number, expectedClosed: number) {
  const before = await serverHolds();
  for (let i = 0; i < n; i++) open(port);
  // Both sides agree: the server holds what it kept, the client saw the rest closed.
  await vi.waitFor(async () => {
    expect(await serverHolds()).toBe(before + n - expectedClosed);
    expect(count.closed).toBe(expectedClosed);
  });
}

describe('limitConnectionsPerIp', () => {
  it.each([
    ['no proxy trusted', 'false', 3],
    ['another address trusted', '10.0.0.0/8', 3],
    ['the peer trusted by address (a proxy: not capped)', 'loopback', 0],
    ['a hop count (every peer is a proxy: no cap)', '1', 0],
  ])('with %s (TRUST_PROXY=%s), a cap of 2 closes %i of 5', async (_name, trust, expected) => {
    await settle(await listen(trust, 2), 5, expected);
  });

  it('does nothing with a cap of 0', async () => {
    await settle(await listen('false', 0), 5, 0);
  });

  it('frees a slot when a connection closes', async () => {
    const port = await listen('false', 2);
    await settle(port, 2, 0);
    count = { closed: 0 };
    sockets[0]!.destroy();
    await vi.waitFor(async () => expect(await serverHolds()).toBe(1));
    await settle(port, 1, 0);
  });
});
