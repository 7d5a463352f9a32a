/**
 * The delivery engine stays runtime-neutral (the edge Worker reuses it) and the Node client
 * stands on it alone: checked on the import lines of the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** The import lines of every `.ts` file under `src/<folder>`, sub-folders included (`file` is relative to it). */
function importsOf(folder: string): { file: string; from: string }[] {
  return (readdirSync(join(SRC, folder), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) => [...readFileSync(join(SRC, folder, file), 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ file, from: m[1]! })));
}

describe('module boundaries', () => {
  it('finds the imports of sub-folders too', () => {
    expect(importsOf('delivery').some(({ file, from }) => file.startsWith('file-spool/') && from.startsWith('node:'))).toBe(true);
    expect(importsOf('tracker').some(({ file }) => file.startsWith('extra/'))).toBe(true);
  });

  // Web standards in the core: the relay handler, the shared rules and the delivery engine run
  // in an edge Worker too, and the tracker in a browser. Only the file spool touches the disk.
  it.each(['relay', 'shared', 'delivery', 'tracker'])('src/%s imports nothing from Node (but the file spool)', (folder) => {
    const nodeImports = importsOf(folder).filter(({ file, from }) => (from.startsWith('node:') || /^(fs|path|crypto|os|http|net|stream|zlib|child_process)(\/|$)/.test(from)) && !(folder === 'delivery' && file.startsWith('file-spool/')));
    expect(nodeImports).toEqual([]);
  });

  /** Top-level folders of src/ that `folder`'s files import from (their own included). */
  const dependencies = (folder: string) => new Set(importsOf(folder).filter(({ from }) => from.startsWith('.')).map(({ file, from }) => join(folder, dirname(file), from).split(sep)[0]));

  it('src/delivery depends on src/shared only', () => {
    expect([...dependencies('delivery')].sort()).toEqual(['delivery', 'shared']);
  });

  it('src/client depends on src/delivery and src/shared only', () => {
    expect([...dependencies('client')].sort()).toEqual(['client', 'delivery', 'shared']);
  });
});

describe('layout', () => {
  it('keeps every source file under 350 lines (a longer one is asking to be split along its seams)', () => {
    const long = (readdirSync(SRC, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: f, lines: readFileSync(join(SRC, f), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 350);
    expect(long).toEqual([]);
  });
});
