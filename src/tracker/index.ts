// umbeacon's browser tracker, bundled to public/u.js. This file only wires the modules up:
// config (data-* attributes), api (the calls), transport (outbox, sendBeacon), spa
// (history), consent, id (cookie), context, store.
import type { Usermaven, UsermavenCall } from '../../types/usermaven.d.ts';
import { autoPage, commands, run } from './api.ts';
import { watchHistory } from './spa.ts';
import { flush, schedule } from './transport.ts';

const w = window;
// Loaded twice (two tags): the first copy stays in charge.
if (!w.usermaven?.track) {
  const um = ((...a: unknown[]) => run(a)) as Usermaven;
  for (const k in commands) (um as any)[k] = (...a: unknown[]) => run([k, ...a]);
  const q = w.usermavenQ || [];
  w.usermaven = um;
  // A page that kept the stub function pushes here after load: run those calls too.
  const replay = (c: UsermavenCall) => run(c, 1);
  // (The stub ignores what push returns.)
  q.push = ((...a: UsermavenCall[]) => {
    a.map(replay);
  }) as typeof q.push;
  w.usermavenQ = q;
  // Queued calls first, in order, so an identify made before load marks the pageview.
  q.map(replay);
  autoPage();
  watchHistory();
  // Events an earlier page could not send (offline, closed) leave with the first batch.
  schedule();
  addEventListener('online', flush);
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => document.hidden && flush());
}
