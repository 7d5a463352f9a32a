/**
 * What the relay decides, never the browser: `api_key` (config), `source_ip` (the connection),
 * `user_agent` (the header, when the event has none), `event_id` (kept, or minted),
 * `_timestamp` corrected for the client clock's skew, and the tracker's page fields that
 * its `url` holds (derivePage).
 *
 * Skew: the tracker stamps each event with `_timestamp` (when it happened) and `sent_at` (when
 * the request left), both on the client clock. The relay receives it at `now` on its own
 * clock, so `now - sent_at` is the skew (plus network time, which is small next to the hours
 * a wrong device clock can be off). Shifting `_timestamp` by it puts the event on server time
 * while keeping how long ago it happened — right for events queued offline for days.
 */
import type { UpstreamEvent } from '../shared/event.ts';
import { DROPPED_FIELDS, eventIdOf, instantOf } from '../shared/intake.ts';
import type { JsonObject } from './validate.ts';

/** Fields a client may not set: the relay fills them (`sent_at` is spent on the skew) or drops them. */
const RELAY_OWNED: readonly string[] = [...DROPPED_FIELDS, 'sent_at'];

export interface EnrichContext {
  apiKey: string;
  now: number;
  sourceIp?: string | undefined;
  userAgent?: string | null | undefined;
  newId: () => string;
}

export function enrich(event: JsonObject, ctx: EnrichContext): UpstreamEvent {
  const out: JsonObject = {};
  for (const key of Object.keys(event)) if (!RELAY_OWNED.includes(key)) out[key] = event[key];
  const sentAt = time(event['sent_at']);
  const happened = time(event['_timestamp']);
  let timestamp: number;
  if (sentAt !== undefined) timestamp = (happened ?? sentAt) + (ctx.now - sentAt);
  else timestamp = happened ?? ctx.now;
  // An event cannot have happened after it arrived; a clock far ahead with no sent_at would
  // otherwise put it in the future. Nor before 1970: a time out of range, or one the skew
  // correction took out of range (`-1.7e308 + (now - 1.7e308)` is -Infinity, which JSON
  // writes as null), is the receive time.
  if (timestamp > ctx.now || !(timestamp >= 0)) timestamp = ctx.now;
  out['_timestamp'] = Math.round(timestamp);
  out['api_key'] = ctx.apiKey;
  const id = eventIdOf(event['event_id']);
  if (!id.ok || id.id === undefined) out['event_id'] = ctx.newId();
  if (ctx.sourceIp) out['source_ip'] = ctx.sourceIp;
  if (typeof out['user_agent'] !== 'string' && ctx.userAgent) out['user_agent'] = ctx.userAgent;
  derivePage(out);
  return out as UpstreamEvent;
}

const UTM = ['source', 'medium', 'campaign', 'term', 'content'];
// Ad-platform click ids: Google (gclid; gbraid/wbraid from iOS apps; dclid Display & Video),
// Meta, Microsoft, TikTok, X, LinkedIn.
const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'ttclid', 'twclid', 'li_fat_id'];

/**
 * Fills the page fields the tracker leaves out to stay within its byte budget: `doc_path`,
 * `doc_host`, `doc_search`, `utm` and `click_id` are all in the event's `url`, which the
 * tracker captures when the call is made, so upstream gets the page's values of that moment.
 * Only for the tracker's events (`src: "umbeacon"`) and only fields that are missing; other
 * senders send what they mean. utm and click ids as the tracker took them before: the first
 * value of a parameter, empty values left out.
 */
export function derivePage(event: JsonObject): void {
  if (event['src'] !== 'umbeacon' || typeof event['url'] !== 'string') return;
  // One parse per event (URL.canParse and then new URL parsed it twice; URL.parse needs Node 22).
  let u: URL;
  try {
    u = new URL(event['url']);
  } catch {
    return;
  }
  const pick = (keys: string[], prefix: string) => {
    const o: Record<string, string> = {};
    for (const k of keys) {
      const v = u.searchParams.get(prefix + k);
      if (v) o[k] = v;
    }
    return o;
  };
  event['doc_path'] ??= u.pathname;
  event['doc_host'] ??= u.hostname;
  event['doc_search'] ??= u.search;
  event['utm'] ??= pick(UTM, 'utm_');
  event['click_id'] ??= pick(CLICK_IDS, '');
}

/**
 * A time the client may have meant, by the shared intake rule (src/shared/intake.ts): 1973 up to
 * the last time a Date holds. Anything else is taken as absent, so it can neither be forwarded
 * nor skew the correction (a `sent_at` of -1.7e308 would make every time 1970): the receive time
 * stands in for it.
 */
function time(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const instant = instantOf(v);
  return instant.ok ? instant.ms : undefined;
}
