import { autoPage, run } from '../tracker/api.ts';
import { jar } from '../tracker/id.ts';
import { start } from '../tracker/start.ts';
import { COMPANY, USER, load, save } from '../tracker/store.ts';
import { KEY, NS, configure, data, forcePageview } from './config.ts';
import type { Logger, UsermavenClient, UsermavenOptions } from './options.ts';

let client: UsermavenClient | undefined;
const nothing = () => {};
const done = () => Promise.resolve();
/** What a client does where there is no page (server rendering): nothing, and never throws. */
export const idle: UsermavenClient = {
  id: done,
  track: nothing,
  lead: nothing,
  rawTrack: nothing,
  group: done,
  pageview: nothing,
  getConfig: () => ({}),
  getLogger: () => console,
  reset: done,
  set: nothing,
  setUserId: nothing,
  unset: nothing,
  getCookie: () => null,
  consent: nothing,
};

/** One call through the tracker's command table (api.ts): checked, and never throwing into the app unless `logLevel: 'DEBUG'`. */
const call =
  (name: string) =>
  (...a: unknown[]) =>
    run([name, ...a]) as void;
const later =
  (name: string) =>
  (...a: unknown[]) => {
    run([name, ...a]);
    return done();
  };

/**
 * Starts the tracker in this page with the official client's options and returns the client,
 * with the methods of @usermaven/sdk-js's `usermavenClient` (`id`, `track`, `lead`, `rawTrack`,
 * `group`, `pageview`, `set`, `unset`, `setUserId`, `reset`, …). The tracker is one per page: a
 * second call returns the first client, whose options stay in force. On a server (no `window`)
 * it returns a client that does nothing.
 * @example
 * const usermaven = usermavenClient({ key: 'YOUR_KEY', trackingHost: 'https://www.example.com' });
 * usermaven.track('signup', { plan: 'pro' });
 */
export const usermavenClient = (options: UsermavenOptions): UsermavenClient => {
  if (typeof window == 'undefined') return idle;
  if (!client) {
    configure(options);
    // The user the official SDK stored for this workspace, so a site that switches keeps its
    // signed-in visitors (the tag does the same in src/tracker/index.ts).
    const official = KEY && !load(USER) && load(`usermaven_${NS || 'default'}_${KEY}_data`);
    official?.userProps && save(USER, official.userProps);
    official?.companyProps && save(COMPANY, official.companyProps);
    client = {
      id: later('id'),
      track: call('track'),
      lead: call('lead'),
      rawTrack: call('rawTrack'),
      group: later('group'),
      pageview: call('pageview'),
      getConfig: () => ({ ...data }),
      getLogger: () => console as Logger,
      reset: later('reset'),
      set: call('set'),
      setUserId: call('setUserId'),
      unset: call('unset'),
      getCookie: (name) => jar()[name] ?? null,
      consent: call('consent'),
    };
    start();
  }
  return client;
};

/**
 * A pageview for the current route unless the tracker counted it already (api.ts `autoPage`,
 * once per path or hash route), also with `autoPageview: false`: what the React and Next.js
 * hooks call, so the hook and the tracker's own history watcher send one pageview per route.
 */
export const routePageview = () => client && forcePageview(autoPage);
