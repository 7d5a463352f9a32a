#!/usr/bin/env node
// The tracker's script time in Chromium: u.js against the official Usermaven lib.js
// (@usermaven/sdk-js), both loaded by `src` on a first visit (fresh profile: no cookie, empty
// storage) until each has sent its pageview. A benchmark: it prints figures and never fails
// on them. Goal: u.js ≤ 0.5× the official.
//
// Chromium's `ScriptDuration` (CDP Performance.getMetrics: time spent compiling and running
// script) is read after the pageview left, minus the same figure for a page that loads a blank
// script by `src`, so page setup and the harness's own evaluate calls cancel out. The three
// pages run in turn, alternating, for BENCH_RUNS rounds; medians are printed.
//
// Then a burst: 1,000 track() calls in one tick on a loaded u.js page, timed in the page
// (performance.now around the loop), BURST_RUNS times; the check is < 0.5 ms per call.
// The relay answers 204 to everything, and the bench waits until all 1,000 have arrived.
//
//   BENCH_RUNS=60 npm run bench -- tracker
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright';
import { requireChromium } from '../scripts/provision.mjs';

const runs = Number(process.env.BENCH_RUNS ?? 40);
const root = new URL('..', import.meta.url);
const official = readFileSync(new URL('node_modules/@usermaven/sdk-js/dist/lib.js', root));
const ours = readFileSync(new URL('public/u.js', root));
const stub = '<script>window.usermaven=window.usermaven||function(){(window.usermavenQ=window.usermavenQ||[]).push(arguments)}</script>';
const pages = {
  blank: `<!doctype html><title>b</title>${stub}<script src="/blank.js"></script>`,
  umbeacon: `<!doctype html><title>u</title>${stub}<script src="/u.js" data-allow-automation></script>`,
  official: `<!doctype html><title>o</title>${stub}<script src="/lib.js" data-key="bench-key"></script>`,
};

let received = 0;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        received += JSON.parse(body).filter((e) => e.e === 'burst').length;
      } catch {}
      res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
    });
    return;
  }
  const js = { '/blank.js': '', '/u.js': ours, '/lib.js': official }[path];
  if (js !== undefined) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  const name = path.slice(1).replace(/\.html$/, '');
  if (name in pages) return res.writeHead(200, { 'content-type': 'text/html' }).end(pages[name]);
  res.writeHead(404).end();
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;
// The official snippet posts to data-tracking-host; set it to this server.
pages.official = pages.official.replace('data-key=', `data-tracking-host="${origin}" data-key=`);

const browser = await chromium.launch({ executablePath: requireChromium(), args: ['--no-sandbox', '--disable-gpu'] });

/** ScriptDuration (ms) of one first visit, read once the page's pageview request has left. */
async function measure(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const sent = name === 'blank' ? Promise.resolve() : page.waitForRequest((r) => r.method() === 'POST', { timeout: 10_000 });
  await page.goto(`${origin}/${name}.html`);
  await sent;
  const { metrics } = await cdp.send('Performance.getMetrics');
  await context.close();
  return metrics.find((m) => m.name === 'ScriptDuration').value * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = { blank: [], umbeacon: [], official: [] };
for (const name of Object.keys(times)) await measure(name); // warm-up
for (let i = 0; i < runs; i++) for (const name of Object.keys(times)) times[name].push(await measure(name));

/** ms per call of 1,000 track() calls in one tick, and the ms until all of them arrived. */
async function burst() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/umbeacon.html`);
  await page.waitForFunction(() => typeof window.usermaven?.track === 'function');
  received = 0;
  const start = Date.now();
  const ms = await page.evaluate(() => {
    const t = performance.now();
    for (let i = 0; i < 1000; i++) window.usermaven.track('burst', { i });
    return performance.now() - t;
  });
  while (received < 1000 && Date.now() - start < 30_000) await new Promise((ok) => setTimeout(ok, 20));
  const arrived = received;
  await context.close();
  return { perCall: ms / 1000, arrived, ms: Date.now() - start };
}
const bursts = [];
for (let i = 0; i < Number(process.env.BURST_RUNS ?? 5); i++) bursts.push(await burst());
await browser.close();
server.close();

const base = median(times.blank);
const cost = (name) => median(times[name]) - base;
const gz = (b) => gzipSync(b, { level: 9 }).length;
console.log(`tracker script time in Chromium, first visit until the pageview left (median of ${runs} alternating runs, ms of ScriptDuration over a blank script)`);
console.log(`  blank script           ${base.toFixed(2)} ms (subtracted)`);
console.log(`  official lib.js        ${cost('official').toFixed(2)} ms   ${gz(official)} B gzip`);
console.log(`  u.js                   ${cost('umbeacon').toFixed(2)} ms   ${gz(ours)} B gzip`);
console.log(`  ratio u.js / official  ${(cost('umbeacon') / cost('official')).toFixed(2)}×   (goal ≤ 0.5×)`);
const perCall = median(bursts.map((b) => b.perCall));
console.log(`burst: 1,000 track() calls in one tick (median of ${bursts.length} runs)`);
console.log(`  per call               ${perCall.toFixed(3)} ms   (check < 0.5 ms: ${perCall < 0.5 ? 'yes' : 'NO'})`);
console.log(`  all arrived after      ${median(bursts.map((b) => b.ms))} ms   (${Math.min(...bursts.map((b) => b.arrived))} of 1000 in the worst run)`);
