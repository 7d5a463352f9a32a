// The opt-in features of the npm package, wired from the client's options as x.js wires them
// from the tag's data-* attributes (src/tracker/extra/index.ts); loaded lazily by chunk.ts.
import { run } from '../tracker/api.ts';
import { autocapture } from '../tracker/extra/autocapture.ts';
import { crossDomain } from '../tracker/extra/links.ts';
import { forms } from '../tracker/extra/forms.ts';
import { rageClicks } from '../tracker/extra/rage.ts';

/** Sent like a client's `track()`, so consent, exclusion, super properties and the outbox apply. */
const track = (type: string, attributes: Record<string, unknown>) => run(['track', type, attributes]);

export const extras = (o: Record<string, any>) => {
  o.autocapture && autocapture(track, !!o.maskAllText, !!o.maskAllElementAttributes);
  const f = o.formTracking;
  (f === true || f == 'all' || f == 'tagged') && forms(track, f == 'tagged');
  o.rageClick && rageClicks(track);
  o.domains && o.crossDomainLinking !== false && crossDomain(String(o.domains).split(',').map((d) => d.trim()));
};
