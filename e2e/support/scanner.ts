/**
 * Records every response a browser context received — status line, headers and body — so a
 * test can assert a secret never reached the browser. Bodies are read as the responses come
 * in; `settle()` waits for the reads still in flight.
 */
import type { BrowserContext, Response } from '@playwright/test';

export interface SeenResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  /** Undefined when the browser no longer had it (e.g. a redirect, or a page already gone). */
  body: Buffer | undefined;
}

export interface ResponseScanner {
  readonly responses: SeenResponse[];
  /** Waits for body reads in flight. */
  settle(): Promise<void>;
  /** Responses (url + where) in which `secret` appears, in headers or body. */
  find(secret: string): string[];
}

export function scanResponses(context: BrowserContext): ResponseScanner {
  const responses: SeenResponse[] = [];
  const pending = new Set<Promise<void>>();

  const record = async (response: Response) => {
    const headers = await response.allHeaders().catch(() => response.headers());
    const body = await response.body().catch(() => undefined);
    responses.push({ url: response.url(), status: response.status(), headers, body });
  };
  context.on('response', (response) => {
    const reading = record(response).finally(() => pending.delete(reading));
    pending.add(reading);
  });

  return {
    responses,
    async settle() {
      while (pending.size > 0) await Promise.all(pending);
    },
    find(secret) {
      const hits: string[] = [];
      for (const r of responses) {
        for (const [name, value] of Object.entries(r.headers)) {
          if (name.includes(secret) || value.includes(secret)) hits.push(`${r.url}: header ${name}`);
        }
        if (r.url.includes(secret)) hits.push(`${r.url}: url`);
        if (r.body?.includes(secret)) hits.push(`${r.url}: body`);
      }
      return hits;
    },
  };
}
