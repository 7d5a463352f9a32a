#!/usr/bin/env node
// Builds everything umbeacon ships and prints raw / gzip / brotli bytes of every output.
//   node build.mjs               build
//   node build.mjs --check-size  build, then fail if a page's scripts are over their gzip budget
//   node build.mjs --analyze     also print what each module costs in the tracker
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const args = new Set(process.argv.slice(2));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
/**
 * The exact byte budgets (gzip -9) of what a page loads from the relay, summed per page:
 * `"public/u.js"` is a page with the default settings, `"public/u.js + public/u/x.js"` a page
 * with every feature on. Ratcheted down as the tracker shrinks.
 */
const budgets = pkg.sizeLimit ?? {};

mkdirSync('dist', { recursive: true });
const outputs = [];

/**
 * js-cookie writes the visitor cookie, and its default export is one object, which no bundler
 * can tree-shake. The tracker calls only `set(name, value, attrs)`,
 * so this loads js-cookie's own source from node_modules without the rest: no
 * `remove` / `withAttributes` / `withConverter` (and the frozen `attributes` / `converter`
 * properties they read), no default attributes, no `get(name)` lookup, no name escaping, no
 * server-side `typeof document` guard (the tracker runs only in browsers); set() and get()
 * themselves stay js-cookie's code. Every edit must match, so an upgrade of js-cookie that
 * changes these lines fails the build instead of shipping something unreviewed.
 */
const jsCookieUsedParts = {
  name: 'js-cookie-used-parts',
  setup(b) {
    b.onLoad({ filter: /[\\/]js-cookie[\\/]dist[\\/]js\.cookie\.mjs$/ }, ({ path }) => {
      let src = readFileSync(path, 'utf8');
      // Each cut must match (a string: every occurrence; a regex: its first match).
      const cut = (from, to) => {
        if (!(typeof from == 'string' ? src.includes(from) : from.test(src)))
          throw Error(`js-cookie changed: ${from} not found in ${path}`);
        src = typeof from == 'string' ? src.replaceAll(from, to) : src.replace(from, to);
      };
      cut("typeof document === 'undefined'", 'false');
      cut('(arguments.length && !name)', 'false');
      cut('if (name === found) {\n          break\n        }', '');
      cut('return name ? jar[name] : jar', 'return jar');
      // No default attributes either (they exist for withAttributes): the tracker passes
      // every attribute, `path` first, to its one set() call, so the cookie string is the same.
      cut('attributes = assign({}, defaultAttributes, attributes);', '');
      // The tracker passes `max-age`, never `expires`: js-cookie's date arithmetic goes.
      cut(/    if \(typeof attributes\.expires === 'number'\) \{[^]*?\n    \}\n    if \(attributes\.expires\) \{[^]*?\n    \}\n/, '');
      // The value is a visitor id of [\w-] only (the tracker checks every id it reads back,
      // src/tracker/id.ts), and so are the attributes it passes: nothing to encode or cut at ';'.
      cut('converter.write(value, name)', 'value');
      cut("attributes[attributeName].split(';')[0]", 'attributes[attributeName]');
      cut(/var defaultConverter = \{[^]*?\n\};\n/, '');
      cut('init(defaultConverter,', 'init(0,');
      // The one cookie the tracker writes is `__eventn_id`, whose name has nothing to escape.
      cut(/name = encodeURIComponent\(name\)\s*\.replace\([^\n]*\n\s*\.replace\(\/\[\(\)\]\/g, escape\);/, '');
      const start = src.indexOf('  return Object.create(');
      const end = src.indexOf('\n  )\n}', start);
      if (start < 0 || end < 0) throw Error(`js-cookie changed: its API object is not where expected in ${path}`);
      // Only set(): the tracker reads its few cookies itself (src/tracker/id.ts), so js-cookie's
      // get() and read converter are left for terser to drop as unused.
      src = src.slice(0, start) + '  return { set: set }\n}' + src.slice(end + 6);
      cut(/function assign[^]*?\n}\n/, '');
      return { contents: src, loader: 'js' };
    });
  },
};

