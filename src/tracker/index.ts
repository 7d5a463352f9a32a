// umbeacon's browser tracker, bundled to public/u.js. This file only wires the modules up:
// config (data-* attributes), api (the calls), transport (outbox, sendBeacon), spa
// (history), auto ($scroll, $pageleave), chunk (the opt-in features), consent, id (cookie),
// context, store.
import type { Usermaven, UsermavenCall } from '../../types/usermaven.d.ts';
import { autoPage, commands, run } from './api.ts';
import { hide, unload, watchScroll } from './auto.ts';
import { loadExtras } from './chunk.ts';
import { KEY, NS } from './config.ts';
import { watchHistory } from './spa.ts';
import { COMPANY, USER, load, save } from './store.ts';
import { flush, schedule } from './transport.ts';

const w = window as any;
/** `data-namespace` renames the global, and its queue, as the official snippet does. */
const name = NS || 'usermaven';
// Loaded twice (two tags): the first copy stays in charge.
if (!w[name]?.track) {
  const um = ((...a: unknown[]) => run(a)) as Usermaven;
  for (const k in commands) (um as any)[k] = (...a: unknown[]) => run([k, ...a]);
  const q: UsermavenCall[] = w[name + 'Q'] || [];
  w[name] = um;
  // A page that kept the stub function pushes here after load: run those calls too.
  const replay = (c: UsermavenCall) => run(c, 1);
  // (The stub ignores what push returns.)
  q.push = ((...a: UsermavenCall[]) => {
    a.map(replay);
  }) as typeof q.push;
  w[name + 'Q'] = q;
  // The user the official SDK stored for this workspace (`usermaven_<namespace>_<key>_data`),
  // so a site that switches keeps its signed-in visitors.
  const official = KEY && !load(USER) && load(`usermaven_${NS || 'default'}_${KEY}_data`);
  official?.userProps && save(USER, official.userProps);
  official?.companyProps && save(COMPANY, official.companyProps);
  // Queued calls first, in order, so an identify made before load marks the pageview.
  q.map(replay);
  autoPage();
  watchHistory();
  watchScroll();
  loadExtras();
  // Events an earlier page could not send (offline, closed) leave with the first batch.
  schedule();
  addEventListener('online', flush);
  addEventListener('pagehide', () => {
    unload();
    flush();
  });
  // Hidden: the $scroll and $pageleave of the page, and everything waiting leaves now.
  document.addEventListener('visibilitychange', () => document.hidden && (hide(), flush()));
}
