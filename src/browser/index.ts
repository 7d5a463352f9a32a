// umbeacon/browser: the npm package in place of @usermaven/sdk-js's `usermavenClient`, built
// on the script tag's own modules (src/tracker/) with this folder's config.ts and chunk.ts in
// place of theirs (build.mjs). Importing it does nothing: the tracker starts when
// `usermavenClient()` is called in a browser, so a server can import it (docs/frameworks.md).
export { usermavenClient, routePageview } from './client.ts';
export { onRoute } from './routes.ts';
export type * from './options.ts';
