/**
 * The ad-blocker every scenario also runs behind: EasyList + EasyPrivacy as Debian ships them
 * for uBlock Origin (`webext-ublock-origin-chromium`) or as `npm test` downloaded them where
 * that package is not to be had (scripts/provision.mjs finds them), parsed from the local
 * files (no network during the tests) into `@ghostery/adblocker-playwright`, which aborts matching requests with
 * `net::ERR_BLOCKED_BY_CLIENT` like a real extension would.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PlaywrightBlocker, Request, type RequestType } from '@ghostery/adblocker-playwright';
import type { Page } from '@playwright/test';
import { FILTER_LISTS, requireFilterLists } from '../../scripts/provision.mjs';

let cached: PlaywrightBlocker | undefined;

/**
 * Parsed once per machine and list version: parsing both lists takes 1-5 s (more on a busy
 * machine), loading the serialized engine ~20 ms. The cache key covers the lists' size and
 * mtime and the adblocker's version, so an updated list or package re-parses.
 */
export function loadBlocker(): PlaywrightBlocker {
  if (cached) return cached;
  const dir = requireFilterLists();
  const files = Object.keys(FILTER_LISTS).map((name) => join(dir, name));
  const root = resolve(import.meta.dirname, '../..');
  const version = (createRequire(join(root, 'package.json'))('@ghostery/adblocker-playwright/package.json') as { version: string }).version;
  const key = createHash('sha256')
    .update([version, ...files.map((f) => `${f}:${statSync(f).size}:${statSync(f).mtimeMs}`)].join('|'))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = join(root, 'node_modules/.cache/umbeacon-e2e');
  const cacheFile = join(cacheDir, `blocker-${key}.bin`);
  if (existsSync(cacheFile)) {
    try {
      cached = PlaywrightBlocker.deserialize(new Uint8Array(readFileSync(cacheFile)));
      return cached;
    } catch {
      // A cache from another build of the engine: parse again below.
    }
  }
  // `debug` keeps the matching filter's text, so a failure can say which rule fired.
  cached = PlaywrightBlocker.parse(files.map((f) => readFileSync(f, 'utf8')).join('\n'), { debug: true });
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${cacheFile}.${process.pid}`;
  writeFileSync(partial, cached.serialize());
  renameSync(partial, cacheFile);
  return cached;
}

/** Starts blocking in `page`; call before the page's first navigation. */
export async function enableBlocking(page: Page): Promise<void> {
  // The blocker's types come from the `playwright` package, ours from `@playwright/test`:
  // the same runtime objects under two declaration trees.
  await loadBlocker().enableBlockingInPage(page as unknown as Parameters<PlaywrightBlocker['enableBlockingInPage']>[0]);
}

/** The filter that blocks `url` as a `type` request from `sourceUrl`, or undefined. */
export function blockingFilter(url: string, type: RequestType, sourceUrl: string): string | undefined {
  const { match, filter } = loadBlocker().match(Request.fromRawDetails({ url, type, sourceUrl }));
  return match ? (filter?.toString() ?? '(unknown filter)') : undefined;
}
