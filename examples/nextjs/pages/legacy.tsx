import Head from 'next/head';
import Link from 'next/link';

export default function Legacy() {
  return (
    <main>
      <Head>
        <title>Legacy</title>
      </Head>
      <h1>Pages Router</h1>
      <Link id="to-legacy-two" href="/legacy-two">Next page</Link>
    </main>
  );
}
