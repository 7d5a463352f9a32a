/**
 * umbeacon/node — the relay on Node: start it programmatically, mount it in an existing
 * node:http / Express / Connect app, or use the durable file spool on its own.
 *
 * @example
 *   import { startRelayServer } from 'umbeacon/node';
 *   const relay = await startRelayServer({ port: 0 });   // embedded mode, events under ./data
 *   console.log(relay.url);
 *   await relay.close();
 */
export { startRelayServer, createRelayStack, type RelayServer, type RelayStack, type StartOptions } from './server.ts';
export { createFileSpool, type FileSpool, type FileSpoolOptions } from '../delivery/file-spool/index.ts';
export { toNodeListener, toConnectMiddleware, type WebHandler } from './node-adapter.ts';
export { loadConfig, ConfigError, SETTINGS, type RelayConfig } from './config.ts';
export { serveStatic } from './static-files.ts';
export { createLocalStore } from './local-store.ts';
export { precompress } from './precompress.ts';
