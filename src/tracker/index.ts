// umbeacon's browser tracker, bundled to public/u.js. This file only wires the modules up:
// config (data-* attributes), api (the calls), start (the automatic events and delivery,
// shared with the npm package src/browser/), transport (outbox, fetch, sendBeacon), json, spa (history),
// auto ($scroll, $pageleave), chunk (the opt-in features), consent, id (cookie), context, store.
import type { Usermaven, UsermavenCall } from '../../types/usermaven.d.ts';
import { commands, run } from './api.ts';
import { KEY, NS, data } from './config.ts';
import { start } from './start.ts';
import { COMPANY, USER, load, save } from './store.ts';

const w = window as any;
/** `data-namespace` renames the global, and its queue, as the official snippet does. */
const name = NS || 'usermaven';
// Loaded twice (two tags): the first copy stays in charge. `data-no-auto-init="true"`: nothing
// starts, as with the official lib.js (a page that sets it starts a client itself).
if (!w[name]?.track && data.noAutoInit != 'true') {
  const um = ((...a: unknown[]) => run(a)) as Usermaven;
  for (const k in commands) (um as any)[k] = (...a: unknown[]) => run([k, ...a]);
  const q: UsermavenCall[] = w[name + 'Q'] || [];
  w[name] = um;
  // A page that kept the stub function pushes here after load: run those calls too.
  const replay = (c: UsermavenCall) => run(c, 1);
  // (The stub ignores what push returns.)
  q.push = ((...a: UsermavenCall[]) => a.map(replay)) as unknown as typeof q.push;
  w[name + 'Q'] = q;
  // The user the official SDK stored for this workspace (`usermaven_<namespace>_<key>_data`),
  // so a site that switches keeps its signed-in visitors.
  const official = (KEY && !load(USER) && load(`usermaven_${NS || 'default'}_${KEY}_data`)) || {};
  official.userProps && save(USER, official.userProps);
  official.companyProps && save(COMPANY, official.companyProps);
  // Queued calls first, in order, so an identify made before load marks the pageview.
  q.map(replay);
  start();
}
