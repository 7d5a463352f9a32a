/**
 * The automatic events, on by default in the official SDK ($scroll, $pageleave, SPA pageviews
 * including hash routes) and opt-in ($autocapture, $form, $rage_click): the same event types
 * with the same attribute names from both trackers, and their privacy rules on both.
 */
import { expect, test } from '../support/test.ts';
import type { UpstreamEvent } from '../support/test.ts';
import { SDKS, expectParity, runBoth, runOne, type Run } from './parity.ts';
import { shape } from './shape.ts';

const byType = (events: Record<string, unknown>[], type: string) => events.filter((e) => e['event_type'] === type);

/** Scrolls to a fraction of the page and waits past the trackers' 250 ms settling time for the milestone events. */
const scrollTo = async (run: Run, fraction: number, milestones: number) => {
  await run.page.evaluate((f) => window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) * f), fraction);
  await run.waitFor((e) => e['event_type'] === '$scroll', milestones);
};

test('$scroll at each milestone passed and on hide, then $pageleave', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.waitFor((e) => e['event_type'] === 'pageview');
    await scrollTo(run, 0.3, 1); // 25
    await scrollTo(run, 0.8, 3); // 50, 75
    await run.hide(); // final depth, then $pageleave
    await run.waitFor((e) => e['event_type'] === '$pageleave');
    await run.hide(); // $scroll again, but one $pageleave per page
  });
  expectParity(r);
  for (const { events } of Object.values(r)) {
    expect(byType(events, '$scroll').map((e) => (e['event_attributes'] as { percent: number }).percent)).toEqual([30, 80, 80, 80, 80]);
    expect(byType(events, '$pageleave')).toHaveLength(1);
    expect(byType(events, '$scroll')[0]!['event_attributes']).toEqual({
      percent: 30,
      window_height: 720,
      document_height: expect.any(Number),
      scroll_distance: expect.any(Number),
    });
  }
});

test('a link to a page that answers after 500 ms: the page left sends its $pageleave', async ({ browser, stack, tag, baseUserAgent }) => {
  // Found by a marker in the page's url: the official SDK sends this event from the next page
  // with the browser's own user agent, without the run's override the harness sorts events by.
  const marker = tag.replace(/\W/g, '');
  const leaves: Partial<Record<string, UpstreamEvent[]>> = {};
  await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-e2e-marker': marker });
    await run.waitFor((e) => e['event_type'] === 'pageview');
    // The next page takes 500 ms to answer, as over a real network (one that answers within
    // 100 ms of beforeunload is no $pageleave for either tracker).
    await run.page.route('**/elsewhere.html', async (route) => {
      await new Promise((done) => setTimeout(done, 500));
      await route.fulfill({ contentType: 'text/html', body: '<title>Elsewhere</title>' });
    });
    await run.page.evaluate(() => {
      const a = Object.assign(document.createElement('a'), { href: '/elsewhere.html' });
      document.body.append(a);
      a.click();
    });
    await expect(run.page).toHaveTitle('Elsewhere');
    // A page with the tracker again: the official SDK sends what it kept in localStorage from
    // there; u.js's beacon left with the page it left.
    await run.open();
    const mine = () => stack.upstream.events.filter((e) => e['event_type'] === '$pageleave' && String(e['url']).includes(marker) && String(e['url']).includes(`sdk=${run.sdk}`));
    await stack.upstream.waitFor(() => mine().length > 0, 15_000);
    leaves[run.sdk] = mine();
  });
  for (const sdk of SDKS) {
    expect(leaves[sdk], sdk).toHaveLength(1);
    expect(new URL(String(leaves[sdk]![0]!['url'])).pathname, sdk).toBe('/parity.html');
  }
  expect(shape(leaves.umbeacon![0]!)).toEqual(shape(leaves.official![0]!));
});

test('SPA navigations: pushState, back and hash routes are pageviews; a push is the $pageleave', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.waitFor((e) => e['event_type'] === 'pageview');
    await run.page.evaluate(() => history.pushState(null, '', '/app/inbox'));
    await run.waitFor((e) => e['event_type'] === 'pageview', 2);
    await run.page.evaluate(() => (location.hash = '#/settings'));
    await run.waitFor((e) => e['event_type'] === 'pageview', 3);
    await run.page.evaluate(() => (location.hash = '#/profile'));
    await run.waitFor((e) => e['event_type'] === 'pageview', 4);
    await run.page.goBack();
    await run.waitFor((e) => e['event_type'] === 'pageview', 5);
  });
  expectParity(r);
  for (const { events } of Object.values(r)) {
    expect(byType(events, 'pageview').map((e) => new URL(String(e['url'])).pathname + new URL(String(e['url'])).hash)).toEqual([
      '/parity.html',
      '/app/inbox',
      '/app/inbox#/settings',
      '/app/inbox#/profile',
      '/app/inbox#/settings',
    ]);
    expect(byType(events, '$pageleave')).toHaveLength(1);
  }
});

