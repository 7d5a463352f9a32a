import { run } from '../tracker/api.ts';
import { data } from './config.ts';

/**
 * The opt-in features (`$autocapture`, `$form`, `$rage_click`, cross-domain links), for the
 * npm package: the modules of x.js (src/tracker/extra/), loaded with a dynamic `import()` only
 * when an option turns one on, so an app's bundler puts them in a chunk of their own that a
 * default app never loads. Takes the place of src/tracker/chunk.ts, which loads x.js from the
 * relay for the script tag, in the package's build (build.mjs).
 */
/** Sent like a client's `track()`, so consent, exclusion, super properties and the outbox apply. */
const track = (type: string, attributes: Record<string, unknown>) => run(['track', type, attributes]);

export const loadExtras = () => {
  const o = data;
  if (o.autocapture || (o.formTracking && o.formTracking != 'none') || o.rageClick || o.domains) import('./extras.ts').then((m) => m.extras(o, track), () => {});
};
