import Head from 'next/head';

export default function LegacyTwo() {
  return (
    <main>
      <Head>
        <title>Legacy two</title>
      </Head>
      <h1>Pages Router, second page</h1>
    </main>
  );
}
