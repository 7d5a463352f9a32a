/**
 * Serving the tracker: the built `public/u.js` with the collect path baked in, an ETag, and
 * cache headers. The tracker's source holds the literal `"/u/e"` exactly once (a promise of
 * the tracker build), which is replaced by the configured path so the script posts wherever
 * this relay listens.
 *
 * Each distinct body is compressed once, when it is first loaded (at start-up), never per
 * request: the runtime passes its best compressor in (`precompress`: Brotli and zopfli-strength
 * gzip on Node, bytes made at build time in the Worker), else gzip by CompressionStream. A
 * request gets the best coding its `Accept-Encoding` takes, with an ETag of that coding's own
 * (RFC 9110 §8.8.3: a different representation needs a different entity tag) and `Vary:
 * Accept-Encoding`, so a cache never hands Brotli to a browser that did not ask for it.
 */
import { RelayError } from './errors.ts';
import { Reply } from './reply.ts';

export const DEFAULT_COLLECT_LITERAL = '"/u/e"';

/** The content codings a script is served in, best first (Brotli is ~11 % smaller than gzip). */
export const CODINGS = ['br', 'gzip'] as const;
export type Coding = (typeof CODINGS)[number];

/** One body in the codings a compressor could make; a missing one is served otherwise. */
export type Encodings = Partial<Record<Coding, Uint8Array | null>>;
export type Precompress = (body: string) => Encodings | Promise<Encodings>;

export interface ServedScript {
  body: string;
  etag: string;
  /** The body in each coding made for it, with that representation's ETag. */
  encoded: Partial<Record<Coding, { bytes: Uint8Array; etag: string }>>;
}

export interface ScriptServerOptions {
  /** Called when the collect path differs and the source has no literal to rewrite. */
  onMissingLiteral?: () => void;
  /** Compresses a body once; default: gzip by CompressionStream, when the runtime has it. */
  precompress?: Precompress;
}

/** Rewrite, fingerprint and compress once per distinct source; `load` is called per request. */
export function createScriptServer(load: () => string | null | Promise<string | null>, collectPath: string, options: ScriptServerOptions = {}) {
  let lastSource: string | null = null;
  let served: Promise<ServedScript> | null = null;
  const get = async (): Promise<ServedScript | null> => {
    const source = await load();
    if (source === null) return null;
    if (source !== lastSource || !served) {
      lastSource = source;
      served = prepare(source, collectPath, options);
    }
    return served;
  };
  // At start-up, so no visitor waits for the compressor (zopfli takes a few hundred ms).
  get().catch(() => {});
  return get;
}

async function prepare(source: string, collectPath: string, options: ScriptServerOptions): Promise<ServedScript> {
  let body = source;
  if (collectPath !== '/u/e') {
    if (source.includes(DEFAULT_COLLECT_LITERAL)) body = source.split(DEFAULT_COLLECT_LITERAL).join(JSON.stringify(collectPath));
    else options.onMissingLiteral?.();
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body));
  const hex = Array.from(new Uint8Array(digest).subarray(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
  const made = await (options.precompress ?? gzipByStream)(body);
  const encoded: ServedScript['encoded'] = {};
  for (const coding of CODINGS) {
    const bytes = made[coding];
    if (bytes) encoded[coding] = { bytes, etag: `"${hex}-${coding == 'gzip' ? 'gz' : coding}"` };
  }
  return { body, etag: `"${hex}"`, encoded };
}

/** gzip by the Web-standard CompressionStream (zlib's default level), where the runtime has it. */
export async function gzipByStream(text: string): Promise<Encodings> {
  if (typeof CompressionStream === 'undefined') return {};
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return { gzip: new Uint8Array(await new Response(stream).arrayBuffer()) };
}

/**
 * The coding to answer with, among those on offer (in the server's order of preference):
 * the one `Accept-Encoding` gives the highest weight, the first on offer among equals; null
 * for identity. RFC 9110 §12.5.3: `q=0` refuses a coding, `*` stands for every coding not
 * named, `x-gzip` is gzip; no header, or an empty one, asks for identity.
 */
export function negotiateEncoding(header: string | null, offered: readonly Coding[]): Coding | null {
  if (!header) return null;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (name) weights.set(name === 'x-gzip' ? 'gzip' : name, Number.isFinite(weight) ? weight : 0);
  }
  let best: Coding | null = null;
  let bestWeight = 0;
  for (const coding of offered) {
    const weight = weights.get(coding) ?? weights.get('*') ?? 0;
    if (weight > bestWeight) [best, bestWeight] = [coding, weight];
  }
  return best;
}

/** RFC 9110 §13.1.2: If-None-Match is a list of entity tags, or `*`; weak comparison. */
export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** `GET`/`HEAD` on the script route: the best coding accepted, 304 on a matching ETag. */
export async function scriptReply(script: (() => Promise<ServedScript | null>) | null, request: Request): Promise<Reply> {
  const served = script ? await script() : null;
  if (!served) throw new RelayError(404, 'not_built', 'the tracker is not built; run `npm run build`');
  const coding = negotiateEncoding(request.headers.get('accept-encoding'), CODINGS.filter((c) => served.encoded[c]));
  const encoded = coding ? served.encoded[coding]! : null;
  const etag = encoded ? encoded.etag : served.etag;
  const headers: Record<string, string> = {
    'content-type': 'text/javascript; charset=utf-8',
    // A fixed URL cannot be immutable: cache for an hour, revalidate cheaply with the ETag.
    'cache-control': 'public, max-age=3600, stale-while-revalidate=86400',
    etag,
    vary: 'Accept-Encoding',
  };
  if (coding) headers['content-encoding'] = coding;
  if (etagMatches(request.headers.get('if-none-match'), etag)) return new Reply(304, headers);
  if (request.method === 'HEAD') return new Reply(200, headers);
  return new Reply(200, headers, encoded ? encoded.bytes : served.body);
}
