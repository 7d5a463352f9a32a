import { autoPage } from './api.ts';
import { hide, leave } from './auto.ts';

/**
 * Counts single-page-app navigations. The History API fires no event for pushState or
 * replaceState, so both are wrapped; back/forward fire popstate, hash routers hashchange.
 * autoPage counts a path (or `#/route`) once, so a router that pushes and then replaces the
 * same path, or changes only the query, sends no second pageview. It runs a task later:
 * routers set document.title after they change the URL, and a redirect chain settles on its
 * last path. A push is also the page's `$pageleave`, sent before the URL changes, as the
 * official SDK does.
 */
const later = () => setTimeout(autoPage);

export const watchHistory = () => {
  (['pushState', 'replaceState'] as const).map((m) => {
    const orig = history[m];
    history[m] = (...a: Parameters<History['pushState']>) => {
      m < 'q' && leave();
      orig.apply(history, a);
      later();
    };
  });
  // Back/forward also leaves the page: its final $scroll and its $pageleave, as the official SDK sends them.
  addEventListener('popstate', () => {
    hide();
    later();
  });
  addEventListener('hashchange', later);
};
