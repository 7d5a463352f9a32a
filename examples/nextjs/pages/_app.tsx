// The Pages Router's wrapper: the same analytics provider as the App Router's layout.
import type { AppProps } from 'next/app';
import { Analytics } from '../app/providers';

export default function App({ Component, pageProps }: AppProps) {
  return (
    <Analytics>
      <Component {...pageProps} />
    </Analytics>
  );
}
