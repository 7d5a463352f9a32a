/**
 * Bundles the React app (e2e/packages/app/) with esbuild, minified for production and split
 * as apps ship (a dynamic `import()` becomes a chunk loaded on demand): with umbeacon/react
 * (the built dist/app/), with the official @usermaven/react in its place, or without
 * analytics. Used by the package specs and by the size budget (test/browser/bundle-size.test.ts).
 */
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Variant = 'umbeacon' | 'official' | 'plain';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const APP_DIR = join(ROOT, 'e2e/packages/app');

export interface Bundle {
  /** The scripts every visit loads: the entry and the chunks it imports statically (not those behind `import()`). */
  initial: string[];
  /** Every output file, by name relative to the output directory. */
  files: Record<string, string>;
}

export async function bundleApp(variant: Variant, outdir = join(ROOT, '.tmp/app', variant), write = false): Promise<Bundle> {
  const result = await build({
    entryPoints: { [variant]: join(APP_DIR, variant == 'plain' ? 'plain.ts' : 'with-analytics.ts') },
    bundle: true,
    splitting: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    outdir,
    define: { 'process.env.NODE_ENV': '"production"' },
    alias: { 'umbeacon/react': variant == 'official' ? '@usermaven/react' : join(ROOT, 'dist/app/react.js') },
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  const files = Object.fromEntries(result.outputFiles.map((f) => [f.path.slice(outdir.length + 1), f.text]));
  if (write) {
    mkdirSync(outdir, { recursive: true });
    for (const f of result.outputFiles) writeFileSync(f.path, f.text);
  }
  const rel = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const outputs = result.metafile!.outputs;
  const initial = new Set<string>();
  const visit = (out: string) => {
    if (initial.has(rel(out))) return;
    initial.add(rel(out));
    for (const i of outputs[out]!.imports) if (i.kind == 'import-statement' && !i.external) visit(i.path);
  };
  visit(Object.keys(outputs).find((o) => rel(o) == `${variant}.js`)!);
  return { initial: [...initial].map((f) => files[f]!), files };
}
