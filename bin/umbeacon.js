#!/usr/bin/env node
// Entry for `npx umbeacon …`; the CLI is built to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('umbeacon: dist/cli.js is missing; run `npm run build` first.');
  process.exit(1);
}
await import(cli);
