import { autoPage } from './api.ts';

/**
 * Counts single-page-app navigations. The History API fires no event for pushState or
 * replaceState, so both are wrapped; back/forward fire popstate. autoPage counts a path
 * once, so a router that pushes and then replaces the same path, or changes only the
 * query or hash, sends no second pageview. It runs a task later: routers set
 * document.title after they change the URL, and a redirect chain settles on its last path.
 */
export const watchHistory = () => {
  const later = () => setTimeout(autoPage);
  for (const m of ['pushState', 'replaceState'] as const) {
    const orig = history[m];
    history[m] = (...a: Parameters<History['pushState']>) => {
      orig.apply(history, a);
      later();
    };
  }
  addEventListener('popstate', later);
};
