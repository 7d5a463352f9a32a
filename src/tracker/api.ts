import type { UsermavenCall, UsermavenMethods } from '../../types/usermaven.d.ts';
import { allowed } from './consent.ts';
import { AUTO_PAGEVIEW, BLACKLIST, DEBUG, data } from './config.ts';
import { event, type Made } from './context.ts';
import { log } from './debug.ts';
import { anonymousId, jar } from './id.ts';
import { COMPANY, CONSENT, PROPS, USER, load, save } from './store.ts';
import { bytes } from './json.ts';
import { MAX_BODY, discard, keep, schedule } from './transport.ts';

type Obj = Record<string, any>;

/**
 * The arguments of the call being run. A call queued before u.js loaded may carry the
 * moment and page it was made on, if the stub recorded them (`t` ms, `u` href, `d` title;
 * see docs/tracker.md); a direct call's arguments carry none.
 */
let made: Made = {};

/** The command being run, named in the misuse message. */
let current: string;

/**
 * Reports programmer misuse, naming the command; the call to write instead is in
 * docs/tracker.md (a usage string per command, or even one generic pointer to the doc, costs
 * bytes of every page load). `run` rethrows it only with `data-debug`: loud while a site is
 * built, harmless once it is live.
 */
const misuse = (): never => {
  throw Error('umbeacon: misused ' + current);
};

const isObj = (v: unknown): v is Obj => (v && typeof v == 'object' && !Array.isArray(v)) as boolean;
/** The address check of the official SDK, in short: it refuses `id` and `lead` calls that fail it. */
const isEmail = (v: unknown) => /^[^\s@]+@([\w-]+\.)+[a-z]{2,}$/i.test(v as string);

