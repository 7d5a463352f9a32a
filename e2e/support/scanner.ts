/**
 * Records every response a browser context received — status, headers and body — so a test
 * can assert a secret never reached the browser. `settle()` waits for reads in flight.
 *
 * Headers are read when a response arrives, bodies once its request finished. A response
 * whose request never finishes has no body to read: e.g. the tracker's `no-cors` keepalive
 * fetch, whose opaque body the page never consumes (and could not read if it tried); the
 * DevTools protocol reports such a request failed at the next navigation. Those stay
 * `body: undefined` and are listed by `unread()`. A `text/event-stream` never finishes
 * either; a test reads what such a stream delivered from the page that listens to it.
 */
import type { BrowserContext, Request, Response } from '@playwright/test';

export interface SeenResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface ResponseScanner {
  readonly responses: SeenResponse[];
  /** Waits for header and body reads in flight. */
  settle(): Promise<void>;
  /** Where `secret` appears (url, a header, or a body), one line per hit. */
  find(secret: string): string[];
  /** URLs of responses whose body the browser never finished receiving. */
  unread(): string[];
}

export function scanResponses(context: BrowserContext): ResponseScanner {
  const responses: SeenResponse[] = [];
  const byRequest = new Map<Request, SeenResponse>();
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    const p = work.catch(() => undefined).finally(() => pending.delete(p));
    pending.add(p);
  };

  context.on('response', (response: Response) => {
    const seen: SeenResponse = { url: response.url(), status: response.status(), headers: response.headers(), body: undefined };
    responses.push(seen);
    byRequest.set(response.request(), seen);
    track(response.allHeaders().then((all) => void (seen.headers = all)));
  });
  context.on('requestfinished', (request: Request) => {
    track(
      (async () => {
        const response = await request.response();
        const seen = byRequest.get(request);
        if (response && seen) seen.body = await response.body();
      })(),
    );
  });

  return {
    responses,
    async settle() {
      while (pending.size > 0) await Promise.all(pending);
    },
    find(secret) {
      const hits: string[] = [];
      for (const r of responses) {
        if (r.url.includes(secret)) hits.push(`${r.url}: url`);
        for (const [name, value] of Object.entries(r.headers)) {
          if (name.includes(secret) || value.includes(secret)) hits.push(`${r.url}: header ${name}`);
        }
        if (r.body?.includes(secret)) hits.push(`${r.url}: body`);
      }
      return hits;
    },
    unread: () =>
      responses
        .filter((r) => r.body === undefined && r.status !== 204 && !(r.status >= 300 && r.status < 400))
        .filter((r) => !(r.headers['content-type'] ?? '').startsWith('text/event-stream'))
        .map((r) => r.url),
  };
}
