// umbeacon's Node relay reads files next to its own module (the built tracker, public/u.js)
// and keeps a spool on disk: load it from node_modules at run time rather than bundling it.
//
// USERMAVEN_SDK=official is for this repository's test (test/examples/nextjs.test.ts): the same
// app with the official @usermaven/nextjs in the browser wherever it imports umbeacon/next, the
// oracle umbeacon's events are compared with. The server keeps umbeacon/next: a Next.js 16 proxy
// that imports @usermaven/nextjs fails every request (its module calls React's createContext,
// which the proxy's React has not).
const official = process.env.USERMAVEN_SDK === 'official';

/** @type {import('next').NextConfig} */
export default {
  serverExternalPackages: ['umbeacon'],
  ...(official && { turbopack: { resolveAlias: { 'umbeacon/next': { browser: '@usermaven/nextjs' } } } }),
};
