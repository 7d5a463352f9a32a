/**
 * The tracker's compact wire format, and its expansion into Usermaven's field names.
 *
 * u.js sends each event with one-letter keys; the relay expands them before anything else
 * looks at the event (validation, enrichment, the spool), so everything downstream sees
 * the Usermaven shape the official SDK sends. The long names are most of the bytes of an
 * event builder, and what the request itself carries (user agent, language, the site's
 * ad-platform cookies) need not be repeated in every event. docs/tracker.md explains the
 * design; this table is the format:
 *
 * | key | Usermaven field | from |
 * |---|---|---|
 * | `i` | `event_id` | UUID |
 * | `e` | `event_type` | |
 * | `t` | `_timestamp` | ms, when the call was made |
 * | `s` | `sent_at` | ms, when the request left |
 * | `n` | `user.anonymous_id` | `__eventn_id`; '' cookieless |
 * | `u` | `user` | traits remembered by `identify` |
 * | `c` | `company` | remembered by `group`/`identify`; else `user.company`; else `{}` |
 * | `p` | top-level keys | super properties (`set`), global then per event type; never over a field of the event |
 * | `a` | `event_attributes` (`autocapture_attributes` for `$autocapture`; none for `user_identify`, `group`) | absent on `pageview`/`$pageleave`: `{url, referrer, title}` of the page |
 * | `l` | `url` | |
 * | `d` | `page_title` | |
 * | `r` | `referer` | `document.referrer` |
 * | `v` | `vp_size` | `"WxH"` |
 * | `w` | `screen_resolution` | `"WxH"` |
 * | `x` | `doc_encoding` | |
 * | `z` | `local_tz_offset` | minutes |
 * | `g` | `user_agent` | `navigator.userAgent`; else the request's `User-Agent` |
 * | `m` | `namespace` | `data-namespace`, else `"default"` |
 * | `o` | — | on the oldest event of the tracker's outbox: how many events its bounds dropped before it (0 mostly); the relay counts it (src/relay/tracker-events.ts) and drops the key |
 * | — | `user_language` | the first tag of the request's `Accept-Language` |
 * | — | `ids` | the request's `_ga`, `_fbp`, `_fbc` cookies |
 * | — | `src` | `"umbeacon"` |
 *
 * (`doc_path`, `doc_host`, `doc_search`, `utm`, `click_id` follow from `url`: derivePage in
 * src/relay/enrich.ts.)
 */
export interface CompactEvent {
  i: string;
  e: string;
  t: number;
  s?: number;
  n: string;
  u?: Record<string, unknown> | null;
  c?: Record<string, unknown> | null;
  p?: Record<string, unknown>;
  /** An array only on `$scroll` (src/relay/tracker-events.ts expands it). */
  a?: Record<string, unknown> | unknown[] | undefined;
  l: string;
  d: string;
  r: string;
  v: string;
  w: string;
  x: string;
  z: number;
  g?: string;
  m?: string | undefined;
  o?: number;
}

/** What the request says about the browser, for the fields u.js does not repeat. */
export interface RequestFacts {
  userAgent?: string | null | undefined;
  acceptLanguage?: string | null | undefined;
  cookie?: string | null | undefined;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/** True for an event in the compact form (it has `e`, not `event_type`). */
export function isCompact(event: Obj): boolean {
  return typeof event['e'] === 'string' && !('event_type' in event);
}

const AD_COOKIES = ['_ga', '_fbp', '_fbc'];

/** The event in Usermaven's names. Keys that are not the format's are dropped. */
export function expandCompact(c: Obj, facts: RequestFacts = {}): Obj {
  const type = c['e'] as string;
  const user = obj(c['u']) ?? {};
  const out: Obj = {
    event_id: c['i'],
    event_type: type,
    _timestamp: c['t'],
    sent_at: c['s'],
    user: { ...user, anonymous_id: c['n'] },
    company: obj(c['c']) ?? obj(user['company']) ?? {},
    ids: adIds(facts.cookie),
    src: 'umbeacon',
    url: c['l'],
    page_title: c['d'],
    referer: c['r'],
    vp_size: c['v'],
    screen_resolution: c['w'],
    doc_encoding: c['x'],
    local_tz_offset: c['z'],
    user_agent: c['g'] ?? facts.userAgent ?? undefined,
    user_language: facts.acceptLanguage?.split(/[,;]/)[0]?.trim() || undefined,
    namespace: c['m'] ?? 'default',
  };
  const attributes = c['a'] ?? (type === 'pageview' || type === '$pageleave' ? { url: c['l'], referrer: c['r'], title: c['d'] } : {});
  if (type === '$autocapture') out['autocapture_attributes'] = attributes;
  else if (type !== 'user_identify' && type !== 'group') out['event_attributes'] = attributes;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  // Super properties: at the top level, where the official SDK puts them. defineProperty,
  // not assignment, so a "__proto__" key stays an own key that validation then refuses.
  const props = obj(c['p']);
  if (props) for (const k of Object.keys(props)) if (!(k in out)) Object.defineProperty(out, k, { value: props[k], enumerable: true, writable: true, configurable: true });
  return out;
}

function adIds(header: string | null | undefined): Obj {
  const ids: Obj = {};
  if (!header) return ids;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (eq > 0 && AD_COOKIES.includes(name) && value) {
      try {
        ids[name] = decodeURIComponent(value);
      } catch {
        ids[name] = value;
      }
    }
  }
  return ids;
}
