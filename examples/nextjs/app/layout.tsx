// The root layout of the App Router: every page inside the analytics provider (providers.tsx).
// The relay runs in this same server (the catch-all route app/u/[...path]), so events are
// first-party; the Pages Router pages (pages/) get the same provider in pages/_app.tsx.
import type { ReactNode } from 'react';
import { Analytics } from './providers';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Analytics>{children}</Analytics>
      </body>
    </html>
  );
}
