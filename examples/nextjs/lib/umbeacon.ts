// One relay per Next.js server process (kept on globalThis so dev-mode reloads reuse it).
// Route handlers are Web-standard (Request) => Response, which is exactly the relay's shape.
//
// Runs on the Node.js runtime only: the spool is files under DATA_DIR, and the forwarder is a
// long-lived loop, so use `next start` or a container, not short-lived serverless functions.
import { createRelayStack, type RelayStack } from 'umbeacon/node';

const g = globalThis as { __umbeacon?: Promise<RelayStack> };

export function relayStack(): Promise<RelayStack> {
  g.__umbeacon ??= createRelayStack({
    apiKey: process.env.USERMAVEN_API_KEY,
    serverToken: process.env.USERMAVEN_SERVER_TOKEN,
    upstreamUrl: process.env.USERMAVEN_URL || 'https://events.usermaven.com',
    dataDir: process.env.DATA_DIR ?? '.umbeacon',
    // Everything under one catch-all route: the tracker at /u/s.js, events at /u/e.
    paths: { script: '/u/s.js' },
    // `next start` adds X-Forwarded-For with the socket address; trust that one local hop.
    trustProxy: process.env.TRUST_PROXY ?? 'loopback',
    fallback: null,
  });
  return g.__umbeacon;
}

/** The request reached us through Next's own server, which is local. */
export async function handle(request: Request): Promise<Response> {
  const { relay } = await relayStack();
  return relay(withoutAcceptEncoding(request), { remoteAddress: '127.0.0.1' });
}

// `next start` compresses responses itself (next.config `compress`, on by default), also those
// that already are: the relay's pre-gzipped tracker would reach the browser gzipped twice and
// fail to parse. So the relay answers uncompressed here, and Next compresses once.
function withoutAcceptEncoding(request: Request): Request {
  if (request.method !== 'GET' && request.method !== 'HEAD') return request;
  if (!request.headers.has('accept-encoding')) return request;
  const headers = new Headers(request.headers);
  headers.delete('accept-encoding');
  return new Request(request.url, { method: request.method, headers });
}
