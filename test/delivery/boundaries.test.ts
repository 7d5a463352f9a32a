/**
 * The delivery engine stays runtime-neutral (the edge Worker reuses it) and the Node client
 * stands on it alone: checked on the import lines of the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function importsOf(folder: string): { file: string; from: string }[] {
  return readdirSync(join(SRC, folder))
    .filter((f) => f.endsWith('.ts'))
    .flatMap((file) => [...readFileSync(join(SRC, folder, file), 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ file, from: m[1]! })));
}

describe('module boundaries', () => {
  it('src/delivery imports nothing from Node outside the file spool', () => {
    const nodeImports = importsOf('delivery').filter(({ file, from }) => from.startsWith('node:') && !file.startsWith('file-spool'));
    expect(nodeImports).toEqual([]);
  });

  it('src/delivery depends on src/shared only', () => {
    expect(importsOf('delivery').filter(({ from }) => from.startsWith('../') && !from.startsWith('../shared/'))).toEqual([]);
  });

  it('src/client depends on src/delivery and src/shared only', () => {
    expect(importsOf('client').filter(({ from }) => from.startsWith('../') && !/^\.\.\/(delivery|shared)\//.test(from))).toEqual([]);
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
