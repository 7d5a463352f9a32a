import { ANON, expect, flushAndListSends, loaded, names, spyOnSends, test } from './fixture.ts';

const idCookie = async (context: import('@playwright/test').BrowserContext) =>
  (await context.cookies()).find((c) => c.name === ANON)?.value;

test('an opt-out persists across pages until the visitor opts in again', async ({ page, site }) => {
  await spyOnSends(page);
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    (window as any).__sent.length = 0; // forget the pageview's request
    window.usermaven.track('pending'); // still queued: the opt-out drops it
    window.usermaven.consent(false);
    window.usermaven.track('after_opt_out');
  });
  expect(await flushAndListSends(page)).toEqual([]);

  await page.goto(site.page('/second.html'));
  await loaded(page);
  await page.evaluate(() => window.usermaven.track('on_next_page'));
  expect(await flushAndListSends(page)).toEqual([]);

  await page.evaluate(() => {
    window.usermaven.consent(true);
    window.usermaven.track('after_opt_in');
  });
  await site.expectEvents((e) => e.event_type === 'after_opt_in');
  expect(names(site.events())).toEqual(['pageview', 'pageview', 'after_opt_in']);
  expect(site.events()[1]!.doc_path).toBe('/second.html');
});

test('data-require-consent sends nothing and sets no cookie until consent', async ({ page, context, site }) => {
  await spyOnSends(page);
  await page.goto(site.page('/index.html', { 'data-require-consent': 'true' }));
  await loaded(page);
  await page.evaluate(() => window.usermaven.track('before_consent'));
  expect(await flushAndListSends(page)).toEqual([]);
  expect(await idCookie(context)).toBeUndefined();

  await page.evaluate(() => window.usermaven('consent', true));
  const [pv] = await site.expectEvents((e) => e.event_type === 'pageview');
  expect(await idCookie(context)).toBe(pv!.user!.anonymous_id);

  // The choice is remembered: the next page is measured at once.
  await page.goto(site.page('/next.html', { 'data-require-consent': 'true' }));
  await site.expectEvents((e) => e.doc_path === '/next.html');
  expect(names(site.events())).toEqual(['pageview', 'pageview']);
});

const signals = [
  { name: 'Do-Not-Track', property: 'doNotTrack', value: '1' },
  { name: 'Global Privacy Control', property: 'globalPrivacyControl', value: true },
] as const;
for (const signal of signals) {
  test(`with data-respect-dnt a ${signal.name} signal sends nothing until an explicit opt-in`, async ({ page, context, site }) => {
    await spyOnSends(page);
    await context.addInitScript(({ property, value }) => {
      Object.defineProperty(Navigator.prototype, property, { get: () => value, configurable: true });
    }, signal);
    await page.goto(site.page('/index.html', { 'data-respect-dnt': 'true' }));
    await loaded(page);
    await page.evaluate(() => window.usermaven.track('under_signal'));
    expect(await flushAndListSends(page)).toEqual([]);
    expect(await idCookie(context)).toBeUndefined();

    await page.evaluate(() => window.usermaven.consent(true));
    await site.expectEvents((e) => e.event_type === 'pageview');
    expect(names(site.events())).toEqual(['pageview']);
  });

  test(`without data-respect-dnt a ${signal.name} signal does not stop measuring`, async ({ page, context, site }) => {
    await context.addInitScript(({ property, value }) => {
      Object.defineProperty(Navigator.prototype, property, { get: () => value, configurable: true });
    }, signal);
    await page.goto(site.page('/index.html'));
    await site.expectEvents((e) => e.event_type === 'pageview');
  });
}

test('automation (navigator.webdriver) is not measured without data-allow-automation', async ({ page, context, site }) => {
  await spyOnSends(page);
  await page.goto(site.page('/index.html', { 'data-allow-automation': null }));
  await loaded(page);
  expect(await page.evaluate(() => navigator.webdriver)).toBe(true);
  await page.evaluate(() => {
    window.usermaven.track('by_a_bot');
    window.usermaven.consent(true); // not even a consent lets automation through
  });
  expect(await flushAndListSends(page)).toEqual([]);
  expect(await idCookie(context)).toBeUndefined();
});

test('an opt-out also drops the events waiting offline', async ({ page, context, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await context.setOffline(true);
  await page.waitForFunction(() => !navigator.onLine);
  await page.evaluate(() => window.usermaven.track('offline'));
  await expect.poll(() => page.evaluate(() => localStorage.getItem('um_o'))).toContain('offline');
  await page.evaluate(() => window.usermaven.consent(false));
  await context.setOffline(false);
  await page.evaluate(() => {
    window.usermaven.consent(true);
    window.usermaven.track('back');
  });
  await site.expectEvents((e) => e.event_type === 'back');
  expect(names(site.events())).toEqual(['pageview', 'back']);
});
