export default function Home() {
  return <h1>Next.js + umbeacon</h1>;
}
