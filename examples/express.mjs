// Mount the umbeacon relay inside an existing Express (or Connect) app.
//
//   npm install express umbeacon
//   USERMAVEN_API_KEY=… USERMAVEN_SERVER_TOKEN=… node examples/express.mjs
//
// The relay answers its own routes (/u.js, /u/e, /u/p.gif, /api/v1/event, /healthz) and passes
// everything else to your app. Mount it BEFORE body parsers such as express.json(), which would
// consume the request stream (if one runs first, its req.body is re-serialized).
import express from 'express';
import { createRelayStack, toConnectMiddleware } from 'umbeacon/node';

const stack = await createRelayStack({
  apiKey: process.env.USERMAVEN_API_KEY,
  serverToken: process.env.USERMAVEN_SERVER_TOKEN,
  upstreamUrl: process.env.USERMAVEN_URL || 'https://events.usermaven.com',
  dataDir: process.env.DATA_DIR ?? './data',
  // Express sits behind nothing here; behind nginx or a load balancer, say which hops to trust.
  trustProxy: process.env.TRUST_PROXY ?? 'false',
  // Your app serves its own pages; non-relay paths fall through to next().
  fallback: null,
});

const app = express();
app.use(toConnectMiddleware(stack.relay));
app.use(express.json());
app.get('/', (_req, res) => {
  res.type('html').send(`<!doctype html>
<script>window.usermaven=window.usermaven||function(){(window.usermavenQ=window.usermavenQ||[]).push(arguments)}</script>
<script async src="/u.js"></script>
<h1>Express + umbeacon</h1>`);
});

const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(Number(process.env.PORT ?? 3000), host, () => console.log(`listening on http://${host}:${server.address().port}`));

// SIGTERM: stop taking requests, send what can be sent within 5 s, keep the rest on disk.
process.on('SIGTERM', () => {
  server.close(async () => {
    await stack.close(5000);
    process.exit(0);
  });
});
