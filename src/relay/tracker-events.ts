/**
 * What u.js sends, made into the Usermaven shape every later step expects: its compact
 * events expanded (src/shared/compact.ts), with the fields the request carries (user agent,
 * language, ad-platform cookies); an event of an older u.js (long names, still waiting in a
 * visitor's outbox) keeps its names, its `s` becoming `sent_at`.
 */
import { expandCompact, isCompact, type RequestFacts } from '../shared/compact.ts';
import { isPlainObject } from '../shared/event-rules.ts';

/** The attribute names of u.js's `$scroll`, which it sends as an array in this order (the official SDK's names). */
export const SCROLL_ATTRIBUTES = ['percent', 'window_height', 'document_height', 'scroll_distance'] as const;

/** `$scroll`'s array of attributes as the object the official SDK sends; any other value as it is. */
export function scrollAttributes(a: unknown): unknown {
  return Array.isArray(a) ? Object.fromEntries(SCROLL_ATTRIBUTES.map((k, i) => [k, a[i]])) : a;
}

/**
 * How many events the tracker's outbox dropped (its bounds: bytes and age) before this one,
 * which it counts on the oldest event it kept as `o`; 0 when absent or not a count.
 */
export function droppedBefore(raw: unknown): number {
  const o = isPlainObject(raw) ? raw['o'] : undefined;
  return typeof o === 'number' && Number.isSafeInteger(o) && o > 0 ? o : 0;
}

export function fromTracker(raw: unknown, facts: RequestFacts): unknown {
  if (!isPlainObject(raw)) return raw;
  if (isCompact(raw)) return expandCompact(raw['e'] === '$scroll' ? { ...raw, a: scrollAttributes(raw['a']) } : raw, facts);
  if (typeof raw['s'] === 'number' && raw['sent_at'] === undefined) {
    const { s, ...rest } = raw;
    return { ...rest, sent_at: s };
  }
  return raw;
}
