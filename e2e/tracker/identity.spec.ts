import { ANON, UUID, expect, loaded, names, test } from './fixture.ts';

const anonIds = (events: { user?: { anonymous_id?: string } }[]) => [...new Set(events.map((e) => e.user?.anonymous_id))];
const cookieValue = async (context: import('@playwright/test').BrowserContext, name = ANON) =>
  (await context.cookies()).find((c) => c.name === name)?.value;

test('keeps the anonymous id across pages', async ({ page, context, site }) => {
  await page.goto(site.page('/one.html'));
  await site.expectEvents((e) => e.doc_path === '/one.html');
  await page.goto(site.page('/two.html'));
  const events = await site.expectEvents((e) => e.event_type === 'pageview', 2);
  expect(anonIds(events)).toEqual([await cookieValue(context)]);
  expect(anonIds(events)[0]).toMatch(UUID);
});

test("adopts the official tracker's __eventn_id_<key> cookie", async ({ page, context, site }) => {
  await context.addCookies([{ name: `${ANON}_e2ekey123`, value: 'k3j5h6g7f8', url: site.url('/') }]);
  // Another workspace's cookie is not this site's visitor.
  await context.addCookies([{ name: `${ANON}_otherkey`, value: 'other-visitor', url: site.url('/') }]);
  // The tag keeps the official snippet's data-key, which names the official cookie.
  await page.goto(site.page('/index.html', { 'data-key': 'e2ekey123' }));
  const [pv] = await site.expectEvents((e) => e.event_type === 'pageview');
  expect(pv!.user!.anonymous_id).toBe('k3j5h6g7f8');
  expect(await cookieValue(context)).toBe('k3j5h6g7f8');
});

test('uses the id the relay set with Set-Cookie', async ({ page, context, site }) => {
  const serverId = '0f0e0d0c-0b0a-4909-8807-060504030201';
  site.setCookie = `${ANON}=${serverId}; Path=/; Max-Age=34560000; SameSite=Lax`;
  await page.goto(site.page('/one.html'));
  await site.expectEvents((e) => e.doc_path === '/one.html');
  expect(await cookieValue(context)).toBe(serverId);
  await page.goto(site.page('/two.html'));
  const [pv] = await site.expectEvents((e) => e.doc_path === '/two.html');
  expect(pv!.user!.anonymous_id).toBe(serverId);
});

test('identify sends user_identify and marks later events, on later pages too', async ({ page, site }) => {
  await page.goto(site.page('/login.html'));
  await loaded(page);
  const user = { id: 'u-1', email: 'ada@example.com', first_name: 'Ada', created_at: '2024-01-02T03:04:05Z', custom: { role: 'admin' } };
  const company = { id: 'c-1', name: 'Acme', created_at: '2023-01-01T00:00:00Z', custom: { plan: 'pro' } };
  await page.evaluate(([u, c]) => window.usermaven.identify(u!, c), [user, company]);
  const [ident] = await site.expectEvents((e) => e.event_type === 'user_identify');
  const anonymous_id = ident!.user!.anonymous_id;
  expect(ident).toMatchObject({ user: { ...user, anonymous_id: expect.stringMatching(UUID) }, company, doc_path: '/login.html' });

  await page.goto(site.page('/app.html'));
  await loaded(page);
  await page.evaluate(() => window.usermaven.track('upgraded', { amount: 100 }));
  const [pv] = await site.expectEvents((e) => e.event_type === 'pageview' && e.doc_path === '/app.html');
  const [ev] = await site.expectEvents((e) => e.event_type === 'upgraded');
  for (const e of [pv, ev]) expect(e).toMatchObject({ user: { ...user, anonymous_id }, company });
});

