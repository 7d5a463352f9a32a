// umbeacon/react: what @usermaven/react 1.5.15 exports, on umbeacon/browser, with one pageview
// per route change by default (docs/frameworks.md).
import { usermavenClient, type UsermavenClient, type UsermavenOptions } from '../browser/index.ts';
import { useClient, useRoutePageviews, type PageViewOptions, type UsermavenHookClient } from './hooks.ts';

export { UsermavenContext, UsermavenProvider, type UsermavenProviderProps } from './context.ts';
export type { PageViewOptions, UsermavenClient, UsermavenHookClient, UsermavenOptions };

/**
 * The client, as `usermavenClient` makes it (umbeacon/browser).
 * @example const usermaven = createClient({ key: 'YOUR_KEY', trackingHost: location.origin });
 */
export const createClient = (params: UsermavenOptions): UsermavenClient => usermavenClient(params);

/**
 * The client of the nearest `UsermavenProvider`. Throws outside one, as the official hook does.
 * @example const { track, id } = useUsermaven();
 */
export const useUsermaven = (): UsermavenHookClient => {
  const client = useClient();
  if (!client) throw Error('umbeacon: useUsermaven() needs a <UsermavenProvider client={createClient(…)}> above it');
  return client;
};

/**
 * One pageview per route change (the tracker's own pageview, which `autoPageview` would also
 * count: never twice). Returns the client.
 * @example function App() { usePageView(); return <Routes>…</Routes>; }
 */
export const usePageView = (opts: PageViewOptions = {}): UsermavenHookClient => {
  const usermaven = useUsermaven();
  useRoutePageviews(usermaven, opts);
  return usermaven;
};
