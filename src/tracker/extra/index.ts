// x.js: the opt-in features, loaded by u.js (src/tracker/chunk.ts) only when the tag turns
// one on. It reads the tag's data-* attributes, which u.js copied onto this script, and
// sends through the page's `usermaven` global, so consent, exclusion, super properties and
// the outbox apply as to any call.
import { autocapture } from './autocapture.ts';
import { crossDomain } from './links.ts';
import { forms } from './forms.ts';
import { rageClicks } from './rage.ts';

const data = (document.currentScript as HTMLScriptElement | null)?.dataset || {};
const um = (window as any)[data.namespace || 'usermaven'];
const track = (type: string, attributes: Record<string, unknown>) => um?.('track', type, attributes);

data.autocapture == 'true' && autocapture(track, data.maskAllText == 'true', data.maskAllElementAttributes == 'true');
const f = data.formTracking;
(f == 'true' || f == 'all' || f == 'tagged') && forms(track, f == 'tagged');
data.rageClick != null && data.rageClick != 'false' && rageClicks(track);
data.domains && data.crossDomainLinking != 'false' && crossDomain(data.domains.split(',').map((d) => d.trim()));
