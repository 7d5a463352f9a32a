// umbeacon's browser tracker, bundled to public/u.js (≤ 2,048 B gzip). This file only
// wires the modules up: config (data-* attributes), api (the calls), transport (queue,
// outbox, sendBeacon), spa (history), consent, id (cookie), context, store.
import type { Usermaven, UsermavenCall } from '../../types/usermaven.d.ts';
import * as api from './api.ts';
import { DEBUG } from './config.ts';
import { log, misuse } from './debug.ts';
import { watchHistory } from './spa.ts';
import { flush, schedule } from './transport.ts';

type Fn = (...a: any[]) => void;

// The function form's commands. `id`, `pageview` and `lead` are the official snippet's
// names (@usermaven/sdk-js), so pages written for it keep working.
const commands: Record<string, Fn> = {
  id: api.identify,
  identify: api.identify,
  track: api.track,
  lead: (attributes?: unknown) => api.track('lead', attributes),
  pageview: api.page,
  page: api.page,
  group: api.group,
  reset: api.reset,
  consent: api.consent,
};

const call: Fn = (name, ...a) => (commands[name] || misuse(Object.keys(commands) + ''))(...a);

// A call queued by the stub: run it with the moment and page it was made on. A failing
// call is logged (debug) and does not stop the calls after it.
const replay = (a: UsermavenCall) => {
  api.replaying(a);
  try {
    call(...a);
  } catch (e) {
    log(e);
  }
  api.replaying({});
};

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
  api.autoPage();
  watchHistory();
  // Events an earlier page could not send (offline, closed) leave with the first batch.
  schedule();
  addEventListener('online', flush);
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => document.hidden && flush());
}
