/**
 * Slowloris guard: how many connections one address may hold at once. A client dripping header
 * lines holds a socket (a file descriptor) until the headers deadline; ~1,000 of them from one
 * address used up the open-file limit (1,024, systemd's default) and every other visitor's POST
 * failed. Connections over the cap are closed as they arrive, before a byte is read.
 *
 * Counted by socket address, because that is what holds the connection: `X-Forwarded-For` is
 * not known until the headers are in, which is exactly what a slow client withholds. So a
 * trusted proxy's own connections are not capped (it multiplexes many visitors and guards its
 * own side), and with a hop-count `TRUST_PROXY` every peer is a proxy, so the cap is off.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { normalize, trustsHop, type TrustProxy } from '../relay/client-ip.ts';
import type { Logger } from '../delivery/log.ts';

/** Default connections one address may hold at once: well above a browser's six, a NAT's few dozen. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 128;

export function limitConnectionsPerIp(server: Server, options: { max: number; trust: TrustProxy; logger: Logger; logEveryMs?: number; /** Told of each connection closed (metrics). */ onRefused?: () => void }): void {
  const { max, trust, logger } = options;
  // (With a hop count every peer is a trusted proxy: trustsHop is true for all; no cap to keep.)
  if (max <= 0 || trust.hops > 0) return;
  const logEveryMs = options.logEveryMs ?? 60_000;
  const open = new Map<string, number>();
  let refused = 0;
  let loggedAt = -Infinity;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ? normalize(socket.remoteAddress) : undefined;
    if (!address || trustsHop(trust, address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      refused++;
      options.onRefused?.();
      const t = performance.now();
      if (t - loggedAt >= logEveryMs) {
        // Counts only: the address is personal data and a flood would repeat it.
        logger.warn('connections refused: too many from one address', { limit: max, refused, hint: 'behind a proxy, set TRUST_PROXY so its connections are not capped' });
        loggedAt = t;
        refused = 0;
      }
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = open.get(address)! - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
