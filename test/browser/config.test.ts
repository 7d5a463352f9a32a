/**
 * The npm package runs the tracker's modules with src/browser/config.ts in place of the tag's
 * src/tracker/config.ts (build.mjs): the two must export the same settings, read by the same
 * rules. A setting the tag gains and the package lacks fails test:types here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as pkg from '../../src/browser/config.ts';

// The tag's module reads document.currentScript when it loads, so only its type is imported.
type Tag = typeof import('../../src/tracker/config.ts');
// Every export of the tag's config is in the package's, with a type the tracker's modules accept.
void (pkg satisfies Tag);

const g = globalThis as { location?: unknown };
afterEach(() => {
  delete g.location;
});

describe('umbeacon/browser settings (src/browser/config.ts)', () => {
  it('posts to /u/e on trackingHost, with the policies in the query as the tag sends them', () => {
    pkg.configure({ key: 'k1', trackingHost: 'https://relay.example', privacy_policy: 'strict', namespace: 'app' });
    expect(pkg.ENDPOINT.href).toBe('https://relay.example/u/e?cookie_policy=strict&ip_policy=strict');
    expect(pkg.COOKIELESS).toBe(true);
    expect([pkg.KEY, pkg.NS, pkg.AUTO_PAGEVIEW]).toEqual(['k1', 'app', true]);
  });

  it("takes an endpoint like data-endpoint, and ignores Usermaven's own host for the page's origin", () => {
    g.location = { href: 'https://www.example.com/pricing' };
    pkg.configure({ key: 'k', trackingHost: 'https://events.usermaven.com', endpoint: '/m/in', cookiePolicy: 'keep', ipPolicy: 'comply' });
    expect(pkg.ENDPOINT.href).toBe('https://www.example.com/m/in?ip_policy=comply');
    expect(pkg.COOKIELESS).toBe(false);
  });

  it('reads the official options: autoPageview, propertyBlacklist (array or string), logLevel, cookieDomain, and umbeacon’s consent switches', () => {
    pkg.configure({ key: 'k', trackingHost: 'https://r.example', autoPageview: false, propertyBlacklist: ['a', 'b'], logLevel: 'DEBUG', cookie_domain: 'example.com', requireConsent: true, respectDnt: true, allowAutomation: true });
    expect([pkg.AUTO_PAGEVIEW, pkg.BLACKLIST, pkg.DEBUG, pkg.COOKIE_DOMAIN, pkg.REQUIRE_CONSENT, pkg.RESPECT_DNT, pkg.ALLOW_AUTOMATION]).toEqual([false, ['a', 'b'], true, 'example.com', true, true, true]);
    pkg.configure({ key: 'k', trackingHost: 'https://r.example', property_blacklist: 'x,y' });
    expect([pkg.AUTO_PAGEVIEW, pkg.BLACKLIST, pkg.DEBUG, pkg.REQUIRE_CONSENT]).toEqual([true, ['x', 'y'], false, false]);
  });

  it('forcePageview turns the automatic pageview on for one call only', () => {
    pkg.configure({ key: 'k', trackingHost: 'https://r.example', autoPageview: false });
    const seen: boolean[] = [];
    pkg.forcePageview(() => seen.push(pkg.AUTO_PAGEVIEW));
    expect([seen, pkg.AUTO_PAGEVIEW]).toEqual([[true], false]);
  });

  it('holdPageviews turns the automatic pageview off until released, then back to the option', () => {
    const held = (autoPageview: boolean) => {
      pkg.configure({ key: 'k', trackingHost: 'https://r.example', autoPageview });
      pkg.holdPageviews(true);
      const during = pkg.AUTO_PAGEVIEW;
      pkg.holdPageviews(false);
      return [during, pkg.AUTO_PAGEVIEW];
    };
    expect([held(true), held(false)]).toEqual([[false, true], [false, false]]);
  });
});
