// umbeacon/next where Next.js resolves packages with the `react-server` condition: its proxy
// (middleware) and Server Components, whose React has no context or hooks. package.json
// `exports` sends them here instead of index.ts, so `middlewareEnv` imports without React's
// client APIs; the provider and the hooks belong in a "use client" module, as with the official.
export { middlewareEnv, type ClientProperties, type RequestLike, type ResponseLike } from './middleware.ts';

/** No client on the server, as the official `createClient` returns there. */
export const createClient = (_params?: unknown): null => null;
