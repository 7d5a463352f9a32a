import { expect, loaded, names, test } from './fixture.ts';

test('calls queued by the official stub run first, in order, before the pageview', async ({ page, site }) => {
  await page.goto(site.page('/late-official.html'));
  await page.evaluate(() => {
    window.usermaven('id', { id: 'early-user' });
    window.usermaven('track', 'a', { n: 1 });
    window.usermaven('track', 'b', { n: 2 });
    (window as any).loadTracker();
  });
  const events = await site.expectEvents(() => true, 4);
  expect(names(events)).toEqual(['user_identify', 'a', 'b', 'pageview']);
  expect(events[1]!.event_attributes).toEqual({ n: 1 });
  expect(events[3]!.user).toMatchObject({ id: 'early-user' });
});

test('the extended stub keeps the moment and page of each queued call', async ({ page, site }) => {
  await page.goto(site.page('/late-extended.html'));
  const times = await page.evaluate(() => {
    const t0 = Date.now();
    window.usermaven('track', 'first');
    history.pushState(null, '', '/late/step-2?x=1');
    document.title = 'Step 2';
    const t1 = Date.now();
    window.usermaven('track', 'second');
    const t2 = Date.now();
    return { t0, t1, t2 };
  });
  // The tracker loads later, on another page state.
  await page.evaluate(() => {
    history.pushState(null, '', '/late/step-3');
    document.title = 'Step 3';
    (window as any).loadTracker();
  });
  const events = await site.expectEvents(() => true, 3);
  expect(names(events)).toEqual(['first', 'second', 'pageview']);
  expect(events[0]).toMatchObject({ doc_path: '/late-extended.html', doc_search: expect.stringContaining('data-allow-automation'), page_title: 'Late, extended stub' });
  expect(events[1]).toMatchObject({ doc_path: '/late/step-2', doc_search: '?x=1', page_title: 'Step 2' });
  expect(events[2]).toMatchObject({ doc_path: '/late/step-3', page_title: 'Step 3' });
  expect(events[0]!._timestamp).toBeGreaterThanOrEqual(times.t0);
  expect(events[0]!._timestamp).toBeLessThanOrEqual(times.t1);
  expect(events[1]!._timestamp).toBeGreaterThanOrEqual(times.t1);
  expect(events[1]!._timestamp).toBeLessThanOrEqual(times.t2);
});

test('a stub function kept by the page still works after u.js loads', async ({ page, site }) => {
  await page.goto(site.page('/late-official.html'));
  await page.evaluate(() => {
    (window as any).kept = window.usermaven;
    (window as any).loadTracker();
  });
  await loaded(page);
  await page.evaluate(() => (window as any).kept('track', 'through_old_stub'));
  await site.expectEvents((e) => e.event_type === 'through_old_stub');
});

test('a second copy of u.js does not count twice', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.addScriptTag({ url: '/u.js' });
  await page.evaluate(() => window.usermaven.track('marker'));
  await site.expectEvents((e) => e.event_type === 'marker');
  expect(names(site.events())).toEqual(['pageview', 'marker']);
});

test('data-debug logs what is sent', async ({ page, site }) => {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(site.page('/index.html', { 'data-debug': 'true' }));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await expect.poll(() => logs.filter((l) => l.startsWith('umbeacon send'))).toHaveLength(1);
});

test('without data-debug the console stays silent', async ({ page, site }) => {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => window.usermaven.track(''));
  await page.evaluate(() => window.usermaven.track('marker'));
  await site.expectEvents((e) => e.event_type === 'marker');
  expect(logs).toEqual([]);
});

const misuses: { call: string; run: () => void }[] = [
  { call: 'track()', run: () => (window.usermaven.track as any)() },
  { call: "track('')", run: () => window.usermaven.track('') },
  { call: "track('x', 'not an object')", run: () => (window.usermaven.track as any)('x', 'not an object') },
  { call: "identify('bob')", run: () => (window.usermaven.identify as any)('bob') },
  { call: 'identify(null)', run: () => (window.usermaven.identify as any)(null) },
  { call: 'group(5)', run: () => (window.usermaven.group as any)(5) },
  { call: "usermaven('nope')", run: () => (window.usermaven as any)('nope') },
  { call: "usermaven('track')", run: () => (window.usermaven as any)('track') },
  {
    call: 'track with a cyclic attribute',
    run: () => {
      const a: Record<string, unknown> = {};
      a.self = a;
      window.usermaven.track('cyclic', a);
    },
  },
];
for (const { call, run } of misuses) {
  test(`${call} throws with data-debug and is ignored without`, async ({ page, site }) => {
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(site.page('/index.html'));
    await loaded(page);
    await page.evaluate(run); // resolves: nothing thrown into the page
    await page.goto(site.page('/debug.html', { 'data-debug': 'true' }));
    await loaded(page);
    await expect(page.evaluate(run)).rejects.toThrow(/umbeacon: misused |cyclic|circular/i);
    await page.evaluate(() => window.usermaven.track('marker'));
    await site.expectEvents((e) => e.event_type === 'marker');
    expect(names(site.events())).toEqual(['pageview', 'pageview', 'marker']);
    expect(errors).toEqual([]);
  });
}

test('a failing queued call is logged in debug and the calls after it still run', async ({ page, site }) => {
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(site.page('/late-official.html', { 'data-debug': 'true' }));
  await page.evaluate(() => {
    (window.usermaven as any)('track');
    window.usermaven('track', 'after_bad_call');
    (window as any).loadTracker();
  });
  await site.expectEvents((e) => e.event_type === 'after_bad_call');
  // (Console messages reach the test asynchronously, maybe after the event reached the site.)
  await expect.poll(() => logs.some((l) => /umbeacon: misused track/.test(l))).toBe(true);
});
