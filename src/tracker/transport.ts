/** An event as the outbox keeps it (src/shared/compact.ts); `s` is stamped when it leaves. */
type InboundEvent = Record<string, any>;
import { ENDPOINT } from './config.ts';
import { log } from './debug.ts';
import { OUTBOX, load, save } from './store.ts';

/** The relay's body limit: `LIMITS.bodyBytes` in src/shared/event.ts (a unit test keeps them equal). */
export const MAX_BODY = 65536;
/**
 * Unsent events kept in localStorage at most; the oldest are dropped first. Below the
 * relay's `LIMITS.eventsPerRequest` (a unit test keeps it so), so a request never carries
 * too many events and split needs to count only bytes.
 */
export const MAX_OUTBOX = 200;

/**
 * Splits events into JSON arrays that each fit one request, in bytes of UTF-8.
 * An event that alone exceeds the limit is dropped: the relay would refuse it forever.
 */
export const split = (events: InboundEvent[], max = MAX_BODY) => {
  const out: InboundEvent[][] = [];
  let cur: InboundEvent[] = [];
  let size = max; // no open array yet: the first event opens one
  for (const e of events) {
    const n = unescape(encodeURIComponent(JSON.stringify(e))).length + 1; // its UTF-8 bytes and its comma
    if (n >= max) log('too big', e); // "[" + event + "]" would not fit
    else {
      if (size + n > max) out.push((cur = [])), (size = 1); // "["
      cur.push(e);
      size += n; // the last comma stands for "]"
    }
  }
  return out;
};

/**
 * Adds events to the outbox in localStorage, keeping the newest MAX_OUTBOX. Every event
 * waits there until a request takes it, so a crash, a closed tab or a network error
 * loses nothing, and the next page or the `online` event sends it.
 */
export const keep = (events: InboundEvent[]) => {
  const all = (load(OUTBOX) || []).concat(events);
  all.length > MAX_OUTBOX && log('dropped', all.length - MAX_OUTBOX);
  save(OUTBOX, all.slice(-MAX_OUTBOX));
};

let timer: ReturnType<typeof setTimeout> | undefined;

/** Sends the outbox soon; the short delay lets a burst of calls leave as one request. */
export const schedule = () => {
  timer ||= setTimeout(flush, 100);
};

/** Drops everything not yet sent (opt-out). */
export const discard = () => save(OUTBOX, null);

/**
 * Sends the outbox now. Offline, it waits for the `online` event or the next page:
 * `navigator.onLine == false` is reliable, and a beacon posted offline reports success
 * and is lost.
 */
export const flush = () => {
  timer = clearTimeout(timer)!; // undefined: the next event schedules again
  const all: InboundEvent[] = navigator.onLine && load(OUTBOX);
  if (all?.[0]) {
    discard();
    for (const e of all) e.s = Date.now();
    split(all).forEach(post);
  }
};

/**
 * One request. sendBeacon survives the page unloading, and its text/plain string body
 * needs no CORS preflight; it returns false when the browser refuses it (over the 64 KiB
 * in-flight quota, or blocked). Then fetch with keepalive (same quota, but it reports
 * failure), then plain fetch. `no-cors`: a relay on another host answers without CORS
 * headers, and the opaque answer (status 0) counts as delivered. A network error or a 5xx
 * puts the events back in the outbox; a 4xx means the relay refuses them for good.
 */
const post = (batch: InboundEvent[]) => {
  const body = JSON.stringify(batch);
  let sent;
  log('send', batch);
  try {
    sent = navigator.sendBeacon(ENDPOINT, body);
  } catch {
    // sendBeacon missing, or replaced by a privacy extension
  }
  const f = (keepalive?: true) => fetch(ENDPOINT, { method: 'POST', body, mode: 'no-cors', keepalive } as RequestInit);
  // The executor turns a missing or throwing fetch into a rejection. On a hidden page (being
  // left, or in the background) a plain fetch may die with the page, and a keepalive fetch
  // can reject while its request still goes out: the batch waits for the next page instead
  // (`false` has no status, so it is kept like a failed request).
  sent ||
    new Promise<Response>((ok) => ok(f(true)))
      .catch<Response | false>(() => !document.hidden && f())
      .then((r) => (r as Response).status < 500 || keep(batch), () => keep(batch));
};
