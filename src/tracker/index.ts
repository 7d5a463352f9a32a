// umbeacon's browser tracker, bundled to public/u.js. This file only wires the modules up:
// config (data-* attributes), api (the calls), transport (outbox, sendBeacon), spa
// (history), consent, id (cookie), context, store.
import type { Usermaven } from '../../types/usermaven.d.ts';
import { autoPage, call, commands, replay } from './api.ts';
import { DEBUG } from './config.ts';
import { watchHistory } from './spa.ts';
import { flush, schedule } from './transport.ts';

const w = window;
// Loaded twice (two tags): the first copy stays in charge.
if (!w.usermaven?.track) {
  // The one entry point of the page's calls: it swallows errors, so the host page never
  // sees one; with data-debug it rethrows them, so misuse is loud while the site is built.
  const um = ((...a: unknown[]) => {
    try {
      call(...a);
    } catch (e) {
      if (DEBUG) throw e;
    }
  }) as Usermaven;
  for (const k in commands) (um as any)[k] = (...a: unknown[]) => um(k as any, ...(a as []));
  const q = w.usermavenQ || [];
  w.usermaven = um;
  // A page that kept the stub function pushes here after load: run those calls too.
  q.push = (...a) => (a.forEach(replay), 0);
  w.usermavenQ = q;
  // Queued calls first, in order, so an identify made before load marks the pageview.
  q.splice(0).forEach(replay);
  autoPage();
  watchHistory();
  // Events an earlier page could not send (offline, closed) leave with the first batch.
  schedule();
  addEventListener('online', flush);
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => document.hidden && flush());
}
