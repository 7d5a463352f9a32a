/**
 * What the analytics add to an app's bundle: the React app of e2e/packages/app/ bundled with
 * esbuild (minified, split) with its analytics import, minus the same app without it, gzip -9,
 * of the scripts every visit loads (the opt-in features' lazy chunk is not one of them). umbeacon/react must stay within `appSizeLimit` in
 * package.json, a third of what the official @usermaven/react adds, which is printed beside it.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import { bundleApp } from '../../e2e/packages/bundle.ts';
import { buildIfStale } from '../support/cli-process.mjs';

/** Each script is compressed on its own, as it is served. */
const gzip = (b: { initial: string[] }) => b.initial.reduce((n, s) => n + gzipSync(s, { level: 9 }).length, 0);
const budget: number = JSON.parse(readFileSync('package.json', 'utf8')).appSizeLimit['umbeacon/react'];

beforeAll(() => buildIfStale(['dist/app/browser.js', 'dist/app/react.js', 'dist/app/next.js']), 120_000);

it(`umbeacon/react adds at most ${budget} B gzip to an app bundle, a third of the official's`, async () => {
  const [plain, ours, official] = await Promise.all([bundleApp('plain'), bundleApp('umbeacon'), bundleApp('official')]);
  const added = { umbeacon: gzip(ours) - gzip(plain), official: gzip(official) - gzip(plain) };
  console.log(`app bundle (gzip -9): without analytics ${gzip(plain)} B; umbeacon/react adds ${added.umbeacon} B, @usermaven/react adds ${added.official} B (${(added.official / added.umbeacon).toFixed(1)}×)`);
  expect(added.umbeacon).toBeLessThanOrEqual(budget);
  expect(added.umbeacon * 3).toBeLessThanOrEqual(added.official);
}, 60_000);