test('$autocapture: the same attributes for a button and a link; nothing under no-capture, no field value', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-autocapture': 'true' });
    await run.page.click('#buy');
    await run.page.click('#docs');
    await run.page.click('#private');
    await run.page.click('#private2');
    await run.page.fill('#password', 'typed-secret');
    await run.page.fill('#card', '4111111111111111');
  });
  for (const { events, sdk } of Object.values(r)) {
    const captured = byType(events, '$autocapture').map((e) => e['autocapture_attributes'] as Record<string, unknown>);
    const buy = captured.find((a) => a['attr__id'] === 'buy');
    expect(buy, sdk).toEqual({ tag_name: 'button', classes: ['btn', 'primary'], attr__id: 'buy', attr__class: 'btn primary', 'attr__data-sku': 'A1', el_text: 'Buy now', event_type: 'click' });
    const docs = captured.find((a) => a['attr__id'] === 'docs');
    expect(docs, sdk).toMatchObject({ tag_name: 'a', attr__href: '/docs.html?from=parity', el_text: 'Read the docs', event_type: 'click' });
    expect(captured.filter((a) => a['attr__id'] === 'private'), sdk).toEqual([]);
    const all = JSON.stringify(events);
    for (const secret of ['typed-secret', 'hunter2-secret', '4111']) expect(all, `${sdk} sent ${secret}`).not.toContain(secret);
  }
  // data-um-no-capture: the official SDK declares the attribute but does not check it; u.js does.
  expect(byType(r.umbeacon.events, '$autocapture').filter((e) => /private/.test(JSON.stringify(e)))).toEqual([]);
  const keysOf = (sdk: 'official' | 'umbeacon') =>
    byType(r[sdk].events, '$autocapture')
      .map((e) => e['autocapture_attributes'] as Record<string, unknown>)
      .filter((a) => a['attr__id'] !== 'private2')
      .map((a) => Object.keys(a).sort().join(','))
      .sort();
  expect(keysOf('umbeacon')).toEqual(keysOf('official'));
});

test('$form: the same attributes; no password, no card number, (u.js) no hidden input', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-form-tracking': 'all' });
    await run.page.click('#submit');
    await run.waitFor((e) => e['event_type'] === '$form');
  });
  expectParity(r);
  for (const { events, sdk } of Object.values(r)) {
    const [form] = byType(events, '$form');
    const a = form!['event_attributes'] as { fields: Record<string, unknown>[] } & Record<string, unknown>;
    expect(a, sdk).toMatchObject({ form_id: 'signup', form_name: 'signup', form_method: 'post', form_class: 'form', form_attributes: { umForm: '', plan: 'pro' } });
    const email = a.fields.find((f) => f['name'] === 'email');
    expect(email, sdk).toMatchObject({ tag: 'input', type: 'email', id: 'email', value: 'ada@example.com', name: 'email' });
    expect(a.fields.find((f) => f['name'] === 'card_number')?.['value'], sdk).toBe('<redacted>');
    const all = JSON.stringify(form);
    expect(all, sdk).not.toContain('hunter2-secret');
    expect(all, sdk).not.toContain('4111');
    const fieldKeys = (f: Record<string, unknown>) => Object.keys(f).sort();
    expect(fieldKeys(email!)).toEqual(['attributes', 'class', 'id', 'name', 'tag', 'type', 'value']);
  }
  // The official SDK lists the hidden input with its value; u.js never does.
  expect(JSON.stringify(byType(r.umbeacon.events, '$form'))).not.toContain('hidden-csrf-value');
});

test('$rage_click: three clicks in one spot within 2 s; none under um-no-capture', async ({ browser, stack, tag, baseUserAgent }) => {
  // The official SDK has no script-tag setting for rage clicks (only `rageClick` in its JS
  // config); u.js reads data-rage-click. Each runs the same clicks.
  const clicks = async (run: Run) => {
    await run.page.click('#plain', { clickCount: 1 });
    await run.page.click('#plain');
    await run.page.click('#plain');
    await run.page.click('#private');
    await run.page.click('#private');
    await run.page.click('#private');
  };
  const official = await runOne('official', { browser, stack, tag, baseUserAgent }, async (run) => {
    await run.page.goto(run.origin() + '/parity.html?sdk=none');
    await run.page.addScriptTag({ url: '/vendor/lib.js' });
    await run.page.evaluate((host) => {
      const client = (window as any).usermavenClient({ key: 'e2e-api-key', trackingHost: host, rageClick: true, autoPageview: false });
      (window as any).usermaven = (cmd: string, ...a: unknown[]) => client[cmd](...a);
    }, run.origin());
    await clicks(run);
  });
  const ours = await runOne('umbeacon', { browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open({ 'data-rage-click': 'true' });
    await clicks(run);
  });
  for (const { events, sdk } of [official, ours]) {
    const rage = byType(events, '$rage_click');
    expect(rage, sdk).toHaveLength(1);
    expect(rage[0]!['event_attributes'], sdk).toEqual({ no_of_clicks: 3, time: expect.stringMatching(/^\d+\.\d\d$/) });
  }
});
