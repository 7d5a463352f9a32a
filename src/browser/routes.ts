/**
 * Route changes of a single-page app, for the React and Next.js hooks: the History API fires
 * no event for pushState / replaceState, so both are wrapped once, and back/forward fire
 * popstate. Listeners run a task later, when routers have set the title (as the tracker's own
 * src/tracker/spa.ts counts them). Returns the unsubscribe function (an effect's cleanup).
 */
const listeners = new Set<() => void>();
let watching: unknown;

export const onRoute = (listener: () => void) => {
  if (!watching) {
    watching = 1;
    const later = () => setTimeout(() => listeners.forEach((l) => l()));
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
