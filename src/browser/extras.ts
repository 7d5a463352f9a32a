// The opt-in features of the npm package, wired from the client's options as x.js wires them
// from the tag's data-* attributes (src/tracker/extra/index.ts); loaded lazily by chunk.ts.
import { autocapture } from '../tracker/extra/autocapture.ts';
import { crossDomain } from '../tracker/extra/links.ts';
import { forms } from '../tracker/extra/forms.ts';
import { rageClicks } from '../tracker/extra/rage.ts';

type Track = (type: string, attributes: Record<string, unknown>) => unknown;

/** `track` is the client's (chunk.ts): this chunk shares no module with the app's main bundle. */
export const extras = (o: Record<string, any>, track: Track) => {
  o.autocapture && autocapture(track, !!o.maskAllText, !!o.maskAllElementAttributes);
  const f = o.formTracking;
  (f === true || f == 'all' || f == 'tagged') && forms(track, f == 'tagged');
  o.rageClick && rageClicks(track);
  o.domains && o.crossDomainLinking !== false && crossDomain(String(o.domains).split(',').map((d) => d.trim()));
};
