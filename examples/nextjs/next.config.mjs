// umbeacon's Node relay reads files next to its own module (the built tracker, public/u.js)
// and keeps a spool on disk: load it from node_modules at run time rather than bundling it.
/** @type {import('next').NextConfig} */
export default {
  serverExternalPackages: ['umbeacon'],
};
