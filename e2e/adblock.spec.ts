import { blockingFilter } from './support/adblock.ts';
import { expect, test } from './support/test.ts';

const OFFICIAL_CDN = 'https://t.usermaven.com/lib.js';

test('the official third-party snippet is blocked behind EasyPrivacy and loads without it', async ({ page, context, site, adblock }) => {
  // Stand-in for the CDN: no request leaves the machine, and without the blocker it runs.
  await context.route('https://t.usermaven.com/**', (route) =>
    route.fulfill({ contentType: 'text/javascript', body: 'window.officialSnippetLoaded = true;' }),
  );
  const outcome = page.waitForEvent('requestfinished', { predicate: (r) => r.url() === OFFICIAL_CDN }).then(
    () => 'loaded',
  );
  const failure = page
    .waitForEvent('requestfailed', { predicate: (r) => r.url() === OFFICIAL_CDN })
    .then((r) => r.failure()?.errorText ?? 'failed');
  await page.goto(site.url('/official-cdn.html'));
  const result = await Promise.race([outcome, failure]);
  // Async scripts run before the load event, which goto waited for.
  const loaded = await page.evaluate(() => (window as { officialSnippetLoaded?: boolean }).officialSnippetLoaded === true);

  if (adblock) {
    expect(blockingFilter(OFFICIAL_CDN, 'script', page.url())).toBe('||usermaven.com^$third-party');
    // Chromium names a request aborted by an interception handler ERR_BLOCKED_BY_CLIENT.Inspector.
    expect(result).toMatch(/^net::ERR_BLOCKED_BY_CLIENT/);
    expect(loaded).toBe(false);
  } else {
    expect(result).toBe('loaded');
    expect(loaded).toBe(true);
  }
});

test('the filter lists leave every first-party route alone', async ({ site, adblock }) => {
  test.skip(!adblock, 'checks the filter lists; runs in the adblock project');
  const from = site.url('/index.html');
  const routes = [
    ['/u.js', 'script'],
    ['/u/e', 'ping'],
    ['/u/e', 'fetch'],
    ['/u/p.gif', 'image'],
    ['/api/v1/event?token=e2e-api-key', 'xhr'],
    ['/vendor/lib.js', 'script'],
  ] as const;
  const blocked = routes.filter(([path, type]) => blockingFilter(site.url(path), type, from) !== undefined);
  expect(blocked).toEqual([]);
});
