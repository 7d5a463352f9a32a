import Link from 'next/link';

export const metadata = { title: 'Home' };

export default function Home() {
  return (
    <main>
      <h1>Next.js + umbeacon</h1>
      <Link id="to-about" href="/about">About</Link> <a id="to-legacy" href="/legacy">Pages Router</a>
    </main>
  );
}
