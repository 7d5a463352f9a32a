/**
 * node:http ⇄ Web `Request`/`Response`: the few lines that let the relay core run under
 * `http.createServer` (the shape of @hono/node-server's `serve({ fetch })`).
 *
 * Bodies are buffered up to the route's limit (the handler's `bodyLimit`: 64 KiB on the collect
 * routes), where reading stops with a 413; responses are written whole — except
 * `text/event-stream`, which is streamed with back-pressure and cancelled when the client goes
 * away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorReply, RelayError } from '../relay/errors.ts';
import type { ConnInfo } from '../relay/handler.ts';
import type { TrustProxy } from '../relay/client-ip.ts';
import { Reply } from '../relay/reply.ts';
import { requestContext } from '../relay/request-context.ts';
import { lightRequest } from './light-request.ts';

/** A Web handler; one that also has `reply` (the relay's) is asked for plain answers instead. */
export type WebHandler = ((request: Request, conn?: ConnInfo) => Promise<Response>) & {
  reply?: (request: Request, conn?: ConnInfo) => Promise<Reply | Response>;
  /** Body bytes a path takes (the relay's: 64 KiB on the collect routes); reading stops there with a 413. */
  bodyLimit?: (pathname: string) => number;
  /** Turns what the adapter refuses into an answer (the relay's also counts it); default `errorReply`. */
  refuse?: (error: unknown, route: string) => Reply;
  /** `TRUST_PROXY` (the relay's own): with it the adapter decides each request's context. */
  trustProxy?: TrustProxy;
};

/**
 * @example
 *   http.createServer(toNodeListener(createRelay({ spool }))).listen(8080);
 */
export function toNodeListener(handler: WebHandler, options: { maxBodyBytes?: number; fallbackHost?: string; trustProxy?: TrustProxy } = {}) {
  // The route's own limit: a 1 MiB upload to a 64 KiB route used to be buffered whole before
  // the handler refused it (1,000 of them held ~1 GB until the request timeout).
  const limitOf = options.maxBodyBytes !== undefined || !handler.bodyLimit ? () => options.maxBodyBytes ?? 1024 * 1024 : handler.bodyLimit;
  const fallbackHost = options.fallbackHost ?? 'localhost';
  const answer = handler.reply ?? handler;
  const refuse = handler.refuse ?? errorReply;
  const trust = options.trustProxy ?? handler.trustProxy;
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      // Only adapter failures land here (the handler turns its own errors into responses).
      if (!res.headersSent) void send(res, errorReply(error, req.url ?? '/'), req.method === 'HEAD');
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    // No AbortSignal per request: creating one costs more than the rest of a small request
    // (undici wires listeners to it). Long-lived streaming responses are cancelled through
    // their body reader instead (see `send`).
    const method = req.method ?? 'GET';
    let body: Buffer | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      const pathname = (req.url ?? '/').split('?')[0]!;
      const maxBodyBytes = limitOf(pathname);
      const read = await readBody(req, maxBodyBytes);
      if (read === null) {
        res.shouldKeepAlive = false;
        await send(res, refuse(new RelayError(413, 'too_large', `body is larger than ${maxBodyBytes} bytes`), pathname), false);
        lingerThenClose(req);
        return;
      }
      body = read;
    }
    let url: URL;
    const target = req.url ?? '/';
    try {
      // "//x/y" is a path (origin-form, RFC 9112 §3.2.1), not a network-path reference:
      // resolved against a base it would make "x" the host and "/y" the path.
      const base = `http://${req.headers.host ?? fallbackHost}`;
      url = target.startsWith('//') ? new URL(base + target) : new URL(target, base);
    } catch {
      url = new URL(`http://${fallbackHost}${target.startsWith('/') ? target : '/'}`);
    }
    const bytes = body ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : undefined;
    const request = lightRequest(url.href, method, req.rawHeaders, bytes);
    // Who is asking is decided here, once, from the socket: X-Forwarded-* only from a proxy
    // TRUST_PROXY names (src/relay/request-context.ts). The body goes along as bytes too, so
    // the core need not stream what is already in memory.
    const remoteAddress = req.socket.remoteAddress;
    const context = trust ? requestContext(request, url, remoteAddress, trust) : undefined;
    const response = await answer(request, { remoteAddress, body: bytes, url, context });
    await send(res, response, method === 'HEAD');
  }
}