/** The page a pageview counted: its path, and a hash route (`#/inbox`, `#!/inbox`) if any. */
const route = (u: URL | Location) => u.pathname + (/^#[!/]/.test(u.hash) ? u.hash : '');
let last: string | undefined;

/** An event the relay takes: alone in a request (`[`, it, `]`), within its body limit (its per-event limit). */
const fits = (e: object) => bytes(e) < MAX_BODY - 1;

/**
 * What would make an event too big for the relay is refused at the call, said on the
 * console as the official SDK reports errors (always, not only with data-debug): once
 * queued, the event would be refused forever.
 */
const tooBig = (what: string) => console.error('umbeacon: too big', what);

/**
 * Puts an event of this call in the outbox, which leaves shortly; undefined when not allowed
 * or too big. An event too big without its own attributes also forgets what every event
 * carries (user, company, super properties: `reset()` keeping the visitor), once: whatever
 * made it too big (an identify() with an oversized user, a property an older u.js stored),
 * later events must not carry it. One too big by its attributes alone is refused alone.
 */
export const send = (type: string, attributes?: Obj | unknown[]) => {
  if (allowed()) {
    const e = event(type, attributes, made);
    if (fits(e)) return keep(e), schedule(), e;
    // (e is dropped: measured again without this call's attributes)
    e.a = [];
    fits(e) || reset();
    tooBig(type);
  }
};

/** Sends a custom event; `data-property-blacklist` keys are left out of its attributes. */
export const track = (type: unknown, attributes?: unknown) => {
  if (!(type && typeof type == 'string' && (attributes == null || isObj(attributes)))) misuse();
  const a = { ...(attributes as Obj) };
  for (const k of BLACKLIST) delete a[k];
  send(type as string, a);
};

/** Sends a pageview for the current page. */
export const page = () => {
  const e = send('pageview');
  if (e) last = route(new URL(e.l));
};

/** The automatic pageview, on load and on SPA navigation: once per path or hash route. */
export const autoPage = () => {
  AUTO_PAGEVIEW && route(location) != last && page();
};

/**
 * Remembers the user for every later event, across pages, and sends `user_identify`. As
 * the official SDK: the user needs a string `id`, an `email` must be an address, the company
 * may sit in `user.company`, and a truthy second argument (`doNotSendEvent`) remembers
 * without sending; u.js also takes the company as second argument.
 */
export const identify = (user: unknown, second?: unknown) => {
  if (!(isObj(user) && typeof user.id == 'string' && user.id && (!user.email || isEmail(user.email)))) misuse();
  // A company inside the user stays there: the relay takes it as the event's company when
  // none was given by group() or as second argument, as the official SDK does.
  save(USER, user);
  // A company is saved and sent with; any other truthy second argument is doNotSendEvent.
  (isObj(second) ? save(COMPANY, second) : second) || send('user_identify');
};

/** Remembers the company (it needs `id`, `name` and `created_at`) and sends a `group` event. */
export const group = (company: unknown, doNotSend?: unknown) => {
  if (!(isObj(company) && company.id && company.name && company.created_at)) misuse();
  save(COMPANY, company);
  doNotSend || send('group');
};

/**
 * Logout: forgets user, company and super properties. The visitor stays the same unless
 * `resetAnonymousId` is true, as in the official SDK.
 */
export const reset = (resetAnonymousId?: unknown) => {
  save(USER, null);
  save(COMPANY, null);
  save(PROPS, null);
  resetAnonymousId && allowed() && anonymousId(jar(), true);
};

/**
 * Records the visitor's consent choice, kept across pages. `false` opts out and drops
 * what is not sent yet; `true` opts in and sends the pageview that was held back.
 */
export const consent = (granted: unknown = true) => {
  // Kept across pages: 1 or 0.
  save(CONSENT, +!!granted);
  granted ? autoPage() : discard();
};

/** Super properties: sent at the top level of every event, or of one event type's. */
const props = (change: (p: Obj) => void, options?: unknown) => {
  const all = load(PROPS) || {};
  const k = (options as Obj)?.eventType || '';
  change((all[k] ||= {}));
  fits(all) ? save(PROPS, all) : tooBig(current);
};

type Fn = (...a: any[]) => unknown;

// The commands of the function form (`usermaven('set', …)`) and of the object form
// (`usermaven.set(…)`): the official snippet's names (@usermaven/sdk-js), so pages written
// for it keep working, and umbeacon's own (`identify`, `page`, `consent`). Typed with the
// public type: a command missing here or one not declared there fails test:types. Each
// takes `unknown` and checks it, since pages call them untyped.
export const commands: { [C in keyof UsermavenMethods]: (...a: Parameters<UsermavenMethods[C]>) => unknown } = {
  id: identify,
  identify,
  track,
  /** A `lead` event; it needs an email address, which is sent trimmed. */
  lead: (attributes: unknown) => {
    const email = (attributes as Obj)?.email;
    if (!(isObj(attributes) && typeof email == 'string' && isEmail(email.trim()))) misuse();
    track('lead', { ...(attributes as Obj), email: email.trim() });
  },
  /** A `raw` event whose attributes are the payload. */
  rawTrack: (payload: unknown) => {
    isObj(payload) || misuse();
    track('raw', payload);
  },
  pageview: page,
  page,
  group,
  reset,
  consent,
  set: (properties: unknown, options?: unknown) => {
    isObj(properties) || misuse();
    props((p) => Object.assign(p, properties), options);
  },
  unset: (name: unknown, options?: unknown) => props((p) => delete p[name as string], options),
  setUserId: (id: unknown) => save(USER, { ...(load(USER) as Obj), id }),
  /** Runs the callback once u.js has run the calls queued before it loaded. */
  onLoad: (callback: unknown) => typeof callback == 'function' && setTimeout(callback as Fn),
  /** The tag's settings, by the official SDK's names (`key`, `trackingHost`, …), as written. */
  getConfig: () => ({ ...data }),
  // The rest of the official client's public methods, which its function form forwards too.
  getCookie: (name: unknown) => jar()[name as string] || null,
  getLogger: () => console,
  mergeConfig: (config: unknown, defaults: unknown) => ({ ...(defaults as Obj), ...(config as Obj) }),
  init: () => {},
};

/**
 * Runs one call of the function form, `['track', 'signup', { plan: 'pro' }]`, and swallows
 * its errors, so the host page never sees one and the calls after it still run. With
 * data-debug a direct call rethrows them, so misuse is loud while the site is built; a call
 * the stub `queued` before load is logged instead. Returns what the command returns
 * (`getConfig`).
 */
export const run = (a: UsermavenCall | unknown[], queued?: 1) => {
  made = a as Made;
  try {
    const [name, ...rest] = a as [string, ...unknown[]];
    return ((commands as Record<string, Fn>)[(current = name)] || misuse)(...rest);
  } catch (e) {
    // (made stays set only on a direct call, whose arguments carry no t, u or d)
    if (DEBUG && !queued) throw e;
    log(e);
  } finally {
    made = {};
  }
};
