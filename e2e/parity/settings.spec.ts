/**
 * The script-tag settings that decide what may be kept about a visitor, and where the
 * visitor id lives: the same outcome from the official SDK and from u.js, through the relay.
 * Subdomains and a second site are host names mapped to the relay by Chromium's
 * `--host-resolver-rules`.
 */
import config from '../../playwright.config.ts';
import { expect, test } from '../support/test.ts';
import { cookieShape, expectParity, runBoth, visitorCookies } from './parity.ts';

const launch = config.use?.launchOptions ?? {};
test.use({ launchOptions: { ...launch, args: [...(launch.args ?? []), '--host-resolver-rules=MAP *.parity.test 127.0.0.1, MAP *.other.test 127.0.0.1'] } });

const byType = (events: Record<string, unknown>[], type: string) => events.filter((e) => e['event_type'] === type);

test('data-privacy-policy="strict": no cookie, no IP, an empty anonymous id, the policy passed on', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-privacy-policy': 'strict' }, { host: 'www.parity.test' });
    await run.call('track', 'in_strict', { a: 1 });
    await run.waitFor((e) => e['event_type'] === 'in_strict');
  });
  expectParity(r);
  for (const result of Object.values(r)) {
    expect(visitorCookies(result), result.sdk).toEqual([]);
    for (const e of result.events) {
      expect(e, result.sdk).not.toHaveProperty('source_ip');
      expect(e, result.sdk).toMatchObject({ cookie_policy: 'strict', ip_policy: 'strict', user: { anonymous_id: '' } });
    }
  }
});

test('data-ip-policy="comply" truncates the address; data-cookie-policy="strict" keeps the cookie out', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-ip-policy': 'comply', 'data-cookie-policy': 'strict' });
    await run.waitFor((e) => e['event_type'] === 'pageview');
  });
  expectParity(r);
  for (const result of Object.values(r)) {
    expect(visitorCookies(result), result.sdk).toEqual([]);
    for (const e of result.events) expect(e, result.sdk).toMatchObject({ source_ip: '127.0.0.0', ip_policy: 'comply', cookie_policy: 'strict' });
  }
});

test('data-property-blacklist removes those attributes', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-property-blacklist': 'secret,token' });
    await run.call('track', 'checkout', { secret: 's3', token: 't0', kept: 1 });
  });
  expectParity(r);
  for (const { events, sdk } of Object.values(r)) expect(byType(events, 'checkout')[0]!['event_attributes'], sdk).toEqual({ kept: 1 });
});

test('data-no-auto-init="true": the tag starts nothing (no global, no pageview)', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    const u = new URL('/parity.html', run.origin());
    u.searchParams.set('sdk', run.sdk);
    u.searchParams.set('attrs', JSON.stringify({ 'data-no-auto-init': 'true' }));
    await run.page.goto(u.href, { waitUntil: 'load' });
    await run.page.waitForTimeout(1500); // either tracker would have sent its pageview by now
    expect(await run.page.evaluate(() => typeof (window as any).usermaven.track), run.sdk).toBe('undefined');
    await run.open(); // without the attribute, for the closing event
  });
  expectParity(r);
  for (const { events, sdk } of Object.values(r)) expect(byType(events, 'pageview'), sdk).toHaveLength(1);
});

test('localStorage.um_exclusion: nothing is tracked while it is set', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.page.goto(run.origin() + '/parity.html?sdk=none');
    await run.page.evaluate(() => localStorage.setItem('um_exclusion', 'true'));
    await run.open();
    await run.call('track', 'excluded');
    await run.page.evaluate(() => localStorage.removeItem('um_exclusion'));
  });
  expectParity(r);
  for (const { events, sdk } of Object.values(r)) expect(events, sdk).toEqual([]);
});

test('www. and app. share one visitor: one cookie on the registrable domain, also after the relay answered', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({}, { host: 'www.parity.test' });
    await run.call('track', 'on_www');
    await run.waitFor((e) => e['event_type'] === 'on_www');
    await run.open({}, { host: 'app.parity.test' });
    await run.call('track', 'on_app');
    await run.waitFor((e) => e['event_type'] === 'on_app');
  });
  expectParity(r);
  expect(cookieShape(r.umbeacon)).toEqual(cookieShape(r.official));
  for (const result of Object.values(r)) {
    const cookies = visitorCookies(result);
    expect(cookies.map((c) => c.domain), result.sdk).toEqual(['.parity.test']);
    const anon = (type: string) => (byType(result.events, type)[0]!['user'] as { anonymous_id: string }).anonymous_id;
    expect(anon('on_app'), result.sdk).toBe(anon('on_www'));
    expect(cookies[0]!.value, result.sdk).toBe(anon('on_www'));
  }
});

test('data-domains: a link to the other site carries the visitor, who stays one', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-domains': 'www.other.test' }, { host: 'www.parity.test' });
    await run.call('track', 'on_first_site');
    await run.waitFor((e) => e['event_type'] === 'on_first_site');
    const target = new URL(run.page.url());
    target.host = `www.other.test:${target.port}`;
    await run.page.evaluate((href) => document.querySelector('#away')!.setAttribute('href', href), target.href);
    await run.page.click('#away');
    await run.page.waitForURL(/www\.other\.test/);
    await run.page.waitForFunction(() => typeof (window as any).usermaven?.track === 'function');
    await run.call('track', 'on_second_site');
    await run.waitFor((e) => e['event_type'] === 'on_second_site');
  });
  expectParity(r);
  for (const result of Object.values(r)) {
    const anon = (type: string) => (byType(result.events, type)[0]!['user'] as { anonymous_id: string }).anonymous_id;
    expect(anon('on_second_site'), result.sdk).toBe(anon('on_first_site'));
    expect(new Set(visitorCookies(result).map((c) => c.domain)), result.sdk).toEqual(new Set(['.parity.test', '.other.test']));
  }
});
