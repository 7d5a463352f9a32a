import { useContext, useEffect, useMemo, useRef } from 'react';
import { onRoute, routePageview, type EventPayload, type UsermavenClient } from '../browser/index.ts';
import { UsermavenContext } from './context.ts';

/** What `useUsermaven()` returns: the client, plus `trackPageView` as the official hook has it. */
export type UsermavenHookClient = UsermavenClient & { trackPageView(): void };

export interface PageViewOptions {
  /** Runs before each route's pageview, e.g. to `set` properties for it. */
  before?: (usermaven: UsermavenHookClient) => void;
  /** With either of these, each route sends `track(typeName || 'pageview', { ...payload, url, path, referrer, title })`, as the official hook. */
  typeName?: string;
  payload?: EventPayload;
}

/** The provider's client with `trackPageView`, the same object across renders; null without a client. */
export const useClient = (): UsermavenHookClient | null => {
  const client = useContext(UsermavenContext);
  return useMemo(() => client && { ...client, trackPageView: () => client.pageview() }, [client]);
};

/**
 * One pageview per route change: on mount, then after every pushState / replaceState /
 * back-forward that changes the URL. By default the pageview is the tracker's own, counted
 * once per route (browser/client.ts `routePageview`), so the tracker's history watcher
 * (`autoPageview`) and this hook never count a route twice, which the official packages do.
 */
export const useRoutePageviews = (usermaven: UsermavenClient | null, opts: PageViewOptions) => {
  const options = useRef(opts);
  options.current = opts;
  const last = useRef('');
  useEffect(() => {
    if (!usermaven) return;
    const um = { ...usermaven, trackPageView: () => usermaven.pageview() };
    const count = () => {
      const { before, typeName, payload } = options.current;
      const url = location.href;
      if (url == last.current) return;
      last.current = url;
      before?.(um);
      typeName || payload
        ? usermaven.track(typeName || 'pageview', { ...payload, url, path: location.pathname, referrer: document.referrer, title: document.title })
        : routePageview();
    };
    count();
    return onRoute(count);
  }, [usermaven]);
};
