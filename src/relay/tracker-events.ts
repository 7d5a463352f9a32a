/**
 * What u.js sends, made into the Usermaven shape every later step expects: its compact
 * events expanded (src/shared/compact.ts), with the fields the request carries (user agent,
 * language, ad-platform cookies); an event of an older u.js (long names, still waiting in a
 * visitor's outbox) keeps its names, its `s` becoming `sent_at`.
 */
import { expandCompact, isCompact, type RequestFacts } from '../shared/compact.ts';
import { isPlainObject } from '../shared/event-rules.ts';

export function fromTracker(raw: unknown, facts: RequestFacts): unknown {
  if (!isPlainObject(raw)) return raw;
  if (isCompact(raw)) return expandCompact(raw, facts);
  if (typeof raw['s'] === 'number' && raw['sent_at'] === undefined) {
    const { s, ...rest } = raw;
    return { ...rest, sent_at: s };
  }
  return raw;
}