const identifyForms = [
  { form: "usermaven('id', user) with user.company", call: () => window.usermaven('id', { id: 'u-2', company: { id: 'c-2', name: 'Beta' } }) },
  { form: 'usermaven.identify(user, company)', call: () => window.usermaven.identify({ id: 'u-2' }, { id: 'c-2', name: 'Beta' }) },
];
for (const { form, call } of identifyForms) {
  test(`takes the company from ${form}`, async ({ page, site }) => {
    await page.goto(site.page('/index.html'));
    await loaded(page);
    await page.evaluate(call);
    const [ident] = await site.expectEvents((e) => e.event_type === 'user_identify');
    // The user keeps what identify was given (the official SDK sends user.company as well).
    const { company: inside, ...user } = ident!.user!;
    expect(user).toEqual({ id: 'u-2', anonymous_id: expect.any(String) });
    expect([undefined, { id: 'c-2', name: 'Beta' }]).toContainEqual(inside);
    expect(ident!.company).toEqual({ id: 'c-2', name: 'Beta' });
  });
}

test('identify with true remembers the user without sending user_identify', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    window.usermaven('id', { id: 'u-3' }, true);
    window.usermaven.track('after');
  });
  const [ev] = await site.expectEvents((e) => e.event_type === 'after');
  expect(ev!.user).toMatchObject({ id: 'u-3' });
  expect(names(site.events())).not.toContain('user_identify');
});

test('group sends a group event and marks later events with the company', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    window.usermaven.group({ id: 'c-9', name: 'Gamma', created_at: '2024-01-01' });
    window.usermaven.track('after');
  });
  const events = await site.expectEvents((e) => e.event_type === 'group' || e.event_type === 'after', 2);
  for (const e of events) expect(e.company).toEqual({ id: 'c-9', name: 'Gamma', created_at: '2024-01-01' });
  // As the official SDK, group carries no event_attributes.
  expect(events.find((e) => e.event_type === 'group')).not.toHaveProperty('event_attributes');
});

test('group without id, name and created_at is refused alone, as the official SDK refuses it', async ({ page, site }) => {
  await page.goto(site.page('/index.html'));
  await loaded(page);
  await page.evaluate(() => {
    window.usermaven.group({ id: 'c-9', name: 'Gamma' } as never);
    window.usermaven.track('after');
  });
  const [ev] = await site.expectEvents((e) => e.event_type === 'after');
  expect(ev!.company).toEqual({});
  expect(names(site.events())).toEqual(['pageview', 'after']);
});

for (const { call, newVisitor } of [
  { call: 'reset()', newVisitor: false },
  { call: 'reset(true)', newVisitor: true },
]) {
  test(`${call} forgets user, company and super properties; ${newVisitor ? 'starts a new visitor' : 'keeps the visitor'}`, async ({ page, context, site }) => {
    await page.goto(site.page('/index.html'));
    await loaded(page);
    await page.evaluate(() => {
      window.usermaven.identify({ id: 'u-4', email: 'x@y.zz' }, { id: 'c-4' });
      window.usermaven.set({ plan: 'pro' });
    });
    const [ident] = await site.expectEvents((e) => e.event_type === 'user_identify');
    await page.evaluate((fresh) => window.usermaven.reset(fresh), newVisitor);
    await page.goto(site.page('/next.html'));
    const [pv] = await site.expectEvents((e) => e.doc_path === '/next.html');
    expect(pv!.user).toEqual({ anonymous_id: expect.stringMatching(UUID) });
    expect(pv!.company).toEqual({});
    expect(pv).not.toHaveProperty('plan');
    expect(pv!.user!.anonymous_id === ident!.user!.anonymous_id).toBe(!newVisitor);
    expect(await cookieValue(context)).toBe(pv!.user!.anonymous_id);
  });
}

