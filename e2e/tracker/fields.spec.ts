import { ANON, UUID, expect, test } from './fixture.ts';

test.use({ viewport: { width: 801, height: 601 }, locale: 'de-DE', timezoneId: 'Asia/Kolkata' });

test('a pageview carries every field of the page context', async ({ page, context, site }) => {
  const host = new URL(site.url('/')).hostname;
  await context.addCookies(
    [['_ga', 'GA1.1.123.456'], ['_fbp', 'fb.1.1700000000.42'], ['_fbc', 'fb.1.1700000000.IwAR'], ['other', 'x']].map(([name, value]) => ({
      name: name!, value: value!, domain: host, path: '/',
    })),
  );
  const query = '?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero&gclid=G1&fbclid=F1&msclkid=M1&other=1';
  const started = Date.now();
  await page.goto(site.page('/shop/list.html') + '&' + query.slice(1), { referer: 'https://ref.example/from?q=1' });

  const [pv] = await site.expectEvents((e) => e.event_type === 'pageview');
  const truth = await page.evaluate(() => ({
    url: location.href,
    screen: `${screen.width}x${screen.height}`,
    ua: navigator.userAgent,
    lang: navigator.language,
    tz: new Date().getTimezoneOffset(),
  }));
  const cookie = (await context.cookies()).find((c) => c.name === ANON);

  expect(pv).toEqual({
    event_id: expect.stringMatching(UUID),
    event_type: 'pageview',
    _timestamp: expect.any(Number),
    sent_at: expect.any(Number),
    user: { anonymous_id: cookie?.value },
    company: {},
    // What the official SDK puts in a pageview's attributes.
    event_attributes: { url: truth.url, referrer: 'https://ref.example/from?q=1', title: 'Fixture home' },
    ids: { _ga: 'GA1.1.123.456', _fbp: 'fb.1.1700000000.42', _fbc: 'fb.1.1700000000.IwAR' },
    namespace: 'default',
    src: 'umbeacon',
    url: truth.url,
    page_title: 'Fixture home',
    referer: 'https://ref.example/from?q=1',
    doc_path: '/shop/list.html',
    doc_host: '127.0.0.1',
    doc_search: new URL(truth.url).search,
    vp_size: '801x601',
    screen_resolution: truth.screen,
    user_agent: truth.ua,
    user_language: 'de-DE',
    doc_encoding: 'UTF-8',
    local_tz_offset: -330,
    utm: { source: 'news', medium: 'email', campaign: 'spring', term: 'shoes', content: 'hero' },
    click_id: { gclid: 'G1', fbclid: 'F1', msclkid: 'M1' },
  });
  // What left the browser: the url, not the fields the relay derives from it.
  // What left the browser: the compact form (src/shared/compact.ts), with the url and not the
  // fields the relay derives from it or takes from the request.
  const sent = site.requests.flatMap((r) => JSON.parse(r.body) as Record<string, unknown>[]).find((e) => e.e === 'pageview');
  expect(sent!.l).toBe(truth.url);
  // (`o`: the outbox's count of dropped events, on its oldest event.)
  expect(Object.keys(sent!).sort()).toEqual(['c', 'd', 'e', 'g', 'i', 'l', 'n', 'o', 'p', 'r', 's', 't', 'u', 'v', 'w', 'x', 'z']);
  expect(sent!.o).toBe(0);
  expect(truth.tz).toBe(-330);
  expect(pv!._timestamp).toBeGreaterThanOrEqual(started);
  expect(pv!.sent_at).toBeGreaterThanOrEqual(pv!._timestamp!);
  for (const secret of ['api_key', 'token', 'source_ip']) expect(pv).not.toHaveProperty(secret);
});

test('events leave as a text/plain JSON array on the default endpoint', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  const [req] = site.requests;
  expect(req!.path).toBe('/u/e');
  expect(req!.headers['content-type']).toBe('text/plain;charset=UTF-8');
  expect(JSON.parse(req!.body)).toBeInstanceOf(Array);
});

test('the anonymous id cookie is a first-party, long-lived, Lax cookie on /', async ({ page, context, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  const cookie = (await context.cookies()).find((c) => c.name === ANON);
  expect(cookie).toMatchObject({ value: expect.stringMatching(UUID), path: '/', sameSite: 'Lax', secure: false, httpOnly: false });
  expect(cookie!.expires * 1000 - Date.now()).toBeGreaterThan(399 * 86400e3);
});

test('a data-endpoint attribute overrides the endpoint, relative to the script', async ({ page, site }) => {
  await page.goto(site.page('/index.html', { 'data-endpoint': '/elsewhere/in' }));
  await site.expectEvents((e) => e.event_type === 'pageview');
  expect(site.requests.map((r) => r.path)).toEqual(['/elsewhere/in']);
});

test('track sends its attributes and the page context of its moment', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await site.expectEvents((e) => e.event_type === 'pageview');
  await page.evaluate(() => {
    history.pushState(null, '', '/checkout?step=2');
    document.title = 'Checkout';
    window.usermaven.track('purchase', { amount: 42, items: ['a', 'b'] });
  });
  const [ev] = await site.expectEvents((e) => e.event_type === 'purchase');
  expect(ev).toMatchObject({
    event_attributes: { amount: 42, items: ['a', 'b'] },
    doc_path: '/checkout',
    doc_search: '?step=2',
    page_title: 'Checkout',
  });
});
