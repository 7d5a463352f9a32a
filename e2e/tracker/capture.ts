/**
 * A small server for the tracker's own specs: serves the BUILT public/u.js and the fixture
 * pages on 127.0.0.1 (a free port), and records every POST to /u/e. Query parameters named
 * `data-*` on a fixture's URL become attributes of its u.js script tag, so one fixture
 * serves every configuration: `/index.html?data-debug=true&data-respect-dnt=true`.
 * Events are expanded from the tracker's compact format and get the page fields the relay
 * derives from their url (fromTracker, derivePage), as upstream gets them;
 * `requests[].body` keeps what the tracker sent.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { InboundEvent } from '../../src/shared/event.ts';
import { derivePage } from '../../src/relay/enrich.ts';
import { fromTracker } from '../../src/relay/tracker-events.ts';

const root = new URL('../../', import.meta.url);

export interface Received {
  path: string;
  /** The collect URL's query: the page's `cookie_policy`, `ip_policy` and cookie domain `d`. */
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  events: InboundEvent[];
}

export interface Capture {
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  /** Every request to the collect path, in arrival order. */
  requests: Received[];
  /** Every event received, once per event_id, in arrival order, with the page fields the relay derives. */
  events(): InboundEvent[];
  /** How many collect requests were answered with a failNext status. */
  refused: number;
  /** Answer the next `n` collect requests with this status instead of 204. */
  failNext(n: number, status: number): void;
  /** Set-Cookie on collect answers, as the relay refreshes `__eventn_id`. */
  setCookie: string | undefined;
  close(): Promise<void>;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function startCapture(): Promise<Capture> {
  const requests: Received[] = [];
  let failing = 0;
  let failStatus = 503;
  const capture = {} as Capture;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks).toString('utf8');
        if (failing > 0) {
          failing--;
          capture.refused++;
          res.writeHead(failStatus).end();
          return;
        }
        const parsed = JSON.parse(body) as unknown;
        // As the relay reads them: compact events expanded to Usermaven's names with what the
        // request carries, then the page fields derived from the url.
        const facts = { userAgent: req.headers['user-agent'], acceptLanguage: req.headers['accept-language'], cookie: req.headers.cookie };
        const events = ([] as unknown[]).concat(parsed).map((e) => fromTracker(e, facts) as InboundEvent);
        for (const e of events) derivePage(e);
        requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers, body, events });
        res.writeHead(204, capture.setCookie ? { 'set-cookie': capture.setCookie } : {}).end();
        return;
      }
      if (url.pathname === '/u.js' || url.pathname === '/u/x.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        res.end(await readFile(new URL('public' + url.pathname, root)));
        return;
      }
      // A fixture by its file name (`/any/dir/late-official.html`); any other path is the home
      // fixture, so specs can use paths of their own.
      const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
      const fixture = (n: string) => readFile(new URL(`e2e/tracker/fixtures/${n}`, root), 'utf8');
      let html = await fixture(/^[\w-]+\.html$/.test(name) ? name : 'index.html').catch(() => fixture('index.html'));
      const attrs = [...url.searchParams].filter(([k]) => k.startsWith('data-')).map(([k, v]) => ` ${k}="${escape(v)}"`).join('');
      html = html.replaceAll('<!--attrs-->', attrs);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    } catch (e) {
      res.writeHead(e && (e as NodeJS.ErrnoException).code === 'ENOENT' ? 404 : 500).end(String(e));
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;

  Object.assign(capture, {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    requests,
    // Once per event_id, as the relay's window (src/relay/dedupe.ts) passes them upstream: a
    // batch in flight when the page is left is carried again by its beacon, and by the next
    // page, until an answer proves it arrived. `requests` keeps every copy.
    events: () => {
      const seen = new Set<unknown>();
      return requests.flatMap((r) => r.events).filter((e) => e.event_id === undefined || (!seen.has(e.event_id) && !!seen.add(e.event_id)));
    },
    failNext: (n: number, status: number) => {
      failing = n;
      failStatus = status;
    },
    setCookie: undefined,
    refused: 0,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  });
  return capture;
}