// The tracker: minified IIFEs, served by the relay. u.js is what every page loads; x.js
// (src/tracker/extra/) holds the opt-in features, loaded by u.js only when the tag turns one
// on, and served next to the collect path (/u/x.js). esbuild bundles and minifies; terser then
// runs over each bundle, whose whole-program passes (inlining across modules, toplevel
// mangling) esbuild does not do.
const trackerScripts = [
  { entry: 'src/tracker/index.ts', out: 'public/u.js' },
  { entry: 'src/tracker/extra/index.ts', out: 'public/u/x.js' },
];
for (const { entry, out } of trackerScripts) {
  if (!existsSync(entry)) continue;
  const result = await build({
    entryPoints: [entry],
    write: false,
    outfile: out,
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
    plugins: [jsCookieUsedParts],
    logLevel: 'warning',
  });
  const { minify } = await import('terser');
  const { code } = await minify(result.outputFiles[0].text, {
    ecma: 2020,
    toplevel: true,
    // unsafe_arrows / unsafe_methods turn function expressions into arrows and methods: safe
    // here, as none of the tracker's or js-cookie's functions uses `this` or is constructed.
    compress: { passes: 5, unsafe_arrows: true, unsafe_methods: true },
    mangle: true,
    // ascii_only: the few non-ASCII characters as escapes, which gzip takes for less.
    format: { quote_style: 0, ascii_only: true },
  });
  // The relay rewrites this literal when it serves the script under another collect path
  // (src/relay/script.ts): it must survive minification exactly once.
  if (out == 'public/u.js' && code.split('"/u/e"').length != 2) throw Error('public/u.js must hold the literal "/u/e" exactly once');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  outputs.push(out);
  if (args.has('--analyze')) {
    const { analyzeMetafile } = await import('esbuild');
    console.log(out);
    console.log(await analyzeMetafile(result.metafile, { verbose: false }));
  }
}

// Node side: CLI, relay core, Node adapter, client. Dependencies stay external.
const nodeEntries = {
  cli: 'src/cli.ts',
  relay: 'src/relay/index.ts',
  node: 'src/relay-node/index.ts',
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

// The npm packages for bundled apps (umbeacon/browser, umbeacon/react, umbeacon/next): ES
// modules for the app's own bundler, in dist/app/ (shared code in one chunk, the opt-in
// features in a lazy one). They are the tracker's own modules (src/tracker/) with two of them
// swapped for the package's (src/browser/): config.ts (settings from `usermavenClient(options)`
// instead of the tag's data-* attributes) and chunk.ts (the opt-in features by `import()`
// instead of x.js). React and Next.js stay the app's.
const packageEntries = { browser: 'src/browser/index.ts', react: 'src/react/index.ts', next: 'src/next/index.ts', 'next-server': 'src/next/server.ts' };
const trackerForPackages = {
  name: 'tracker-for-packages',
  setup(b) {
    b.onResolve({ filter: /^\.\/(config|chunk)\.ts$/ }, ({ path, importer }) =>
      /[\\/]src[\\/]tracker[\\/][^\\/]+$/.test(importer) ? { path: resolve('src/browser', path) } : undefined,
    );
  },
};
if (Object.values(packageEntries).every((f) => existsSync(f))) {
  // Chunk names carry a hash: drop the previous build's.
  for (const f of existsSync('dist/app') ? readdirSync('dist/app') : []) f.endsWith('.js') && rmSync(join('dist/app', f));
  const result = await build({
    entryPoints: packageEntries,
    outdir: 'dist/app',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    external: ['react', 'next', 'next/*'],
    plugins: [jsCookieUsedParts, trackerForPackages],
    metafile: true,
    logLevel: 'warning',
  });
  // terser as for the tracker: its passes across modules save ~150 B of what an app ships
  // (test/browser/bundle-size.test.ts); exports keep their names (module: true).
  const { minify } = await import('terser');
  for (const out of Object.keys(result.metafile.outputs).sort()) {
    const { code } = await minify(readFileSync(out, 'utf8'), { module: true, ecma: 2020, compress: { passes: 5, unsafe_arrows: true, unsafe_methods: true }, mangle: true });
    writeFileSync(out, code);
    outputs.push(out);
  }
  // Their declarations (dist/app/types/), from the same sources by tsc (tsconfig.packages.json).
  // tsc takes a while, so only when a source is newer than the declarations.
  const newest = (dir) => Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(join(dir, f)).mtimeMs));
  const types = 'dist/app/types/next/index.d.ts';
  if (!existsSync(types) || statSync(types).mtimeMs < Math.max(...['src/browser', 'src/react', 'src/next', 'src/tracker', 'src/shared'].map(newest), statSync('tsconfig.packages.json').mtimeMs)) {
    rmSync('dist/app/types', { recursive: true, force: true });
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.packages.json'], { stdio: 'inherit' });
  }
}

