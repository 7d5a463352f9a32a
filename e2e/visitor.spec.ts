import type { Page } from '@playwright/test';
import { anonymousIdCookie, ANON_COOKIE, pageTruth, trackerLoaded } from './support/browser.ts';
import { API_KEY, SERVER_TOKEN } from './support/stack.ts';
import { expect, ofType, test } from './support/test.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const YEAR_S = 365 * 24 * 3600;

test('a first visit sends one pageview with the real page context', async ({ page, site, stack, scanner, expectUpstream }) => {
  const started = Date.now();
  await page.goto(site.url('/index.html?utm_source=newsletter&utm_campaign=spring&gclid=abc123'), {
    referer: 'https://news.example/article',
  });
  const [pageview] = await expectUpstream({ event_type: 'pageview' });
  const truth = await pageTruth(page);
  const cookie = await anonymousIdCookie(page.context());

  expect(pageview).toMatchObject({
    ...truth,
    api_key: API_KEY,
    event_id: expect.stringMatching(UUID),
    source_ip: '127.0.0.1',
    utm: { source: 'newsletter', campaign: 'spring' },
    click_id: { gclid: 'abc123' },
    user: { anonymous_id: cookie },
  });
  expect(truth.referer).toBe('https://news.example/article');
  expect(cookie).toMatch(UUID);
  const timestamp = pageview?.['_timestamp'];
  expect(timestamp).toBeGreaterThanOrEqual(started - 1000);
  expect(timestamp).toBeLessThanOrEqual(Date.now());

  // It went upstream with the key and token from the relay's configuration.
  const carrier = stack.upstream.accepted().find((r) => r.events.some((e) => e['event_id'] === pageview?.['event_id']));
  expect(carrier?.token).toBe(`${API_KEY}.${SERVER_TOKEN}`);

  // The cookie came from the server too (Safari caps cookies set by script at 7 days).
  const setCookies = () =>
    scanner.responses
      .filter((r) => new URL(r.url).pathname === '/u/e')
      .flatMap((r) => (r.headers['set-cookie'] ?? '').split('\n'))
      .filter((c) => c.startsWith(`${ANON_COOKIE}=${cookie};`));
  await expect.poll(async () => (await scanner.settle(), setCookies().length), { message: 'Set-Cookie of __eventn_id on /u/e' }).toBeGreaterThan(0);
  for (const header of setCookies()) {
    const maxAge = Number(/max-age=(\d+)/i.exec(header)?.[1]);
    expect(maxAge, header).toBeGreaterThan(YEAR_S);
  }

  // Exactly one: a later event arrives, and still only one pageview came before it.
  await page.evaluate(() => window.usermaven.track('sentinel'));
  await expectUpstream({ event_type: 'sentinel' });
  expect(ofType(expectUpstream.events(), 'pageview')).toHaveLength(1);
});

test('a returning visitor keeps the anonymous id across pages and tabs', async ({ page, site, newPage, expectUpstream }) => {
  await page.goto(site.url('/index.html'));
  const [first] = await expectUpstream({ event_type: 'pageview', doc_path: '/index.html' });
  const id = (first?.['user'] as { anonymous_id?: string } | undefined)?.anonymous_id;
  expect(id).toMatch(UUID);

  await page.click('#second');
  await expectUpstream({ event_type: 'pageview', doc_path: '/second.html', user: { anonymous_id: id } });

  const tab = await newPage();
  await tab.goto(site.url('/index.html?tab=2'));
  await expectUpstream({ event_type: 'pageview', doc_search: '?tab=2', user: { anonymous_id: id } });
  expect(await anonymousIdCookie(page.context())).toBe(id);
});

test('the server token never reaches the browser', async ({ context, site, newPage, scanner, expectUpstream }) => {
  // What a live stream (the /_events page) delivers is read where it arrives: in the page.
  await context.addInitScript(() => {
    const seen: string[] = ((window as { streamed?: string[] }).streamed = []);
    const Original = window.EventSource;
    window.EventSource = class extends Original {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        this.addEventListener('message', (e) => seen.push(String(e.data)));
      }
    };
  });
  // One tab per URL, all kept open, so every body stays readable until the scan.
  const paths = ['/index.html', '/official-sdk.html', '/u.js', '/healthz', '/u/p.gif', '/_events', '/nope'];
  const tabs = new Map<string, Page>();
  for (const path of paths) {
    const tab = await newPage();
    await tab.goto(site.url(path));
    tabs.set(path, tab);
  }
  const page = await newPage();
  const collect = site.url('/u/e');
  const trackerPosts: string[] = [];
  page.on('request', (r) => void (r.url() === collect && r.postData() && trackerPosts.push(r.postData()!)));
  await page.goto(site.url('/second.html'));
  await trackerLoaded(page);
  await page.evaluate(() => window.usermaven.track('token_probe', { token: 'client-token', api_key: 'forged' }));
  await expectUpstream({ event_type: 'token_probe' });
  await expectUpstream({ event_type: 'pageview', doc_path: '/official-sdk.html' });

  const live = tabs.get('/_events')!;
  await expect(live.locator('body')).toContainText('token_probe');
  const streamed = await live.evaluate(() => (window as { streamed?: string[] }).streamed ?? []);
  expect(streamed.join('\n')).toContain('token_probe');
  expect(streamed.join('\n') + (await live.content())).not.toContain(SERVER_TOKEN);

  // The tracker reads only the status of its keepalive fetch, never the body, and the DevTools
  // protocol reports no body for a response the page did not consume: the same post is made
  // once more from the page, which reads the answer, so the collect route's body is scanned.
  expect(trackerPosts.length).toBeGreaterThan(0);
  const status = await page.evaluate(async ({ url, body }) => {
    const r = await fetch(url, { method: 'POST', body, credentials: 'include' });
    await r.text();
    return r.status;
  }, { url: collect, body: trackerPosts.at(-1)! });
  expect(status).toBeLessThan(300);
  await expect
    .poll(async () => (await scanner.settle(), scanner.unread().filter((url) => url !== collect)), { message: 'responses not yet read' })
    .toEqual([]);
  expect(scanner.responses.filter((r) => r.url === collect && r.body !== undefined).length).toBeGreaterThan(0);
  const seen = scanner.responses.map((r) => new URL(r.url).pathname);
  expect(seen).toEqual(expect.arrayContaining([...paths, '/u/e', '/api/v1/event']));
  expect(scanner.find(SERVER_TOKEN)).toEqual([]);
});
