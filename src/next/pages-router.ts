import { hold } from '../browser/routes.ts';

/**
 * Next's Pages Router changes the URL before it renders the page there, and next/head sets the
 * page's title in a passive effect of that render (next/dist/shared/lib/side-effect.js), which
 * React 19 runs after the commit, in a later task, even after `routeChangeComplete` (a frame
 * later in Chromium). So a route counted a task after the URL changed carries the previous
 * page's title. While the Pages Router navigates, the route waits (browser/routes.ts `hold`)
 * until the title changes, or, when the new page keeps the title, a while after the router says
 * the page is there; a change of hash only, or a navigation that failed, is counted at once,
 * and so is a route still waiting when the page is hidden or left (with the title it has).
 * The App Router has no `window.next.router`, and sets its titles in time.
 */
type Events = { on(type: string, f: () => void): void; off(type: string, f: () => void): void };
/** What the Pages Router puts in its history entries (next/dist/shared/lib/router/router.js `changeState`). */
type State = { __N?: boolean; options?: { _h?: unknown } } | null | undefined;

/** After routeChangeComplete, how long a title may take to change before the route counts as keeping it. */
const SAME_TITLE_MS = 500;
/** A navigation that ends with no event at all (beforePopState refused it, a render threw) still counts. */
const MAX_WAIT_MS = 5000;
let following: unknown;
let waiting: unknown;

const waitForPage = (state: State) => {
  const events = (window as { next?: { router?: { events?: Events } } }).next?.router?.events;
  if (waiting || !events || !state?.__N) return;
  waiting = 1;
  const release = hold();
  const title = document.title;
  let timer = setTimeout(() => done(), MAX_WAIT_MS);
  const rendered = () => {
    clearTimeout(timer);
    timer = setTimeout(() => done(), SAME_TITLE_MS);
  };
  const titled = new MutationObserver(() => document.title != title && done());
  const on = Object.entries({ routeChangeComplete: rendered, routeChangeError: () => done(), hashChangeComplete: () => done() });
  // The tab closes or the visitor leaves while the route waits: count it now, in this task,
  // with the title it has. The document's listener runs before the tracker's on window, whose
  // beacon then carries the pageview; pagehide's capture listener, before the tracker's too.
  const hidden = () => document.hidden && done(1);
  const gone = () => done(1);
  const done = (now?: 1) => {
    for (const [type, f] of on) events.off(type, f);
    titled.disconnect();
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', hidden);
    removeEventListener('pagehide', gone, true);
    waiting = 0;
    release(now);
  };
  titled.observe(document.head, { subtree: true, childList: true, characterData: true });
  for (const [type, f] of on) events.on(type, f);
  document.addEventListener('visibilitychange', hidden);
  addEventListener('pagehide', gone, true);
};

/** Watches the Pages Router's history entries (pushState, replaceState, back/forward); once per page. */
export const followPagesRouter = () => {
  if (following) return;
  following = 1;
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = history[m];
    history[m] = (...a: Parameters<History['pushState']>) => {
      const state = a[0] as State;
      // `_h`: the query update after hydration, which fires no event (router.js `isQueryUpdating`).
      // Back/forward to its entry is a navigation like any other (onPopState sets `_h: 0`).
      state?.options?._h || waitForPage(state);
      orig.apply(history, a);
    };
  }
  addEventListener('popstate', (e) => waitForPage(e.state as State));
};
