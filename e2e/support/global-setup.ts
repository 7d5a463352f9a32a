/**
 * Before the e2e run: build what ships (public/u.js, dist/) unless the build is newer than
 * every source, so the tests load the current minified tracker and CLI; put the official
 * Usermaven SDK from node_modules where the fixture site serves it (kept out of git: it is
 * npm's file, not ours); warm the ad-blocker's parsed-list cache.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadBlocker } from './adblock.ts';
import { ROOT, SITE_DIR } from './stack.ts';

/** Newest mtime of a file or of every file under a directory. */
function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** The built files are newer than every source: `npm test` has just built them. */
function buildIsFresh(): boolean {
  const outputs = ['public/u.js', 'public/u/x.js', 'dist/cli.js'].map((f) => join(ROOT, f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'build.mjs')));
  return outputs.every((f) => statSync(f).mtimeMs >= sources);
}

export default function globalSetup(): void {
  // Rebuilding rewrites files a relay of another test run may be reading; skip when fresh.
  if (!buildIsFresh()) execFileSync(process.execPath, ['build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // `lib.js` is the SDK's UMD build; it auto-initialises from its own <script> tag only when
  // the script's src contains "lib.js", so the served name keeps it.
  const require = createRequire(join(ROOT, 'package.json'));
  const sdk = join(dirname(require.resolve('@usermaven/sdk-js/package.json')), 'dist/lib.js');
  mkdirSync(join(SITE_DIR, 'vendor'), { recursive: true });
  copyFileSync(sdk, join(SITE_DIR, 'vendor/lib.js'));
  // Parse the filter lists once here (cached on disk), not once per worker.
  loadBlocker();
}
