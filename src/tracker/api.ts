import type { UsermavenCall } from '../../types/usermaven.d.ts';
import { allowed, choose } from './consent.ts';
import { AUTO_PAGEVIEW, DEBUG } from './config.ts';
import { event, type Made } from './context.ts';
import { log, misuse } from './debug.ts';
import { anonymousId, jar } from './id.ts';
import { COMPANY, USER, save } from './store.ts';
import { discard, keep, schedule } from './transport.ts';

type Obj = Record<string, unknown>;

/**
 * The arguments of the call being run. A call queued before u.js loaded may carry the
 * moment and page it was made on, if the stub recorded them (`t` ms, `u` href, `d` title;
 * see docs/tracker.md); a direct call's arguments carry none.
 */
let made: Made = {};

const isObj = (v: unknown): v is Obj => (v && typeof v == 'object' && !Array.isArray(v)) as boolean;

/** Path of the last pageview sent: one navigation never counts twice. */
let lastPath: string | undefined;

/** Puts an event of this call in the outbox, which leaves shortly; undefined when not allowed. */
const send = (event_type: string, event_attributes: Obj = {}) => {
  if (!allowed()) return log('off', event_type);
  const e = event(event_type, event_attributes, made);
  keep([e]);
  schedule();
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
  const e = send('pageview');
  if (e) lastPath = new URL(e.url!).pathname;
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
  choose(granted);
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

/**
 * Runs one call of the function form, `['track', 'signup', { plan: 'pro' }]`, and swallows
 * its errors, so the host page never sees one. With data-debug a direct call rethrows them,
 * so misuse is loud while the site is built; a call the stub `queued` before load is logged
 * instead, and the calls queued after it still run.
 */
export const run = (a: UsermavenCall | unknown[], queued?: 1) => {
  made = a as Made;
  try {
    const [name, ...rest] = a as [string, ...unknown[]];
    (commands[name] || misuse(Object.keys(commands) + ''))(...rest);
  } catch (e) {
    // (made stays set only on a direct call, whose arguments carry no t, u or d)
    if (DEBUG && !queued) throw e;
    log(e);
  }
  made = {};
};
