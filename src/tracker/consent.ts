import { ALLOW_AUTOMATION, REQUIRE_CONSENT, RESPECT_DNT } from './config.ts';
import { CONSENT, load } from './store.ts';

/**
 * Whether events may be sent (and the cookie written) now. Not on a browser marked as
 * internal traffic with `localStorage.um_exclusion` (any value but "false"), as the official
 * SDK skips it. Automation
 * (`navigator.webdriver`: Selenium, Puppeteer, Playwright, headless crawlers) never sends
 * unless the tag allows it. A stored opt-out always wins; a stored opt-in overrides
 * `data-require-consent` and, being an explicit choice, a Do-Not-Track / Global Privacy
 * Control signal honoured with `data-respect-dnt`.
 */
export const allowed = () => {
  const n = navigator as Navigator & { globalPrivacyControl?: boolean };
  const c = load(CONSENT);
  let x;
  try {
    x = localStorage.um_exclusion;
  } catch {
    // storage blocked: no exclusion can be set either
  }
  return (
    c !== 0 &&
    (x ?? 'false') == 'false' &&
    (!n.webdriver || ALLOW_AUTOMATION) &&
    (c || !(REQUIRE_CONSENT || (RESPECT_DNT && (n.doNotTrack == '1' || n.globalPrivacyControl))))
  );
};
