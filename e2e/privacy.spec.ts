import { anonymousIdCookie, trackerLoaded } from './support/browser.ts';
import { expect, test } from './support/test.ts';

// "Nothing leaves" is checked after a real navigation: leaving a page flushes everything the
// tracker has queued (pagehide), so an event held back only by the send delay would show.

test('an opted-out visitor sends nothing until opting back in', async ({ page, site, outbox, expectUpstream }) => {
  await page.goto(site.url('/opt-out.html'));
  await expectUpstream({ event_type: 'pageview', doc_path: '/opt-out.html' });
  await page.click('#opt-out');
  const sentBefore = outbox.length;
  await page.evaluate(() => window.usermaven.track('after_opt_out'));

  await page.goto(site.url('/second.html'));
  await trackerLoaded(page);
  await page.goto(site.url('/opt-out.html?again'));
  await trackerLoaded(page);
  expect(outbox.slice(sentBefore), 'requests to the relay while opted out').toEqual([]);

  await page.click('#opt-in');
  await page.evaluate(() => window.usermaven.track('after_opt_in'));
  await expectUpstream({ event_type: 'after_opt_in' });
  expect(expectUpstream.events().map((e) => e['event_type'])).not.toContain('after_opt_out');
});

test('with data-require-consent nothing leaves the browser until consent is given', async ({ page, site, outbox, expectUpstream }) => {
  await page.goto(site.url('/consent.html'));
  await trackerLoaded(page);
  await page.evaluate(() => window.usermaven.track('before_consent'));
  await page.goto(site.url('/consent.html?second'));
  await trackerLoaded(page);

  expect(outbox, 'requests to the relay before consent').toEqual([]);
  expect(await anonymousIdCookie(page.context()), 'no id cookie before consent').toBeUndefined();

  await page.click('#accept');
  await expectUpstream({ event_type: 'pageview', doc_path: '/consent.html', doc_search: '?second' });
  expect(await anonymousIdCookie(page.context())).toEqual(expect.any(String));
});

const signals = [
  { name: 'Do-Not-Track', property: 'doNotTrack', value: '1' },
  { name: 'Global Privacy Control', property: 'globalPrivacyControl', value: true },
] as const;

for (const signal of signals) {
  test(`with data-respect-dnt a ${signal.name} signal keeps everything in the browser until the visitor opts in`, async ({ page, context, site, outbox, expectUpstream }) => {
    await context.addInitScript(({ property, value }) => {
      Object.defineProperty(Navigator.prototype, property, { get: () => value, configurable: true });
    }, signal);
    // Control: on a page without data-respect-dnt the same browser is measured.
    await page.goto(site.url('/second.html'));
    expect(await page.evaluate((p) => (navigator as unknown as Record<string, unknown>)[p], signal.property)).toBe(signal.value);
    await expectUpstream({ event_type: 'pageview', doc_path: '/second.html' });
    await expect.poll(() => anonymousIdCookie(context)).toEqual(expect.any(String));
    // The control page's $pageleave may leave as it unloads (when the next page takes over
    // 100 ms), and its answer sets the cookie: let that settle before the cookies go.
    await page.goto(site.url('/away.html')); // (no such page: one without the tracker)
    await expect.poll(async () => {
      const n = outbox.length;
      await page.waitForTimeout(500);
      return outbox.length == n;
    }).toBe(true);
    await context.clearCookies();
    const sentBefore = outbox.length;

    await page.goto(site.url('/respect-dnt.html'));
    await trackerLoaded(page);
    await page.evaluate(() => window.usermaven.track('under_dnt'));
    await page.goto(site.url('/respect-dnt.html?second'));
    await trackerLoaded(page);
    expect(outbox.slice(sentBefore), `requests to the relay under ${signal.name}`).toEqual([]);
    expect(await anonymousIdCookie(context)).toBeUndefined();

    // An explicit opt-in is the visitor's own choice and overrides the signal.
    await page.evaluate(() => window.usermaven.consent(true));
    await expectUpstream({ event_type: 'pageview', doc_path: '/respect-dnt.html', doc_search: '?second' });
    expect(expectUpstream.events().map((e) => e['event_type'])).not.toContain('under_dnt');
  });
}

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the noscript pixel records a pageview', async ({ page, site, outbox, expectUpstream }) => {
    await page.goto(site.url('/noscript.html?from=pixel'));
    await expectUpstream({ event_type: 'pageview', url: site.url('/noscript.html?from=pixel') });
    expect(outbox.map((r) => r.path)).toEqual(['/u/p.gif']);
  });
});
