// A small React app for the package specs and the bundle-size budget: four pages and a
// history-based router, no analytics. with-analytics.ts adds the analytics as an app adds the
// official @usermaven/react (esbuild swaps the import for the oracle run); plain.ts is the same
// app without it, the baseline of the size budget (build.mjs --check-size).
import { createElement as h, useEffect, useState, type ReactNode } from 'react';

export const PAGES: Record<string, string> = { '/apps/index.html': 'Home', '/apps/pricing': 'Pricing', '/apps/docs': 'Docs', '/apps/account': 'Account' };

/** A link that navigates with pushState, as router libraries do. */
const Link = ({ to, children }: { to: string; children?: ReactNode }) =>
  h(
    'a',
    {
      href: to,
      id: 'to-' + (to.split('/')[2] || 'home'),
      onClick: (e: { preventDefault(): void }) => {
        e.preventDefault();
        history.pushState(null, '', to);
        dispatchEvent(new PopStateEvent('popstate'));
      },
    },
    children,
  );

export function App({ children }: { children?: ReactNode }) {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  const title = PAGES[path] ?? 'Home';
  useEffect(() => {
    document.title = title;
  }, [title]);
  return h('main', null, h('nav', null, ...Object.entries(PAGES).map(([to, name]) => h(Link, { to, key: to }, name))), h('h1', null, title), h('button', { id: 'buy', className: 'btn primary' }, 'Buy now'), children);
}
