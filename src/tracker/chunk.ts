import { ENDPOINT, data } from './config.ts';

/**
 * The opt-in features (`$autocapture`, `$form`, `$rage_click`, cross-domain links) live in
 * a second script, `x.js` next to the collect path (`/u/x.js`), which the relay serves and
 * which only pages that turn one on load: a default page pays nothing for them. It gets the
 * tag's data-* attributes, so it reads the same settings (src/tracker/extra/).
 */
export const loadExtras = () => {
  // Any of their attributes loads the chunk, which then reads their values (`"false"` too).
  (data.autocapture || data.formTracking || data.rageClick || data.domains) &&
    // (map over the one element: no local, so start() takes it in without a wrapper function)
    [document.createElement('script')].map((s) => {
      Object.assign(s.dataset, data);
      s.src = new URL('x.js', ENDPOINT) as any; // (the DOM takes the URL as its string)
      document.head.append(s);
    });
};
