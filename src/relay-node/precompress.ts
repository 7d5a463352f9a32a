/**
 * The tracker scripts compressed as small as the formats go, once per body (at start-up, and
 * again only if the built file changes): Brotli at quality 11 for browsers that take it, and
 * gzip by zopfli (@gfx/zopfli, WebAssembly) for the rest, ~2 % smaller than zlib's level 9 and
 * readable by every gzip decoder. build.mjs calls it too, for the bytes inlined in the Worker.
 */
import { gzipAsync } from '@gfx/zopfli';
import { promisify } from 'node:util';
import { brotliCompress, constants } from 'node:zlib';
import type { Encodings } from '../relay/script.ts';

const brotli = promisify(brotliCompress);

export async function precompress(body: string): Promise<Encodings> {
  const bytes = new TextEncoder().encode(body);
  const [br, gzip] = await Promise.all([
    brotli(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
    // 15 iterations: zopfli's own advice for small files; more gain nothing on the tracker.
    gzipAsync(bytes, { numiterations: 15 }),
  ]);
  return { br: new Uint8Array(br.buffer, br.byteOffset, br.byteLength), gzip };
}
