// The root layout: the usermaven stub first (so calls made before u.js loads are queued),
// then the tracker, served by the relay's catch-all route from this app's own origin.
import Script from 'next/script';
import type { ReactNode } from 'react';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Script id="um-stub" strategy="beforeInteractive">
          {`window.usermaven=window.usermaven||function(){(window.usermavenQ=window.usermavenQ||[]).push(arguments)}`}
        </Script>
        <Script src="/u/s.js" strategy="afterInteractive" />
        {children}
      </body>
    </html>
  );
}
