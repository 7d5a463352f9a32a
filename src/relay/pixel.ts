/**
 * The `<noscript>` pageview: `<img src="/u/p.gif" alt="">` (optionally `?url=…&title=…`).
 * Without JavaScript the page address comes from the query, else the `Referer` header — set by
 * browsers on image requests under the default `strict-origin-when-cross-origin` policy for
 * same-origin requests (MDN "Referrer-Policy").
 */
import type { JsonObject } from './validate.ts';

/** The smallest transparent 1x1 GIF (43 bytes). */
export const GIF = Uint8Array.from(
  atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'),
  (c) => c.charCodeAt(0),
);

export function pixelEvent(url: URL, referer: string | null): JsonObject {
  const q = url.searchParams;
  const page = q.get('url') ?? referer ?? undefined;
  const event: JsonObject = { event_type: 'pageview', src: 'noscript' };
  if (page) {
    event['url'] = page.slice(0, 2000);
    try {
      const p = new URL(page);
      event['doc_host'] = p.hostname;
      event['doc_path'] = p.pathname;
      event['doc_search'] = p.search;
    } catch {
      // A relative or odd page value: keep it as the url only.
    }
  }
  const title = q.get('title');
  if (title) event['page_title'] = title.slice(0, 500);
  const ref = q.get('ref');
  if (ref) event['referer'] = ref.slice(0, 2000);
  return event;
}
