/**
 * One visitor cookie across subdomains: the tracker (data-cookie-domain) and the relay's
 * Set-Cookie write the same `__eventn_id` (name, Path and Domain), so the browser holds one,
 * the one the server refreshes. Two hosts of one site, both resolved to the relay on 127.0.0.1.
 */
import config from '../playwright.config.ts';
import { ANON_COOKIE } from './support/browser.ts';
import { startStack, type Stack } from './support/stack.ts';
import { expect, test } from './support/test.ts';

const launch = config.use?.launchOptions ?? {};
test.use({
  launchOptions: { ...launch, args: [...(launch.args ?? []), '--host-resolver-rules=MAP *.umbeacon.test 127.0.0.1'] },
});

let own: Stack | undefined;
test.afterEach(async () => {
  await own?.close();
  own = undefined;
});

test('with COOKIE_DOMAIN the browser holds one __eventn_id, shared by www. and app.', async ({ page, context, tag }) => {
  own = await startStack({ COOKIE_DOMAIN: 'umbeacon.test' });
  const upstream = own.upstream;
  const port = new URL(own.relay.url).port;
  const mine = () => upstream.events.filter((e) => String(e['user_agent'] ?? '').includes(tag));
  const pageviewOn = async (host: string) => {
    await page.goto(`http://${host}:${port}/subdomain.html`);
    await expect.poll(() => mine().filter((e) => e['doc_host'] === host).length, { message: `pageview from ${host} upstream\n${own!.relay.log().slice(-2000)}` }).toBe(1);
    return mine().find((e) => e['doc_host'] === host)!;
  };

  const www = await pageviewOn('www.umbeacon.test');
  const app = await pageviewOn('app.umbeacon.test');
  const visitor = (www['user'] as { anonymous_id: string }).anonymous_id;
  expect((app['user'] as { anonymous_id: string }).anonymous_id).toBe(visitor);

  const cookies = (await context.cookies()).filter((c) => c.name === ANON_COOKIE);
  expect(cookies, 'every __eventn_id cookie the browser holds').toEqual([expect.objectContaining({ domain: '.umbeacon.test', path: '/', value: visitor })]);
});
