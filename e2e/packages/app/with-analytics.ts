// The app with analytics, written as @usermaven/react's README shows it. `umbeacon/react` is
// the import under test; the oracle run bundles the same file with `@usermaven/react` in its
// place (e2e/packages/bundle.ts). The hook's client is put on window for the spec to call.
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient, UsermavenProvider, usePageView, useUsermaven } from 'umbeacon/react';
import { App } from './pages.ts';

// umbeacon skips browsers driven by automation unless told (allowAutomation); the official
// ignores the option. `?auto=false` turns the client's own route tracking off (autoPageview),
// `?autocapture` turns autocapture on.
const q = location.search;
const usermaven = createClient({ key: 'e2e-api-key', trackingHost: location.origin, allowAutomation: true, autoPageview: !q.includes('auto=false'), autocapture: q.includes('autocapture') });

function Analytics() {
  usePageView();
  (window as { um?: unknown }).um = useUsermaven();
  return null;
}

createRoot(document.getElementById('root')!).render(h(UsermavenProvider, { client: usermaven }, h(App, null, h(Analytics))));