/**
 * A tracker script as the relay sends it (src/relay-node/precompress.ts, from the Node build
 * above): Brotli, and zopfli's gzip for browsers without it. Made once per build.
 */
const served = new Map();
async function servedBytes(file) {
  if (!existsSync(file) || !existsSync('dist/node.js')) return null;
  if (!served.has(file)) {
    const { precompress } = await import('./dist/node.js');
    served.set(file, await precompress(readFileSync(file, 'utf8')));
  }
  return served.get(file);
}

// The Worker (src/cloudflare/worker.ts): one ES module for workerd, the runtime of Cloudflare
// Workers, with the tracker inlined (a Worker has no file system to read public/u.js from).
// Platform "neutral": nothing Node-specific may creep in, which the build would refuse.
if (existsSync('src/cloudflare/worker.ts') && existsSync('public/u.js')) {
  // The scripts' Brotli and zopfli gzip bytes, made here once (a Worker has neither encoder):
  // the Worker serves them as they are while its collect path is the default one.
  const encoded = async (file) => {
    const made = await servedBytes(file);
    return made && Object.fromEntries(Object.entries(made).map(([coding, bytes]) => [coding, Buffer.from(bytes).toString('base64')]));
  };
  await build({
    entryPoints: ['src/cloudflare/worker.ts'],
    outfile: 'dist/cloudflare/worker.js',
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    target: ['es2022'],
    define: {
      UMBEACON_TRACKER: JSON.stringify(readFileSync('public/u.js', 'utf8')),
      UMBEACON_EXTRAS: JSON.stringify(existsSync('public/u/x.js') ? readFileSync('public/u/x.js', 'utf8') : null),
      UMBEACON_TRACKER_ENCODED: JSON.stringify(await encoded('public/u.js')),
      UMBEACON_EXTRAS_ENCODED: JSON.stringify(await encoded('public/u/x.js')),
    },
    logLevel: 'warning',
  });
  outputs.push('dist/cloudflare/worker.js');
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
const width = Math.max(18, ...outputs.map((f) => f.length + 2));
console.log(`${'output'.padEnd(width)}${pad('raw', 9)}${pad('gzip', 9)}${pad('brotli', 9)}`);
for (const file of outputs) {
  const s = sizes(file);
  console.log(`${file.padEnd(width)}${pad(s.raw, 9)}${pad(s.gzip, 9)}${pad(s.brotli, 9)}`);
}

// Bytes on the wire for the tracker scripts; the budgets stay on gzip -9, the measure of record.
for (const { out } of trackerScripts) {
  const made = await servedBytes(out);
  if (made) console.log(`served ${out}: br ${made.br.length} B, gzip (zopfli) ${made.gzip.length} B`);
}

if (args.has('--check-size')) {
  let over = false;
  for (const [page, budget] of Object.entries(budgets)) {
    const files = page.split('+').map((f) => f.trim());
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length) {
      console.error(`size: ${missing.join(', ')} was not built`);
      process.exit(1);
    }
    const gzip = files.reduce((sum, f) => sum + sizes(f).gzip, 0);
    if (gzip > budget) {
      console.error(`size: ${page} is ${gzip} B gzip, over its budget of ${budget} B (package.json "sizeLimit"). Run \`node build.mjs --analyze\` to see what each module costs.`);
      over = true;
    } else console.log(`size: ${page} ${gzip} B gzip, within its budget of ${budget} B`);
  }
  if (over) process.exit(1);
}
