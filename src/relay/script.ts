/**
 * Serving the tracker: the built `public/u.js` with the collect path baked in, an ETag, and
 * cache headers. The tracker's source holds the literal `"/u/e"` exactly once (a promise of
 * the tracker build), which is replaced by the configured path so the script posts wherever
 * this relay listens.
 */
import { RelayError } from './errors.ts';
import { Reply } from './reply.ts';

export const DEFAULT_COLLECT_LITERAL = '"/u/e"';

export interface ServedScript {
  body: string;
  etag: string;
  /** The same bytes gzipped (CompressionStream), when the runtime has it; a front proxy may compress instead. */
  gzip: Uint8Array | null;
  gzipEtag: string;
}

/** Rewrite and fingerprint once per distinct source; `load` is called per request. */
export function createScriptServer(load: () => string | null | Promise<string | null>, collectPath: string, onMissingLiteral?: () => void) {
  let lastSource: string | null = null;
  let served: Promise<ServedScript> | null = null;
  return async (): Promise<ServedScript | null> => {
    const source = await load();
    if (source === null) return null;
    if (source !== lastSource || !served) {
      lastSource = source;
      served = prepare(source, collectPath, onMissingLiteral);
    }
    return served;
  };
}

async function prepare(source: string, collectPath: string, onMissingLiteral?: () => void): Promise<ServedScript> {
  let body = source;
  if (collectPath !== '/u/e') {
    if (source.includes(DEFAULT_COLLECT_LITERAL)) body = source.split(DEFAULT_COLLECT_LITERAL).join(JSON.stringify(collectPath));
    else onMissingLiteral?.();
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body));
  const hex = Array.from(new Uint8Array(digest).subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
  return { body, etag: `"${hex}"`, gzip: await gzipped(body), gzipEtag: `"${hex}-gz"` };
}

async function gzipped(text: string): Promise<Uint8Array | null> {
  if (typeof CompressionStream === 'undefined') return null;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Does `Accept-Encoding` allow gzip? (RFC 9110 §12.5.3; `gzip;q=0` refuses it.) */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** RFC 9110 §13.1.2: If-None-Match is a list of entity tags, or `*`; weak comparison. */
export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** `GET`/`HEAD` on the script route: gzip when accepted, 304 on a matching ETag. */
export async function scriptReply(script: (() => Promise<ServedScript | null>) | null, request: Request): Promise<Reply> {
  const served = script ? await script() : null;
  if (!served) throw new RelayError(404, 'not_built', 'the tracker is not built; run `npm run build`');
  const gzip = served.gzip && acceptsGzip(request.headers.get('accept-encoding')) ? served.gzip : null;
  const etag = gzip ? served.gzipEtag : served.etag;
  const headers: Record<string, string> = {
    'content-type': 'text/javascript; charset=utf-8',
    // A fixed URL cannot be immutable: cache for an hour, revalidate cheaply with the ETag.
    'cache-control': 'public, max-age=3600, stale-while-revalidate=86400',
    etag,
    vary: 'Accept-Encoding',
  };
  if (gzip) headers['content-encoding'] = 'gzip';
  if (etagMatches(request.headers.get('if-none-match'), etag)) return new Reply(304, headers);
  if (request.method === 'HEAD') return new Reply(200, headers);
  return new Reply(200, headers, gzip ?? served.body);
}
