/**
 * Before the e2e run: build what ships (public/u.js, dist/) so the tests load the current
 * minified tracker and CLI, and put the official Usermaven SDK from node_modules where the
 * fixture site serves it (kept out of git: it is npm's file, not ours). Warms the
 * ad-blocker's parsed-list cache.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadBlocker } from './adblock.ts';
import { ROOT, SITE_DIR } from './stack.ts';

export default function globalSetup(): void {
  execFileSync(process.execPath, ['build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // `lib.js` is the SDK's UMD build; it auto-initialises from its own <script> tag only when
  // the script's src contains "lib.js", so the served name keeps it.
  const require = createRequire(join(ROOT, 'package.json'));
  const sdk = join(dirname(require.resolve('@usermaven/sdk-js/package.json')), 'dist/lib.js');
  mkdirSync(join(SITE_DIR, 'vendor'), { recursive: true });
  copyFileSync(sdk, join(SITE_DIR, 'vendor/lib.js'));
  // Parse the filter lists once here (cached on disk), not once per worker.
  loadBlocker();
}
