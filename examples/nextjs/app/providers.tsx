'use client';
// The analytics of the app, as Usermaven's setup wizard writes them for @usermaven/nextjs,
// with `umbeacon/next` in place of the official import. A client module: the provider and the
// hooks run in the browser; on the server createClient is null and the hooks do nothing.
import { useEffect, type ReactNode } from 'react';
import { createClient, UsermavenProvider, usePageView, useUsermaven } from 'umbeacon/next';

// trackingHost: this app's own origin, where the relay's catch-all route takes the events
// (/u/e). On the server there is no window: createClient returns null.
const usermaven = createClient({
  key: process.env.NEXT_PUBLIC_USERMAVEN_KEY ?? 'your-key',
  trackingHost: typeof window == 'undefined' ? '' : location.origin,
});

function PageViews() {
  // One pageview per route change, App Router and Pages Router alike.
  usePageView(usermaven);
  // For the test: the hook's client, as a component would use it.
  const um = useUsermaven();
  useEffect(() => {
    (window as { um?: unknown }).um = um;
  }, [um]);
  return null;
}

export function Analytics({ children }: { children: ReactNode }) {
  return (
    <UsermavenProvider client={usermaven}>
      <PageViews />
      {children}
    </UsermavenProvider>
  );
}
