/** An event as the outbox keeps it (src/shared/compact.ts); `s` is stamped when it leaves. */
type InboundEvent = Record<string, any>;
import { ENDPOINT } from './config.ts';
import { allowed } from './consent.ts';
import { log } from './debug.ts';
import { bytes, stringify } from './json.ts';
import { OUTBOX, load, save } from './store.ts';

// Delivery, as a state machine per event (docs/tracker.md, "Delivery", draws it):
//
//   kept ──fetch──▶ in flight ──2xx (refused ones too), other 4xx──▶ gone
//    ▲  ◀──429, 5xx, network error: back-off, Retry-After──┘
//    └─ page hidden or left: a beacon carries it, and it stays kept until a later
//       answer or a later page's answer proves it arrived (the same event_id: the relay's
//       window and Usermaven drop the repeat)
//
// The outbox is localStorage's `um_o`: an event leaves it only when a relay answered for it,
// so a refused, rate-limited or lost request, a crash or a closed tab loses nothing, and this
// page's back-off or the next page sends it. The outbox is bounded by bytes and by age, the
// oldest dropped first and counted, the count sent along for the relay to log.

/** The relay's body limit: `LIMITS.bodyBytes` in src/shared/event.ts (a unit test keeps them equal). */
export const MAX_BODY = 65536;
/**
 * Most events in one request: the relay's `LIMITS.eventsPerRequest` (a unit test keeps them
 * equal). split need not count them: that many of the smallest event u.js makes are over
 * MAX_BODY (a unit test shows it).
 */
export const MAX_EVENTS = 500;
/**
 * The outbox's bounds: requests' worth of events (16, so 1 MiB of JSON; a site's localStorage
 * holds about 5 million characters), and ms since the call (7 days).
 */
export const MAX_OUTBOX = 16, MAX_AGE = 7 * 864e5;

/**
 * Splits events into JSON arrays that each fit one request, in bytes of UTF-8.
 * An event that alone exceeds the limit is left out: the relay would refuse it forever
 * (the calls refuse such events, api.ts; the outbox's age bound drops one an older u.js kept).
 */
export const split = (events: InboundEvent[], max = MAX_BODY) => {
  const out: InboundEvent[][] = [];
  let cur: InboundEvent[] = [];
  let size = max; // no open array yet: the first event opens one
  events.map((e) => {
    const n = bytes(e) + 1; // its comma
    if (n < max) {
      // ("[" + event + "]" fits)
      if (size + n > max ) out.push((cur = [])), (size = 1); // "["
      cur.push(e);
      size += n; // the last comma stands for "]"
    }
  });
  return out;
};

/** This tick's events: written to the outbox together once the tick's calls are done. */
let fresh: InboundEvent[] = [];
/** The batch a fetch carries now: one request at a time, so batches arrive in order. */
let busy: InboundEvent[] | 0 = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
/** Failed attempts in a row, for the back-off. */
let tries = 1;

/**
 * Writes the outbox once: with this tick's events, without those of `done` (answered for),
 * within its bounds: the newest MAX_OUTBOX requests' worth (a request being at most
 * MAX_BODY bytes) and nothing older than MAX_AGE (an event without `t`, of a u.js older than
 * the compact format, counts as too old; one too big for any request goes). How many were dropped rides on the oldest
 * event kept, `o`, which the relay counts (src/relay/tracker-events.ts).
 */
const write = (done: InboundEvent[] = []) => {
  const old = Date.now() - MAX_AGE;
  const all: InboundEvent[] = [...(load(OUTBOX) || []), ...fresh].filter((e: InboundEvent) => !done.some((d) => d.i == e.i));
  const kept = split(all.filter((e) => e.t > old))
    .slice(-MAX_OUTBOX)
    .flat();
  fresh = [];
  // Only the oldest event carries a count, so the oldest of all holds what was dropped before.
  if (kept[0]) kept[0].o = ~~all[0]!.o + all.length - kept.length;
  save(OUTBOX, kept);
};

/**
 * Puts an event in the outbox. A burst of calls in one tick costs one write: the outbox is
 * read, bounded and written again when the tick's calls are done, not once per call.
 */
export const keep = (e: InboundEvent) => {
  fresh.push(e) > 1 || setTimeout(write);
};

/** Sends the outbox soon; the short delay lets a burst of calls leave as one request. */
export const schedule = () => {
  timer ||= setTimeout(flush, 100);
};

/** Drops everything not yet sent (opt-out). */
export const discard = () => {
  fresh = [];
  save(OUTBOX, null);
};

/**
 * Sends the outbox now: by fetch while the page lives, by beacon when it is `last` (pagehide)
 * or hidden. Offline, it waits for the `online` event or the next page:
 * `navigator.onLine == false` is reliable, and a beacon posted offline reports success
 * and is lost. Where tracking is not allowed (DNT with data-respect-dnt, consent pending,
 * excluded) nothing leaves, not even what an earlier page kept: the relay's answer would
 * set the visitor cookie.
 */
export const flush = (last?: 1) => {
  timer = clearTimeout(timer)!; // undefined: the next event schedules again
  fresh[0] && write();
  const all: InboundEvent[] = (navigator.onLine && allowed() && load(OUTBOX)) || [];
  // `s` (sent_at) before the split, which counts its bytes.
  for (const e of all) e.s = Date.now();
  if (last || document.hidden)
    // What a fetch in flight carries is left to it (keepalive outlives the page).
    split(all).map(beacon);
  // The first request's worth, if none is in flight.
  else busy || split(all).slice(0, 1).map(post);
};

/** Logs the batch (data-debug); its JSON. */
const body = (batch: InboundEvent[]) => {
  log('send', batch);
  return stringify(batch);
};

/**
 * The page's last moments: sendBeacon survives the page unloading, and its text/plain string
 * body needs no CORS preflight. No answer is seen, so what it carried stays in the outbox:
 * a browser that refuses it (returns false: over the 64 KiB in-flight quota, or blocked;
 * throws; lacks it) or a page that replaced it with one that sends nothing loses nothing,
 * the next page sends it again.
 */
const beacon = (batch: InboundEvent[]) => {
  try {
    navigator.sendBeacon(ENDPOINT, body(batch));
  } catch {
    // missing, or made to throw: the next page sends it
  }
};

/**
 * One request while the page lives, whose answer decides: 2xx (a partial answer names refused
 * events, which are bad for good) and any other 4xx take the batch out of the outbox; 429, a
 * 5xx or a network error (a fetch that throws too) leave it, and it is tried again after
 * `Retry-After`, else after the back-off (2 s, doubling up to 64 s), or by the next page. keepalive: the
 * request outlives a page left meanwhile (its events stay kept, the next page sends them again).
 */
const post = (batch: InboundEvent[]) => {
  busy = batch;
  try {
    fetch(ENDPOINT, { method: 'POST', body: body(batch), keepalive: true, credentials: 'include' }).then(
      (r) => (r.status == 429 || r.status > 499 ? retry(r) : ((busy = 0), (tries = 1), write(batch), flush())),
      retry,
    );
  } catch (e) {
    // a fetch the page made throw
    retry(e as Error);
  }
};

/** Tries again after the answer's `Retry-After` (seconds), else after the back-off. */
const retry = (r: Response | Error) => {
  busy = 0;
  timer = setTimeout(flush, ((r as Response).headers?.get('retry-after') as any || (tries < 64 ? (tries *= 2) : tries)) * 1e3);
};
