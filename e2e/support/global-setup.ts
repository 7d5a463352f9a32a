/**
 * Before the e2e run: build what ships (public/u.js, dist/) unless the build is newer than
 * every source, so the tests load the current minified tracker and CLI; put the official
 * Usermaven SDK from node_modules where the fixture site serves it (kept out of git: it is
 * npm's file, not ours); warm the ad-blocker's parsed-list cache. Chromium and the filter lists
 * are `npm test`'s to install (scripts/provision.mjs); run alone, this stops in one line when
 * either is missing.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { requireChromium } from '../../scripts/provision.mjs';
import { buildIfStale } from '../../test/support/cli-process.mjs';
import { loadBlocker } from './adblock.ts';
import { ROOT, SITE_DIR } from './stack.ts';

export default function globalSetup(): void {
  requireChromium();
  // Rebuilding rewrites files a relay of another test run may be reading; skip when fresh.
  buildIfStale(['public/u.js', 'public/u/x.js', 'dist/cli.js']);
  // `lib.js` is the SDK's UMD build; it auto-initialises from its own <script> tag only when
  // the script's src contains "lib.js", so the served name keeps it.
  const require = createRequire(join(ROOT, 'package.json'));
  const sdk = join(dirname(require.resolve('@usermaven/sdk-js/package.json')), 'dist/lib.js');
  mkdirSync(join(SITE_DIR, 'vendor'), { recursive: true });
  copyFileSync(sdk, join(SITE_DIR, 'vendor/lib.js'));
  // Parse the filter lists once here (cached on disk), not once per worker.
  loadBlocker();
}
