// umbeacon/next: what @usermaven/nextjs 1.5.15 exports, on umbeacon/browser: SSR-safe (nothing
// runs and nothing throws on the server), one pageview per route change by default, and a
// server helper that keeps the relay's one visitor cookie (docs/frameworks.md).
import { usermavenClient, type UsermavenClient, type UsermavenOptions } from '../browser/index.ts';
import { idle } from '../browser/client.ts';
import { useClient, useRoutePageviews, type PageViewOptions, type UsermavenHookClient } from '../react/hooks.ts';
import { followPagesRouter } from './pages-router.ts';

export { UsermavenContext, UsermavenProvider, type UsermavenProviderProps } from '../react/context.ts';
export { middlewareEnv, type ClientProperties, type RequestLike, type ResponseLike } from './middleware.ts';
export type { PageViewOptions, UsermavenClient, UsermavenHookClient, UsermavenOptions };

/**
 * The client in the browser; `null` while rendering on the server, as the official does.
 * With the Pages Router, a route's pageview waits for the page's title (pages-router.ts).
 * @example const usermaven = createClient({ key: 'YOUR_KEY', trackingHost: 'https://www.example.com' });
 */
export const createClient = (params: UsermavenOptions): UsermavenClient | null => {
  if (typeof window == 'undefined') return null;
  const client = usermavenClient(params);
  followPagesRouter();
  return client;
};

const noop: UsermavenHookClient = { ...idle, trackPageView: () => {} };

/** The provider's client; a client that does nothing on the server or outside a provider. */
export const useUsermaven = (): UsermavenHookClient => useClient() ?? noop;

/**
 * One pageview per route change with the App Router and the Pages Router (both change the URL
 * with pushState), never twice with `autoPageview`. Nothing on the server. Returns `usermaven`.
 * @example usePageView(usermaven)
 */
export const usePageView = <C extends UsermavenClient | null>(usermaven: C, opts: PageViewOptions = {}): C => {
  useRoutePageviews(usermaven, opts);
  return usermaven;
};
