import type { InboundEvent } from '../event.ts';
import type { UsermavenCall } from '../../types/usermaven.d.ts';
import { allowed, choose } from './consent.ts';
import { AUTO_PAGEVIEW } from './config.ts';
import { context, pick } from './context.ts';
import { log, misuse } from './debug.ts';
import { anonymousId, jar, uuid } from './id.ts';
import { COMPANY, USER, load, save } from './store.ts';
import { discard, enqueue } from './transport.ts';

type Obj = Record<string, unknown>;

/**
 * While a call queued before u.js loaded is replayed: the moment and page it was made on,
 * if the stub recorded them (`t` ms, `u` href, `d` title; see docs/tracker.md).
 */
let made: { t?: number; u?: string; d?: string } = {};

const isObj = (v: unknown): v is Obj => !!v && typeof v == 'object' && !Array.isArray(v);

/** Path of the last pageview sent: one navigation never counts twice. */
let lastPath: string | undefined;

/** Builds an event with the context of this call and queues it; undefined when not allowed. */
const send = (event_type: string, event_attributes: Obj = {}) => {
  if (!allowed()) return log('off', event_type);
  const cookies = jar();
  const company = load(COMPANY);
  const e: InboundEvent = {
    event_id: uuid(),
    event_type,
    _timestamp: made.t || Date.now(),
    user: { ...load(USER), anonymous_id: anonymousId(cookies) },
    ...(company && { company }),
    event_attributes,
    ids: pick((k) => cookies[k], '_ga _fbp _fbc'),
    src: 'umbeacon',
    ...context(made.u || location.href, made.d ?? document.title),
  };
  enqueue(e);
  return e;
};

/** Sends a custom event. */
export const track = (type: unknown, attributes?: unknown) => {
  if (!type || typeof type != 'string' || (attributes != null && !isObj(attributes)))
    misuse('track(name, attributes?)');
  send(type as string, attributes as Obj);
};

/** Sends a pageview for the current page. */
export const page = () => {
  lastPath = send('pageview')?.doc_path ?? lastPath;
};

/** The automatic pageview, on load and on SPA navigation: once per path. */
export const autoPage = () => {
  AUTO_PAGEVIEW && location.pathname != lastPath && page();
};

/**
 * Remembers the user (and company) for every later event, across pages, and sends
 * `user_identify`. Also takes the official SDK's forms: the company inside `user.company`,
 * and `true` as second argument for "remember, do not send".
 */
export const identify = (user: unknown, company?: unknown) => {
  if (!isObj(user)) misuse('identify(user, company?)');
  const { company: inside, ...traits } = user as Obj;
  save(USER, traits);
  const c = isObj(company) ? company : inside;
  isObj(c) && save(COMPANY, c);
  company === true || send('user_identify');
};

/** Remembers the company for every later event and sends a `group` event. */
export const group = (company: unknown) => {
  if (!isObj(company)) misuse('group(company)');
  save(COMPANY, company);
  send('group');
};

/** Logout: forgets user and company and starts a new anonymous visitor. */
export const reset = () => {
  save(USER, null);
  save(COMPANY, null);
  allowed() && anonymousId(jar(), true);
};

/**
 * Records the visitor's consent choice, kept across pages. `false` opts out and drops
 * what is not sent yet; `true` opts in and sends the pageview that was held back.
 */
export const consent = (granted: unknown = true) => {
  choose(!!granted);
  granted ? autoPage() : discard();
};

type Fn = (...a: any[]) => void;

// The function form's commands. `id`, `pageview` and `lead` are the official snippet's
// names (@usermaven/sdk-js), so pages written for it keep working.
export const commands: Record<string, Fn> = {
  id: identify,
  identify,
  track,
  lead: (attributes?: unknown) => track('lead', attributes),
  pageview: page,
  page,
  group,
  reset,
  consent,
};

/** Runs one call of the function form: `call('track', 'signup', { plan: 'pro' })`. */
export const call: Fn = (name, ...a) => (commands[name] || misuse(Object.keys(commands) + ''))(...a);

/**
 * Runs a call the stub queued, with the moment and page it was made on. A failing call is
 * logged (debug) and does not stop the calls after it.
 */
export const replay = (a: UsermavenCall) => {
  made = a;
  try {
    call(...a);
  } catch (e) {
    log(e);
  }
  made = {};
};
