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

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => res.writeHead(204, { 'access-control-allow-origin': '*' }).end());
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
