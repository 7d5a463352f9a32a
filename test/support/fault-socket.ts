/**
 * Raw TCP against the relay, for requests no well-behaved HTTP client would send: paths that
 * are not normalized, bodies that trickle or never end, headers too large.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** Status of the first response, 0 when the server closed without answering. */
  status: number;
  /** Everything the server sent. */
  text: string;
  /** Whether the server closed the connection (as opposed to the client giving up). */
  closedByServer: boolean;
}

/**
 * Send `head` (request line + headers, CRLF-terminated) then `chunks` of body, one every
 * `gapMs`; resolve when the server closes the connection or `giveUpMs` passes.
 */
export function rawRequest(port: number, head: string, options: { chunks?: (string | Buffer)[]; gapMs?: number; giveUpMs?: number; keepOpen?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      clearInterval(trickle);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text, closedByServer });
    };
    const giveUp = setTimeout(() => finish(false), options.giveUpMs ?? 10_000);
    let trickle: ReturnType<typeof setInterval> | undefined;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      const chunks = [...(options.chunks ?? [])];
      if (chunks.length === 0) return;
      trickle = setInterval(() => {
        const next = chunks.shift();
        if (next === undefined || socket.destroyed) return clearInterval(trickle);
        socket.write(next);
      }, options.gapMs ?? 5);
    });
  });
}

/** Body of an HTTP/1.1 response text (after the blank line). */
export function bodyOf(answer: RawAnswer): string {
  const at = answer.text.indexOf('\r\n\r\n');
  return at < 0 ? '' : answer.text.slice(at + 4);
}
