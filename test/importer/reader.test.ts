import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRecords, type InputFormat, type RawRecord } from '../../src/importer/reader.ts';

/** Feeds `text` in chunks of `size` bytes (1 = every byte boundary is a chunk boundary). */
async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(text: string | Buffer, size = 1 << 16, format: InputFormat | 'auto' = 'auto', start?: { offset: number; line: number }, maxRecordBytes = 64) {
  const records: RawRecord[] = [];
  let detected: InputFormat | undefined;
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const source = chunked(start ? bytes.subarray(start.offset) : bytes, size);
  for await (const batch of readRecords(source, { format, maxRecordBytes, onFormat: (f) => (detected = f), ...(start ? { start } : {}) })) {
    records.push(...batch);
  }
  return { records, format: detected };
}

const ndjson = '{"a":1}\n\n  {"b":"x\\ny"}\r\n{"c":[1,{"d":2}]}';
const array = '\uFEFF [\n {"a":1},\n {"b":"]}\\"{["} ,\n\n {"c":[1,{"d":2}]}\n]\n';

describe('readRecords', () => {
  it.each([1, 2, 3, 7, 1 << 16])('splits NDJSON into trimmed lines with line numbers (chunks of %i)', async (size) => {
    const { records, format } = await read(ndjson, size);
    expect(format).toBe('ndjson');
    expect(records.map((r) => [r.line, r.text])).toEqual([
      [1, '{"a":1}'],
      [3, '{"b":"x\\ny"}'],
      [4, '{"c":[1,{"d":2}]}'],
    ]);
    expect(records.map((r) => Buffer.from(ndjson).subarray(r.start, r.end).toString().trim())).toEqual(records.map((r) => r.text));
  });

  it.each([1, 2, 5, 1 << 16])('splits a JSON array into elements, strings with brackets included (chunks of %i)', async (size) => {
    const { records, format } = await read(array, size);
    expect(format).toBe('array');
    expect(records.map((r) => [r.line, r.text, r.problem])).toEqual([
      [2, '{"a":1}', undefined],
      [3, '{"b":"]}\\"{["}', undefined],
      [5, '{"c":[1,{"d":2}]}', undefined],
    ]);
  });

  it.each<[string, string, InputFormat]>([
    ['an NDJSON file', ndjson, 'ndjson'],
    ['a JSON array', array, 'array'],
  ])('resumes %s at any record end without gaps or repeats', async (_name, text, format) => {
    const whole = (await read(text)).records;
    for (let i = 0; i < whole.length; i++) {
      const at = whole[i]!;
      const rest = (await read(text, 3, format, { offset: at.end, line: at.endLine })).records;
      expect(rest.map((r) => [r.line, r.text])).toEqual(whole.slice(i + 1).map((r) => [r.line, r.text]));
    }
  });

  it.each([
    ['a bare value', '[1, "s", null, {"a":1}]', ['1', '"s"', 'null', '{"a":1}'], []],
    ['a truncated array', '[{"a":1}, {"b":', ['{"a":1}', '{"b":'], ['the file ends inside this element (truncated JSON array)']],
    ['an unclosed array', '[{"a":1} ', ['{"a":1}', ''], ['the JSON array is not closed with ]']],
    ['content after the array', '[{"a":1}] x', ['{"a":1}', ''], ['unexpected content after the closing ] of the array']],
  ])('reads %s', async (_name, text, texts, problems) => {
    for (const size of [1, 1 << 16]) {
      const { records } = await read(text, size);
      expect(records.map((r) => r.text)).toEqual(texts);
      expect(records.flatMap((r) => (r.problem ? [r.problem] : []))).toEqual(problems);
    }
  });

  it('reports an over-long line instead of buffering it, and goes on', async () => {
    const text = `{"a":1}\n{"long":"${'x'.repeat(500)}"}\n{"b":2}\n`;
    for (const size of [1, 16, 1 << 16]) {
      const { records } = await read(text, size);
      expect(records.map((r) => [r.line, r.text, r.problem])).toEqual([
        [1, '{"a":1}', undefined],
        [2, '', 'line is longer than 64 bytes'],
        [3, '{"b":2}', undefined],
      ]);
    }
  });

  it('reads nothing from an empty or blank input', async () => {
    for (const text of ['', '  \n\n']) expect((await read(text)).records).toEqual([]);
  });

  it('splits any array of JSON values exactly as JSON.parse sees it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), async (values, size) => {
        const text = JSON.stringify(values, null, size % 2 ? 1 : undefined);
        const { records } = await read(Buffer.from(text), size, 'auto', undefined, 1 << 20);
        expect(records.filter((r) => r.problem)).toEqual([]);
        expect(records.map((r) => JSON.parse(r.text) as unknown)).toEqual(JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });
});
