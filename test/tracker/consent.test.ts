import { afterEach, describe, expect, it, vi } from 'vitest';

interface Case {
  attrs?: Record<string, string>;
  nav?: { webdriver?: boolean; doNotTrack?: string; globalPrivacyControl?: boolean };
  stored?: 0 | 1;
}

const allowedFor = async ({ attrs = {}, nav = {}, stored }: Case) => {
  vi.resetModules();
  vi.stubGlobal('document', { currentScript: { dataset: attrs, src: 'https://s.example/u.js' } });
  vi.stubGlobal('location', { href: 'https://s.example/' });
  vi.stubGlobal('navigator', nav);
  const ls = new Map<string, string>(stored === undefined ? [] : [['um_x', String(stored)]]);
  vi.stubGlobal('localStorage', { getItem: (k: string) => ls.get(k) ?? null, setItem: (k: string, v: string) => void ls.set(k, v) });
  const consent = await import('../../src/tracker/consent.ts');
  return { allowed: !!consent.allowed(), consent, ls };
};

afterEach(() => vi.unstubAllGlobals());

const dnt = { doNotTrack: '1' };
const gpc = { globalPrivacyControl: true };
const cases: [string, Case, boolean][] = [
  ['a plain visit', {}, true],
  ['automation', { nav: { webdriver: true } }, false],
  ['automation with data-allow-automation', { nav: { webdriver: true }, attrs: { allowAutomation: 'true' } }, true],
  ['automation that opted in', { nav: { webdriver: true }, stored: 1 }, false],
  ['an opt-out', { stored: 0 }, false],
  ['an opt-out under data-require-consent', { stored: 0, attrs: { requireConsent: 'true' } }, false],
  ['data-require-consent before consent', { attrs: { requireConsent: 'true' } }, false],
  ['data-require-consent after consent', { attrs: { requireConsent: 'true' }, stored: 1 }, true],
  ['DNT without data-respect-dnt', { nav: dnt }, true],
  ['DNT with data-respect-dnt', { nav: dnt, attrs: { respectDnt: 'true' } }, false],
  ['DNT "0" with data-respect-dnt', { nav: { doNotTrack: '0' }, attrs: { respectDnt: 'true' } }, true],
  ['GPC with data-respect-dnt', { nav: gpc, attrs: { respectDnt: 'true' } }, false],
  ['GPC with data-respect-dnt and an explicit opt-in', { nav: gpc, attrs: { respectDnt: 'true' }, stored: 1 }, true],
];

describe('allowed', () => {
  it.each(cases)('%s → %s', async (_, c, expected) => {
    expect((await allowedFor(c)).allowed).toBe(expected);
  });

  it('reads the stored choice (consent() in api.ts stores 1 or 0)', async () => {
    const { consent, ls } = await allowedFor({ attrs: { requireConsent: 'true' } });
    ls.set('um_x', '1');
    expect(!!consent.allowed()).toBe(true);
    ls.set('um_x', '0');
    expect(!!consent.allowed()).toBe(false);
  });
});
