import config from '../../playwright.config.ts';
import { ANON, expect, test } from './fixture.ts';

// Two subdomains of one site, both resolved to the capture server on 127.0.0.1.
const launch = config.use?.launchOptions ?? {};
test.use({
  launchOptions: { ...launch, args: [...(launch.args ?? []), '--host-resolver-rules=MAP *.umbeacon.test 127.0.0.1'] },
});

test('data-cookie-domain shares one visitor across subdomains', async ({ page, context, site }) => {
  const port = new URL(site.url('/')).port;
  const on = (host: string, path: string) => {
    const u = new URL(site.page(path, { 'data-cookie-domain': '.umbeacon.test' }));
    u.host = `${host}:${port}`;
    return u.href;
  };
  await page.goto(on('www.umbeacon.test', '/home.html'));
  const [home] = await site.expectEvents((e) => e.doc_path === '/home.html');
  const cookie = (await context.cookies()).find((c) => c.name === ANON);
  expect(cookie).toMatchObject({ domain: '.umbeacon.test', value: home!.user!.anonymous_id });

  await page.goto(on('app.umbeacon.test', '/dashboard.html'));
  const [app] = await site.expectEvents((e) => e.doc_path === '/dashboard.html');
  expect(app!.doc_host).toBe('app.umbeacon.test');
  expect(app!.user!.anonymous_id).toBe(home!.user!.anonymous_id);
});

test('without data-cookie-domain the cookie goes on the registrable domain: subdomains share one visitor', async ({ page, context, site }) => {
  const port = new URL(site.url('/')).port;
  const on = (host: string, path: string) => {
    const u = new URL(site.page(path));
    u.host = `${host}:${port}`;
    return u.href;
  };
  await page.goto(on('www.umbeacon.test', '/home.html'));
  const [home] = await site.expectEvents((e) => e.doc_path === '/home.html');
  await page.goto(on('app.umbeacon.test', '/dashboard.html'));
  const [app] = await site.expectEvents((e) => e.doc_path === '/dashboard.html');
  expect(app!.user!.anonymous_id).toBe(home!.user!.anonymous_id);
  const cookies = (await context.cookies()).filter((c) => c.name === ANON);
  expect(cookies).toEqual([expect.objectContaining({ domain: '.umbeacon.test', value: home!.user!.anonymous_id })]);
  // The relay is told the same domain, so its Set-Cookie lands on the same cookie.
  expect(site.requests.every((r) => r.query.get('d') === 'umbeacon.test')).toBe(true);
});
