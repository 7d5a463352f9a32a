import { autoPage } from '../tracker/api.ts';
import { holdPageviews } from './config.ts';

/**
 * Route changes of a single-page app, for the React and Next.js hooks: the History API fires
 * no event for pushState / replaceState, so both are wrapped once, and back/forward fire
 * popstate. Listeners run a task later, when routers have set the title (as the tracker's own
 * src/tracker/spa.ts counts them), or after a hold (below). Returns the unsubscribe function
 * (an effect's cleanup).
 */
const listeners = new Set<() => void>();
let watching: unknown;
let held: unknown;
const notify = () => held || listeners.forEach((l) => l());

export const onRoute = (listener: () => void) => {
  if (!watching) {
    watching = 1;
    const later = () => setTimeout(notify);
    for (const m of ['pushState', 'replaceState'] as const) {
      const orig = history[m];
      history[m] = (...a: Parameters<History['pushState']>) => {
        orig.apply(history, a);
        later();
      };
    }
    addEventListener('popstate', later);
  }
  listeners.add(listener);
  return () => void listeners.delete(listener);
};

/**
 * For a router that changes the URL before it renders the page there (Next's Pages Router,
 * src/next/pages-router.ts): from `hold()` to the call of what it returns, a route change
 * counts nothing, neither the tracker's history watcher nor the hooks; then the route is
 * counted a task later, by the tracker's rule first (once per route, `autoPageview`), then by
 * the hooks' listeners. `release(true)` counts it at once: the page is going away, and a task
 * later may never come.
 */
export const hold = () => {
  held = 1;
  holdPageviews(true);
  const count = () => {
    autoPage();
    notify();
  };
  return (now?: unknown) => {
    held = 0;
    holdPageviews(false);
    now ? count() : setTimeout(count);
  };
};