/**
 * Mount the relay inside an Express or Connect app: its routes are answered, everything else
 * goes to `next()`. Mount it before body parsers (`express.json()` would consume the stream);
 * if one ran anyway, its `req.body` is re-serialized.
 *
 * @example
 *   const { relay } = await createRelayStack(...);   // see examples/express.mjs
 *   app.use(toConnectMiddleware(relay));
 */
export function toConnectMiddleware(handler: WebHandler & { handles(pathname: string): boolean }, options: { maxBodyBytes?: number } = {}) {
  const listener = toNodeListener(handler, options);
  return (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: (error?: unknown) => void): void => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    if (!handler.handles(pathname)) return next();
    if (req.readableEnded && req.body !== undefined) {
      const text = typeof req.body === 'string' ? req.body : Buffer.isBuffer(req.body) ? req.body.toString('utf8') : JSON.stringify(req.body);
      replayBody.set(req, Buffer.from(text, 'utf8'));
    }
    listener(req, res);
  };
}

/** Bodies a framework already read, keyed by request, for `readBody` to use instead of the stream. */
const replayBody = new WeakMap<IncomingMessage, Buffer>();

/**
 * Close after an early answer without resetting it away: destroying the socket while the
 * client is still sending makes the kernel answer its data with a RST, which can discard our
 * 413 before the client reads it. Read on (and drop) for a moment first — RFC 9112 §9.6.
 */
function lingerThenClose(req: IncomingMessage): void {
  req.resume();
  const timer = setTimeout(() => req.destroy(), 1000);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/** Buffer the body; null when it is over the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const replay = replayBody.get(req);
  if (replay) return Promise.resolve(replay.length > limit ? null : replay);
  // A declared length over the limit is refused before a byte of the body is read.
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

async function send(res: ServerResponse, response: Reply | Response, head: boolean): Promise<void> {
  if (response instanceof Reply) {
    writeReply(res, response, head);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const type = response.headers.get('content-type') ?? '';
  if (response.body && type.startsWith('text/event-stream') && !head) {
    res.writeHead(response.status, headers);
    res.flushHeaders();
    const reader = response.body.getReader();
    let closed = false;
    let resume: (() => void) | null = null;
    const wake = () => {
      resume?.();
      resume = null;
    };
    res.on('close', () => {
      closed = true;
      wake();
      void reader.cancel().catch(() => {});
    });
    res.on('drain', wake);
    // The stream errors when it drops a subscriber that fell behind (events-page.ts): end the
    // connection then, even while waiting for a drain that will not come.
    reader.closed.catch(() => res.destroy());
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        res.destroy();
        return;
      }
      if (chunk.done || closed) break;
      // Back-pressure: read on only once the socket took the last chunk, so a client that
      // stops reading leaves the backlog in the stream, which bounds it (events-page.ts).
      if (!res.write(chunk.value) && !closed) await new Promise<void>((r) => (resume = r));
    }
    res.end();
    return;
  }
  // A body nobody will read (HEAD) is cancelled, so its source lets go at once.
  if (head && response.body) void response.body.cancel().catch(() => {});
  const buf = response.body && !head ? Buffer.from(await response.arrayBuffer()) : undefined;
  if (buf && !('content-length' in headers)) headers['content-length'] = String(buf.length);
  res.writeHead(response.status, headers);
  res.end(buf);
}

/**
 * A `Reply` goes straight to the socket: one header object, one write. Its header object is
 * completed in place rather than copied (a Reply is built per request; what is added — cookies,
 * the body's length — follows from the Reply itself, so writing one twice is still right).
 */
function writeReply(res: ServerResponse, reply: Reply, head: boolean): void {
  const headers: Record<string, string | readonly string[]> = reply.headers;
  if (reply.cookies.length > 0) headers['set-cookie'] = reply.cookies;
  const body = head ? null : reply.body;
  if (body !== null && !('content-length' in headers)) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  res.writeHead(reply.status, headers as Record<string, string | string[]>);
  if (body === null) res.end();
  else res.end(body);
}