for (const { visitor, official } of [
  { visitor: 'a visitor of its own', official: false },
  { visitor: "a visitor adopted from the official SDK's cookie", official: true },
]) {
  test(`reset(true) is not undone by the answer to a batch sent before it (${visitor})`, async ({ page, context, site }) => {
    if (official) await context.addCookies([{ name: `${ANON}_e2ekey123`, value: 'k3j5h6g7f8', url: site.url('/') }]);
    await page.goto(site.page('/index.html', { 'data-key': 'e2ekey123' }));
    const [pv] = await site.expectEvents((e) => e.event_type === 'pageview');
    const old = pv!.user!.anonymous_id!;
    if (official) expect(old).toBe('k3j5h6g7f8');
    await page.evaluate(() => window.usermaven.reset(true));
    const fresh = await cookieValue(context);
    expect(fresh).not.toBe(old);
    // What the relay's late answer to the pageview's beacon does: Set-Cookie with the old id.
    await context.addCookies([{ name: ANON, value: old, url: site.url('/') }]);
    await page.evaluate(() => window.usermaven.track('after_reset'));
    const [after] = await site.expectEvents((e) => e.event_type === 'after_reset');
    expect(after!.user!.anonymous_id).toBe(fresh);
    expect(await cookieValue(context)).toBe(fresh);
    // And on the next page.
    await page.goto(site.page('/next.html', { 'data-key': 'e2ekey123' }));
    const [next] = await site.expectEvents((e) => e.doc_path === '/next.html');
    expect(next!.user!.anonymous_id).toBe(fresh);
  });
}

// Blocked storage, as Chrome's "block all cookies" and sandboxed frames do it: access
// throws a SecurityError; or, as some privacy tools do it, writes silently vanish.
const blocked = [
  {
    name: 'cookies throw',
    init: () => {
      const deny = () => { throw new DOMException('blocked', 'SecurityError'); };
      Object.defineProperty(Document.prototype, 'cookie', { get: deny, set: deny, configurable: true });
    },
    keepsId: true,
  },
  {
    name: 'cookie writes vanish',
    init: () => Object.defineProperty(Document.prototype, 'cookie', { get: () => '', set: () => {}, configurable: true }),
    keepsId: true,
  },
  {
    name: 'cookies and localStorage throw',
    init: () => {
      const deny = () => { throw new DOMException('blocked', 'SecurityError'); };
      Object.defineProperty(Document.prototype, 'cookie', { get: deny, set: deny, configurable: true });
      Object.defineProperty(window, 'localStorage', { get: deny, configurable: true });
    },
    keepsId: false,
  },
];
for (const { name, init, keepsId } of blocked) {
  test(`works when ${name}`, async ({ page, context, site }) => {
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await context.addInitScript(init);
    await page.goto(site.page('/one.html'));
    await loaded(page);
    await page.evaluate(() => {
      window.usermaven.identify({ id: 'u-5' });
      window.usermaven.track('clicked');
    });
    const first = await site.expectEvents((e) => e.doc_path === '/one.html', 3);
    expect(names(first)).toEqual(['pageview', 'user_identify', 'clicked']);
    expect(anonIds(first)).toEqual([expect.stringMatching(UUID)]);
    expect(first[2]!.user).toMatchObject({ id: 'u-5' });
    await page.goto(site.page('/two.html'));
    const [second] = await site.expectEvents((e) => e.doc_path === '/two.html');
    if (keepsId) expect(second!.user).toEqual({ id: 'u-5', anonymous_id: first[0]!.user!.anonymous_id });
    else expect(second!.user).toEqual({ anonymous_id: expect.stringMatching(UUID) });
    expect(errors).toEqual([]);
  });
}

test('makes UUIDs without crypto.randomUUID (plain http on a LAN host)', async ({ page, context, site }) => {
  await context.addInitScript(() => { delete (Crypto.prototype as any).randomUUID; });
  await page.goto(site.page('/index.html'));
  await page.evaluate(() => window.usermaven.track('second'));
  const events = await site.expectEvents(() => true, 2);
  expect(await page.evaluate(() => typeof crypto.randomUUID)).toBe('undefined');
  for (const e of events) {
    expect(e.event_id).toMatch(UUID);
    expect(e.user!.anonymous_id).toMatch(UUID);
  }
  expect(events[0]!.event_id).not.toBe(events[1]!.event_id);
});
