import { expect, flushAndListSends, loaded, spyOnSends, test } from './fixture.ts';

const pageviews = (site: { events(): { event_type: string; doc_path?: string }[] }) =>
  site.events().filter((e) => e.event_type === 'pageview').map((e) => e.doc_path);

test('counts one pageview per SPA navigation: three pushes and back are four', async ({ page, site }) => {
  await page.goto(site.page('/app.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  for (const [i, path] of ['/app/inbox', '/app/settings', '/app/billing'].entries()) {
    await page.evaluate((p) => history.pushState(null, '', p), path);
    await site.expectEvents((e) => e.event_type === 'pageview', i + 2);
  }
  await page.goBack(); // popstate back to /app/settings
  await expect(page).toHaveURL(/\/app\/settings$/);
  await site.expectEvents((e) => e.event_type === 'pageview', 5);
  // A marker after the navigations: everything before it has arrived with it.
  await page.evaluate(() => window.usermaven.track('marker'));
  await site.expectEvents((e) => e.event_type === 'marker');
  expect(pageviews(site)).toEqual(['/app.html', '/app/inbox', '/app/settings', '/app/billing', '/app/settings']);
});

const noNavigation = [
  { name: 'replaceState on the same path', run: () => history.replaceState({ x: 1 }, '', location.pathname + '?tab=2'), paths: ['/app.html'] },
  { name: 'a hash change', run: () => { location.hash = '#section'; }, paths: ['/app.html'] },
  {
    name: 'pushState then replaceState of one route',
    run: () => { history.pushState(null, '', '/r/1'); history.replaceState(null, '', '/r/1#top'); },
    paths: ['/app.html', '/r/1'],
  },
];
for (const { name, run, paths } of noNavigation) {
  test(`${name} counts no extra pageview`, async ({ page, site }) => {
    await page.goto(site.page('/app.html'));
    await site.expectEvents((e) => e.event_type === 'pageview');
    await page.evaluate(run);
    await page.evaluate(() => window.usermaven.track('marker'));
    await site.expectEvents((e) => e.event_type === 'marker');
    expect(pageviews(site)).toEqual(paths);
  });
}

test('replaceState to a new path counts as a navigation', async ({ page, site }) => {
  await page.goto(site.page('/app.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => history.replaceState(null, '', '/app/moved'));
  await site.expectEvents((e) => e.doc_path === '/app/moved');
  expect(pageviews(site)).toEqual(['/app.html', '/app/moved']);
});

test('data-auto-pageview="false" sends no automatic pageviews, only page()', async ({ page, site }) => {
  await spyOnSends(page);
  await page.goto(site.page('/manual.html', { 'data-auto-pageview': 'false' }));
  await loaded(page);
  await page.evaluate(() => history.pushState(null, '', '/manual/next'));
  // The push is the page's $pageleave, which the official SDK sends whatever data-auto-pageview says.
  // (One request, or two when the fetch its 100 ms timer started is still in flight as the
  // pagehide's beacon carries what is kept: at least once, under one event_id.)
  expect((await flushAndListSends(page)).length).toBeGreaterThanOrEqual(1);
  await site.expectEvents((e) => e.event_type === '$pageleave');
  expect(pageviews(site)).toEqual([]);
  await page.evaluate(() => window.usermaven.page());
  await site.expectEvents((e) => e.event_type === 'pageview');
  expect(pageviews(site)).toEqual(['/manual/next']);
});

test('a pageview after pushState has the title the router sets right after it', async ({ page, site }) => {
  await page.goto(site.page('/app.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    history.pushState(null, '', '/app/profile');
    document.title = 'Profile';
  });
  const [pv] = await site.expectEvents((e) => e.doc_path === '/app/profile');
  expect(pv!.page_title).toBe('Profile');
});

test('a redirect chain of pushes counts its last path once', async ({ page, site }) => {
  await page.goto(site.page('/app.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    history.pushState(null, '', '/app/old');
    history.pushState(null, '', '/app/new');
  });
  await site.expectEvents((e) => e.doc_path === '/app/new');
  await page.evaluate(() => window.usermaven.track('marker'));
  await site.expectEvents((e) => e.event_type === 'marker');
  expect(pageviews(site)).toEqual(['/app.html', '/app/new']);
});
