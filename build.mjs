#!/usr/bin/env node
// Builds everything umbeacon ships and prints raw / gzip / brotli bytes of every output.
//   node build.mjs               build
//   node build.mjs --check-size  build, then fail if public/u.js is over its gzip budget
//   node build.mjs --analyze     also print what each module costs in the tracker
import { build } from 'esbuild';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const args = new Set(process.argv.slice(2));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
/** The exact byte budget of the tracker (gzip -9), ratcheted down as it shrinks. */
const budget = pkg.sizeLimit?.['public/u.js'] ?? 2048;

mkdirSync('dist', { recursive: true });
const outputs = [];

// The tracker: one minified IIFE, served by the relay at /u.js.
if (existsSync('src/tracker/index.ts')) {
  const result = await build({
    entryPoints: ['src/tracker/index.ts'],
    outfile: 'public/u.js',
    bundle: true,
    minify: true,
    format: 'iife',
    // ES2020 keeps object spread, ?. and ?? native (lowering them costs ~300 B gzip);
    // every browser since early 2020 runs it.
    target: ['es2020'],
    legalComments: 'none',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    // No "use strict" prologue: the IIFE needs none, and it costs bytes of every page load.
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
    logLevel: 'warning',
  });
  outputs.push('public/u.js');
  if (args.has('--analyze')) {
    const { analyzeMetafile } = await import('esbuild');
    console.log(await analyzeMetafile(result.metafile, { verbose: false }));
  }
}

// Node side: CLI, relay core, Node adapter, client. Dependencies stay external.
const nodeEntries = {
  cli: 'src/node/cli.ts',
  relay: 'src/relay/index.ts',
  node: 'src/node/index.ts',
  client: 'src/client/index.ts',
}
const present = Object.fromEntries(Object.entries(nodeEntries).filter(([, file]) => existsSync(file)));
if (Object.keys(present).length) {
  await build({
    entryPoints: present,
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ['node20'],
    packages: 'external',
    sourcemap: true,
    splitting: true,
    logLevel: 'warning',
  });
  for (const name of Object.keys(present)) outputs.push(`dist/${name}.js`);
}

function sizes(file) {
  const raw = readFileSync(file);
  return {
    raw: raw.length,
    gzip: gzipSync(raw, { level: 9 }).length,
    brotli: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const pad = (s, n) => String(s).padStart(n);
console.log(`${'output'.padEnd(18)}${pad('raw', 9)}${pad('gzip', 9)}${pad('brotli', 9)}`);
for (const file of outputs) {
  const s = sizes(file);
  console.log(`${file.padEnd(18)}${pad(s.raw, 9)}${pad(s.gzip, 9)}${pad(s.brotli, 9)}`);
}

if (args.has('--check-size')) {
  if (!existsSync('public/u.js')) {
    console.error('size: public/u.js was not built (src/tracker/index.ts missing)');
    process.exit(1);
  }
  const { gzip } = sizes('public/u.js');
  if (gzip > budget) {
    console.error(`size: public/u.js is ${gzip} B gzip, over its budget of ${budget} B (package.json "sizeLimit"). Run \`node build.mjs --analyze\` to see what each module costs.`);
    process.exit(1);
  }
  console.log(`size: public/u.js ${gzip} B gzip, within its budget of ${budget} B`);
}
