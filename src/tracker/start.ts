import { autoPage } from './api.ts';
import { hide, unload, watchScroll } from './auto.ts';
import { loadExtras } from './chunk.ts';
import { watchHistory } from './spa.ts';
import { flush, schedule } from './transport.ts';

/**
 * Starts the tracker once it is configured and the calls made before it ran: the automatic
 * pageview, SPA navigation, `$scroll` / `$pageleave`, the opt-in features, and what makes the
 * outbox leave. Shared by the script tag (index.ts, which adds the global and its queue) and
 * the npm package (src/browser/, which adds a client object and builds this module with its
 * own config.ts and chunk.ts), so both run one implementation.
 */
export const start = () => {
  autoPage();
  watchHistory();
  watchScroll();
  loadExtras();
  // Events an earlier page could not send (offline, closed) leave with the first batch.
  schedule();
  addEventListener('online', () => flush());
  addEventListener('beforeunload', unload);
  addEventListener('pagehide', () => flush(1));
  // Hidden: the $scroll and $pageleave of the page, and everything waiting leaves now, by
  // beacon; visible again: what the beacon carried is sent again, for an answer that proves it arrived.
  // (On window: the event bubbles from the document, HTML's "update the visibility state".)
  addEventListener('visibilitychange', () => (document.hidden ? (hide(), flush()) : schedule()));
};
