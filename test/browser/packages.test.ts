/**
 * umbeacon/browser, umbeacon/react and umbeacon/next as an app's server imports them (the built
 * dist/app/, through package.json `exports`): the official packages' exports, server rendering
 * that neither throws nor sends, and middlewareEnv keeping the relay's one visitor cookie.
 * In the browser they are proven in Chromium (e2e/packages/, test/examples/nextjs.test.ts).
 */
import { createElement, type ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { NextRequest, NextResponse } from 'next/server';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COOKIE_MAX_AGE_S, UUID_RE, visitorCookie } from '../../src/shared/visitor-id.ts';
import { buildIfStale } from '../support/cli-process.mjs';

type Mod = Record<string, any>;
let browser: Mod, react: Mod, next: Mod;
beforeAll(async () => {
  buildIfStale(['dist/app/browser.js', 'dist/app/react.js', 'dist/app/next.js']);
  [browser, react, next] = await Promise.all([import('umbeacon/browser'), import('umbeacon/react'), import('umbeacon/next')]);
}, 120_000);

const options = { key: 'k', trackingHost: 'https://www.example.com' };
const METHODS = ['id', 'track', 'lead', 'rawTrack', 'group', 'pageview', 'getConfig', 'getLogger', 'reset', 'set', 'setUserId', 'unset', 'getCookie'];

describe('exports', () => {
  it.each([
    ['umbeacon/react', '@usermaven/react', () => react],
    ['umbeacon/next', '@usermaven/nextjs', () => next],
    ['umbeacon/browser', '@usermaven/sdk-js', () => browser],
  ])('%s exports what %s exports (its functions and components)', async (_, official, ours) => {
    const theirs = (await import(official)) as Mod;
    // (sdk-js also exports its client class and its log-level enum, which apps do not construct.)
    const names = Object.keys(theirs).filter((k) => theirs[k] !== undefined && !['default', 'UsermavenClient', 'LogLevel'].includes(k));
    expect(names.filter((k) => !(k in ours())), 'missing').toEqual([]);
    for (const k of names) expect(typeof ours()[k], k).toBe(typeof theirs[k]);
  });

  it("the client has the official UsermavenClient's public methods", () => {
    const client = browser['usermavenClient'](options);
    expect(METHODS.filter((m) => typeof client[m] != 'function')).toEqual([]);
  });
});

it("umbeacon/next under the react-server condition (Next's proxy, Server Components): middlewareEnv and a null createClient, without React", async () => {
  const exports = JSON.parse(readFileSync('package.json', 'utf8')).exports['./next'];
  expect(Object.keys(exports)).toEqual(['types', 'react-server', 'default']);
  const server = (await import(`../../${exports['react-server']}`)) as Mod;
  expect(Object.keys(server).sort()).toEqual(['createClient', 'middlewareEnv']);
  expect(server['createClient']({ key: 'k' })).toBeNull();
  // Next refuses React's client APIs (createContext, hooks) in that graph: nothing may import React.
  const graph = (file: string, seen = new Set<string>()): string[] => {
    if (seen.has(file)) return [];
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    return [src, ...[...src.matchAll(/from\s*"(\.\/[^"]+)"/g)].flatMap((m) => graph(join(dirname(file), m[1]!), seen))];
  };
  expect(graph(exports['react-server']).filter((src) => /from\s*"react"/.test(src))).toEqual([]);
});

describe('on a server (no window)', () => {
  const page = (hooks: () => void) => {
    const Page = () => (hooks(), createElement('h1', null, 'ok'));
    return createElement(Page);
  };
  const render = (mod: Mod, client: unknown, hooks: () => void) =>
    renderToString(createElement(mod['UsermavenProvider'], { client }, page(hooks) as ReactNode));

  it('umbeacon/next: createClient is null, useUsermaven a client that does nothing, usePageView a no-op', () => {
    const client = next['createClient'](options);
    expect(client).toBeNull();
    let um: Mod = {};
    const html = render(next, client, () => {
      um = next['useUsermaven']();
      next['usePageView'](client);
    });
    expect(html).toBe('<h1>ok</h1>');
    expect(METHODS.filter((m) => m.startsWith('get') || typeof um[m] == 'function').length).toBe(METHODS.length);
    expect(() => (um['track']('x'), um['id']({ id: '1' }), um['trackPageView']())).not.toThrow();
  });

  it('umbeacon/react: createClient gives a client that does nothing; the provider, useUsermaven and usePageView render', () => {
    const client = react['createClient'](options);
    expect(() => client.track('x', { a: 1 })).not.toThrow();
    expect(client.getConfig()).toEqual({});
    const html = render(react, client, () => {
      react['usePageView']();
      react['useUsermaven']().track('during_render');
    });
    expect(html).toBe('<h1>ok</h1>');
  });

  it('umbeacon/react: useUsermaven outside a provider throws, as the official hook does', () => {
    expect(() => renderToString(page(() => react['useUsermaven']()))).toThrow(/UsermavenProvider/);
  });
});

describe('middlewareEnv (umbeacon/next)', () => {
  const request = (url: string, headers: Record<string, string> = {}) => new NextRequest(url, { headers });

  it("returns the visitor's __eventn_id and sets nothing when the request has one", () => {
    const res = NextResponse.next();
    const id = '0b5f3a52-2a11-4e43-9a59-1b3c1d5e7f90';
    expect(next['middlewareEnv'](request('https://www.example.com/', { cookie: `a=1; __eventn_id=${id}` }), res).getAnonymousId({ name: '__eventn_id' })).toBe(id);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('gives a new visitor a UUID in the cookie the relay sets: 400 days, Lax, Secure on https, the Domain rule', () => {
    const res = NextResponse.next();
    const id = next['middlewareEnv'](request('https://www.example.com/p'), res).getAnonymousId({ name: '__eventn_id', domain: 'example.com' });
    expect(id).toMatch(UUID_RE);
    const set = res.headers.get('set-cookie')!;
    expect(set).toContain(`__eventn_id=${id}`);
    expect(set).toMatch(/Domain=example\.com/i);
    expect(set).toContain(`Max-Age=${COOKIE_MAX_AGE_S}`);
    expect(set).toMatch(/SameSite=lax/i);
    expect(set).toMatch(/Secure/i);
  });

  it('a Domain the host is not under gives a host-only cookie; a plain Response gets the relay’s own Set-Cookie line', () => {
    const res = new Response();
    const id = next['middlewareEnv'](request('http://shop.test/p', { host: 'shop.test' }), res).getAnonymousId({ name: '__eventn_id', domain: 'example.com' });
    expect(res.headers.get('set-cookie')).toBe(visitorCookie(id, { secure: false }));
  });

  it('disableCookies reads and writes nothing; getSourceIp and describeClient read the request', () => {
    const res = NextResponse.next();
    const env = next['middlewareEnv'](request('https://www.example.com/a?b=1', { 'x-forwarded-for': '203.0.113.9, 10.0.0.1', 'user-agent': 'UA', 'accept-language': 'de-DE,de' }), res, { disableCookies: true });
    expect(env.getAnonymousId({ name: '__eventn_id' })).toBe('');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(env.getSourceIp()).toBe('203.0.113.9');
    expect(env.describeClient()).toMatchObject({ url: 'https://www.example.com/a?b=1', doc_host: 'www.example.com', doc_path: '/a', doc_search: '?b=1', user_agent: 'UA', user_language: 'de-DE' });
  });
});
