/**
 * Every command of the official snippet, run with the official SDK and with u.js through the
 * relay: the same events reach Usermaven, with the same keys and the same user, company and
 * super properties.
 */
import { expect, test } from '../support/test.ts';
import { expectParity, runBoth } from './parity.ts';

const byType = (events: Record<string, unknown>[], type: string) => events.filter((e) => e['event_type'] === type);

test('track, lead, rawTrack, set/unset (global and per event type), setUserId, pageview', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.waitFor((e) => e['event_type'] === 'pageview');
    await run.call('set', { plan: 'pro', seats: 3 });
    await run.call('set', { coupon: 'SPRING' }, { eventType: 'signup' });
    await run.call('unset', 'seats');
    await run.call('track', 'signup', { step: 2, source: 'hero' });
    await run.call('track', 'other');
    await run.call('lead', { email: '  ada@example.com ', name: 'Ada' });
    await run.call('rawTrack', { raw_field: 1 });
    await run.call('setUserId', 'user-9');
    await run.call('track', 'after_user');
    await run.call('pageview');
  });
  expectParity(r);
  for (const { events } of Object.values(r)) {
    const [signup] = byType(events, 'signup');
    expect(signup).toMatchObject({ plan: 'pro', coupon: 'SPRING', event_attributes: { step: 2, source: 'hero' } });
    expect(signup).not.toHaveProperty('seats');
    expect(byType(events, 'other')[0]).not.toHaveProperty('coupon');
    expect(byType(events, 'lead')[0]).toMatchObject({ event_attributes: { email: 'ada@example.com', name: 'Ada' } });
    expect(byType(events, 'raw')[0]).toMatchObject({ event_attributes: { raw_field: 1 } });
    expect(byType(events, 'after_user')[0]).toMatchObject({ user: { id: 'user-9' } });
  }
});

test('id with a company, id with doNotSendEvent, group: the same user and company on later events', async ({ browser, stack, tag, baseUserAgent }) => {
  const user = { id: 'u-1', email: 'ada@example.com', first_name: 'Ada', created_at: '2024-01-02T03:04:05Z', custom: { role: 'admin' } };
  const company = { id: 'c-1', name: 'Acme', created_at: '2023-01-01T00:00:00Z', custom: { plan: 'pro' } };
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.call('id', { ...user, company });
    await run.call('track', 'as_user');
    await run.call('id', { id: 'u-2', email: 'bob@example.com' }, true);
    await run.call('track', 'as_second_user');
    await run.call('group', { id: 'c-2', name: 'Beta', created_at: '2023-02-02T00:00:00Z' });
    await run.call('track', 'in_group');
  });
  expectParity(r);
  for (const { events } of Object.values(r)) {
    expect(byType(events, 'user_identify')).toHaveLength(1);
    const strip = (u: unknown) => ({ ...(u as object), anonymous_id: undefined });
    expect(strip(byType(events, 'as_user')[0]!['user'])).toEqual(strip({ ...user, company }));
    expect(byType(events, 'as_user')[0]!['company']).toEqual(company);
    expect(byType(events, 'as_second_user')[0]).toMatchObject({ user: { id: 'u-2', email: 'bob@example.com' } });
    expect(byType(events, 'in_group')[0]!['company']).toEqual({ id: 'c-2', name: 'Beta', created_at: '2023-02-02T00:00:00Z' });
  }
});

test('a call the official SDK refuses is refused alone: later events still arrive', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    for (const bad of [
      ['id', { id: 42 }],
      ['id', { id: 'u-3', email: 'not-an-address' }],
      ['lead', { email: 'nope' }],
      ['group', { id: 'c-3' }],
      ['track', 42],
    ]) await run.call(...bad).catch(() => {});
    await run.call('track', 'still_here', { n: 1 });
  });
  expectParity(r);
  for (const { events } of Object.values(r)) {
    expect(byType(events, 'still_here')).toHaveLength(1);
    expect(byType(events, 'user_identify')).toEqual([]);
    expect(byType(events, 'lead')).toEqual([]);
    expect(byType(events, 'group')).toEqual([]);
    expect(byType(events, 'still_here')[0]!['user']).toEqual({ anonymous_id: expect.any(String) });
  }
});

test('reset() keeps the visitor, reset(true) starts a new one; both forget the user', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.call('id', { id: 'u-5' });
    await run.call('set', { plan: 'pro' });
    await run.call('track', 'before');
    await run.call('reset');
    await run.call('track', 'after_reset');
    await run.call('reset', true);
    await run.call('track', 'after_reset_true');
  });
  expectParity(r);
  for (const [sdk, { events }] of Object.entries(r)) {
    const anon = (type: string) => (byType(events, type)[0]!['user'] as { anonymous_id: string }).anonymous_id;
    expect(anon('after_reset'), sdk).toBe(anon('before'));
    expect(anon('after_reset_true'), sdk).not.toBe(anon('before'));
    expect(byType(events, 'after_reset')[0]!['user']).toEqual({ anonymous_id: anon('before') });
    expect(byType(events, 'after_reset')[0]).not.toHaveProperty('plan');
  }
});

test('onLoad runs its callback, getConfig answers with the key, data-namespace renames the global', async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth(
    { browser, stack, tag, baseUserAgent },
    async (run) => {
      await run.page.goto('about:blank');
      await run.open({}, { ns: 'shop' });
      const loaded = await run.page.evaluate(
        () => new Promise((ok) => (window as any).shop('onLoad', () => ok((window as any).shop.getConfig()?.key))),
      );
      expect(loaded).toBe('e2e-api-key');
      await run.call('track', 'named');
    },
    'shop',
  );
  expectParity(r);
  for (const { events } of Object.values(r)) expect(byType(events, 'named')[0]).toMatchObject({ namespace: 'shop' });
});

test("the function form forwards the official client's other public methods: getCookie, getLogger, mergeConfig, init", async ({ browser, stack, tag, baseUserAgent }) => {
  const r = await runBoth({ browser, stack, tag, baseUserAgent }, async (run) => {
    await run.open();
    await run.waitFor((e) => e['event_type'] === 'pageview');
    const got = await run.page.evaluate(() => {
      document.cookie = 'plan=pro; path=/';
      const um = (window as any).usermaven;
      const logger = um('getLogger');
      return {
        cookie: um('getCookie', 'plan'),
        none: um('getCookie', 'no_such_cookie'),
        logger: ['debug', 'info', 'warn', 'error'].map((level) => typeof logger?.[level]),
        merged: um('mergeConfig', { a: 1, c: 3 }, { a: 0, b: 2 }),
        init: um('init', um('getConfig')) ?? null,
      };
    });
    expect(got, run.sdk).toEqual({ cookie: 'pro', none: null, logger: ['function', 'function', 'function', 'function'], merged: { a: 1, b: 2, c: 3 }, init: null });
    await run.call('track', 'after_init');
    await run.waitFor((e) => e['event_type'] === 'after_init');
  });
  expectParity(r);
});
