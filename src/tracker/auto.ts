import { send } from './api.ts';

// The two automatic events the official SDK sends by default, with its attribute names.

/**
 * Set for 100 ms by beforeunload, as the official SDK does: a page hidden that soon after it
 * began to unload (a reload, a closed tab, a link to a page that answers at once) sends no
 * `$pageleave`; one hidden later, when the next page took longer to answer (as over any real
 * network), does, as the official SDK sends it.
 */
let unloading: unknown;
/** One `$pageleave` per page load, as the official SDK sends it. */
let left: unknown;

/**
 * `$pageleave`: the visitor left the page: the tab was hidden, a link led to another page
 * (the old page is hidden once the next one answers), or a single-page app navigated
 * (pushState, back/forward). Its attributes (`url`, `referrer`,
 * `title`) are the page's, which the relay fills in.
 */
export const leave = () => {
  unloading || left || ((left = 1), send('$pageleave'));
};

/** Deepest scroll so far, in percent of the scrollable height. */
let depth = 0;
let marks = [25, 50, 75, 90];
let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * `$scroll`, only once the page was scrolled. Its attributes go as an array, in the order of
 * the official SDK's names (`percent`, `window_height`, `document_height`, `scroll_distance`),
 * which the relay puts back (src/relay/tracker-events.ts): the names cost u.js 25 B.
 */
const scrolled = () => {
  depth && send('$scroll', [depth, innerHeight, document.documentElement.scrollHeight, scrollY]);
};

/** The page is hidden or left by back/forward: `$scroll` with the final depth, then `$pageleave`. */
export const hide = () => {
  scrolled();
  leave();
};

/** beforeunload: a `visibilitychange` within the next 100 ms is no `$pageleave`. */
export const unload = () => {
  // (a timer's id is never 0: truthy while it runs)
  unloading = setTimeout(() => (unloading = 0), 100);
};

/**
 * `$scroll` once per milestone (25, 50, 75, 90 %) as the scroll depth passes it, measured
 * 250 ms after scrolling stops; `hide` sends the final depth. (index.ts and spa.ts call
 * `hide` and `unload` from the page's own listeners, one per event type: each listener
 * costs script time on the load path.)
 */
export const watchScroll = () =>
  addEventListener('scroll', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // (|0 floors what can count: 0 to 100; below 0 or NaN never passes depth)
      const d = Math.min(100, (scrollY / (document.documentElement.scrollHeight - innerHeight)) * 100) | 0;
      if (d > depth) {
        depth = d;
        marks = marks.filter((m) => m > d || scrolled());
      }
    }, 250);
  });
