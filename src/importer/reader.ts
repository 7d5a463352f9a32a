/**
 * Streaming reader for import files: NDJSON (one event per line) or one big JSON array.
 * Splits the byte stream into records without parsing them, keeping only the current
 * record in memory, so memory stays flat whatever the file size. Every record carries the
 * byte offset just after it: the checkpoint stores that offset, and a resumed run starts
 * reading there.
 */
import { recordText } from '../shared/intake.ts';

export type InputFormat = 'ndjson' | 'array';

/** One record of the input: the JSON text of a single event, not yet parsed. */
export interface RawRecord {
  /** The record's text, whitespace-trimmed. Empty when `problem` is set and the text was too long. */
  text: string;
  /** 1-based line the record starts on. */
  line: number;
  /** Byte offset of the record's first byte. */
  start: number;
  /** Byte offset just after the record: where a resumed run continues. */
  end: number;
  /** Line number of the byte at `end`. */
  endLine: number;
  /** Set when the reader itself could not cut out a record (too long, broken array). */
  problem?: string;
}

/** Where reading starts: the beginning, or a checkpoint. */
export interface ReadPosition {
  offset: number;
  /** Line number of the byte at `offset`. */
  line: number;
}

export interface ReadOptions {
  /** `auto` looks at the first non-blank byte: `[` means a JSON array. */
  format: InputFormat | 'auto';
  start?: ReadPosition;
  /** Records longer than this are reported, not buffered (keeps memory bounded). */
  maxRecordBytes: number;
  /** Told the format once it is known (after auto-detection). */
  onFormat?: (format: InputFormat) => void;
}

const NL = 0x0a;
const BLANKS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Yields the records of `chunks` in order, a chunk's worth at a time (fewer awaits than one per
 * record). When `start` is a checkpoint, `chunks` must already begin at `start.offset`, and
 * `format` must be the format recorded with it (a resumed array is read from inside the array).
 */
export async function* readRecords(chunks: AsyncIterable<Uint8Array>, options: ReadOptions): AsyncGenerator<RawRecord[]> {
  const start = options.start ?? { offset: 0, line: 1 };
  let format: InputFormat | undefined = options.format === 'auto' ? undefined : options.format;
  const resumed = start.offset > 0;
  let splitter: Splitter | undefined;
  let offset = start.offset;
  let head: Buffer[] = []; // bytes seen before the format is known (only blanks, a BOM)

  for await (const raw of chunks) {
    let chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (!splitter) {
      if (!format) {
        const probe = head.length ? Buffer.concat([...head, chunk]) : chunk;
        const first = firstMeaningfulByte(probe, offset === 0);
        if (first === -1) {
          head.push(Buffer.from(chunk));
          continue;
        }
        format = first === 0x5b /* [ */ ? 'array' : 'ndjson';
      }
      options.onFormat?.(format);
      splitter = format === 'array' ? new ArraySplitter(start, options.maxRecordBytes, resumed) : new LineSplitter(start, options.maxRecordBytes);
      if (head.length) {
        chunk = Buffer.concat([...head, chunk]);
        head = [];
      }
    }
    const records = splitter.push(chunk, offset);
    offset += chunk.length;
    if (records.length) yield records;
  }
  if (!splitter) {
    // Only blanks (or nothing): an empty input has no records and no problems.
    options.onFormat?.(format ?? 'ndjson');
    return;
  }
  const tail = splitter.end(offset);
  if (tail.length) yield tail;
}

/** Index of the first byte that is neither blank nor a UTF-8 BOM, or -1. */
function firstMeaningfulByte(chunk: Buffer, atFileStart: boolean): number {
  let i = 0;
  if (atFileStart && chunk[0] === 0xef) {
    if (chunk.length < 3) return -1; // maybe a BOM cut by a chunk boundary: wait for more
    if (chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
  }
  for (; i < chunk.length; i++) {
    const byte = chunk[i]!;
    if (!BLANKS.has(byte)) return byte;
  }
  return -1;
}

interface Splitter {
  /** Records completed by `chunk`, which starts at byte `base` of the input. */
  push(chunk: Buffer, base: number): RawRecord[];
  /** Records (or problems) left at the end of input. */
  end(offset: number): RawRecord[];
}

/** NDJSON: a record per line; blank lines are skipped; `\r\n` is fine. */
class LineSplitter implements Splitter {
  private carry: Buffer | undefined;
  private carryStart: number;
  private line: number;
  /** Set while skipping the rest of an over-long line. */
  private overflow = false;

  constructor(start: ReadPosition, private readonly maxBytes: number) {
    this.carryStart = start.offset;
    this.line = start.line;
  }

  push(chunk: Buffer, base: number): RawRecord[] {
    const out: RawRecord[] = [];
    let from = 0;
    let nl = chunk.indexOf(NL);
    if (this.carry || this.overflow) {
      if (nl === -1) {
        this.extendCarry(chunk);
        return out;
      }
      this.extendCarry(chunk.subarray(0, nl + 1));
      this.emit(out, this.carry ?? Buffer.alloc(0), 0, this.carry?.length ?? 0, this.carryStart, base + nl + 1);
      this.carry = undefined;
      this.overflow = false;
      from = nl + 1;
      nl = chunk.indexOf(NL, from);
    }
    while (nl !== -1) {
      this.emit(out, chunk, from, nl + 1, base + from, base + nl + 1);
      from = nl + 1;
      nl = chunk.indexOf(NL, from);
    }
    if (from < chunk.length) {
      this.carryStart = base + from;
      this.extendCarry(chunk.subarray(from));
    }
    return out;
  }

  end(offset: number): RawRecord[] {
    const out: RawRecord[] = [];
    if (this.carry || this.overflow) this.emit(out, this.carry ?? Buffer.alloc(0), 0, this.carry?.length ?? 0, this.carryStart, offset);
    this.carry = undefined;
    this.overflow = false;
    return out;
  }

  private extendCarry(bytes: Buffer): void {
    if (this.overflow) return;
    const length = (this.carry?.length ?? 0) + bytes.length;
    if (length > this.maxBytes + 2) {
      this.overflow = true;
      this.carry = undefined;
      return;
    }
    // Copy: the chunk's memory may be reused by the stream.
    this.carry = this.carry ? Buffer.concat([this.carry, bytes]) : Buffer.from(bytes);
  }

  private emit(out: RawRecord[], buf: Buffer, from: number, to: number, start: number, end: number): void {
    const line = this.line++;
    const endLine = this.line;
    if (this.overflow || to - from > this.maxBytes + 2) {
      out.push({ text: '', line, start, end, endLine, problem: `line is longer than ${this.maxBytes} bytes` });
      return;
    }
    const { text, problem } = recordText(buf.subarray(from, to), buf.toString('utf8', from, to));
    // (A literal, not a spread of the result: this runs once per line of a million-line file.)
    if (problem !== undefined) out.push({ text, line, start, end, endLine, problem });
    else if (text) out.push({ text, line, start, end, endLine });
  }
}

const enum State {
  /** Before the opening `[`. */
  Open,
  /** Between elements: blanks, commas, the next element or the closing `]`. */
  Between,
  /** Inside an element. */
  Element,
  /** After the closing `]`: only blanks may follow. */
  Closed,
}

/**
 * A JSON array, cut into its top-level elements by a small scanner that tracks nesting and
 * strings only; each element is parsed later, on its own. A broken element is reported and
 * the scanner carries on at the next top-level comma.
 */
class ArraySplitter implements Splitter {
  private state: State;
  private line: number;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Element kind: `{`/`[` container, `"` string, or 0 for a bare number/literal. */
  private kind = 0;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private overflow = false;
  private elementStart = 0;
  private elementLine = 0;
  private trailing: RawRecord | undefined;

  constructor(start: ReadPosition, private readonly maxBytes: number, resumed: boolean) {
    this.state = resumed ? State.Between : State.Open;
    this.line = start.line;
  }

  push(chunk: Buffer, base: number): RawRecord[] {
    const out: RawRecord[] = [];
    let segmentFrom = this.state === State.Element ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.state) {
        case State.Open:
          if (byte === 0x5b) this.state = State.Between;
          else if (byte === NL) this.line++;
          else if (!BLANKS.has(byte) && !(base + i < 3 && (byte === 0xef || byte === 0xbb || byte === 0xbf))) {
            // `--format json` on something that is not an array: say so once, read nothing.
            this.state = State.Closed;
            this.trailing = { text: '', line: this.line, start: base + i, end: base + i, endLine: this.line, problem: 'expected a JSON array starting with [' };
            out.push(this.trailing);
          }
          break;
        case State.Between:
          if (byte === NL) this.line++;
          else if (byte === 0x5d /* ] */) this.state = State.Closed;
          else if (byte !== 0x2c /* , */ && !BLANKS.has(byte)) {
            this.beginElement(byte, base + i);
            segmentFrom = i;
          }
          break;
        case State.Element: {
          if (this.kind === 0 && isDelimiter(byte)) {
            // A bare number or literal ends before the delimiter, which is then read again.
            this.finishElement(out, chunk, Math.max(segmentFrom, 0), i, base + i);
            segmentFrom = -1;
            i--;
            break;
          }
          if (byte === NL) this.line++;
          if (this.scan(byte)) {
            this.finishElement(out, chunk, segmentFrom, i + 1, base + i + 1);
            segmentFrom = -1;
          }
          break;
        }
        case State.Closed:
          if (byte === NL) this.line++;
          else if (!BLANKS.has(byte) && !this.trailing) {
            this.trailing = { text: '', line: this.line, start: base + i, end: base + chunk.length, endLine: this.line, problem: 'unexpected content after the closing ] of the array' };
            out.push(this.trailing);
          }
          break;
      }
    }
    if (this.state === State.Element && segmentFrom !== -1) this.collect(chunk.subarray(segmentFrom));
    return out;
  }

  end(offset: number): RawRecord[] {
    if (this.state === State.Element) {
      const record = this.takeRecord(offset);
      record.problem = 'the file ends inside this element (truncated JSON array)';
      return [record];
    }
    if (this.state === State.Open || this.state === State.Between) {
      return [{ text: '', line: this.line, start: offset, end: offset, endLine: this.line, problem: 'the JSON array is not closed with ]' }];
    }
    return [];
  }

  private beginElement(byte: number, at: number): void {
    this.state = State.Element;
    this.elementStart = at;
    this.elementLine = this.line;
    this.kind = byte === 0x7b || byte === 0x5b ? byte : byte === 0x22 ? 0x22 : 0;
    this.depth = this.kind === 0x7b || this.kind === 0x5b ? 1 : 0;
    this.inString = this.kind === 0x22;
    this.escaped = false;
  }

  /** Advances over one byte of an element; true when that byte is the element's last. */
  private scan(byte: number): boolean {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (byte === 0x5c /* \ */) this.escaped = true;
      else if (byte === 0x22) {
        this.inString = false;
        if (this.kind === 0x22) return true;
      }
      return false;
    }
    if (this.kind === 0) return false;
    if (byte === 0x22) this.inString = true;
    else if (byte === 0x7b || byte === 0x5b) this.depth++;
    else if (byte === 0x7d || byte === 0x5d) return --this.depth === 0;
    return false;
  }

  private finishElement(out: RawRecord[], chunk: Buffer, from: number, to: number, end: number): void {
    this.collect(chunk.subarray(from, to));
    out.push(this.takeRecord(end));
    this.state = State.Between;
  }

  private collect(bytes: Buffer): void {
    if (this.overflow) return;
    this.partsBytes += bytes.length;
    if (this.partsBytes > this.maxBytes) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(Buffer.from(bytes));
  }

  private takeRecord(end: number): RawRecord {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const record: RawRecord = this.overflow
      ? { text: '', line: this.elementLine, start: this.elementStart, end, endLine: this.line, problem: `element is longer than ${this.maxBytes} bytes` }
      : { ...recordText(bytes, bytes.toString('utf8')), line: this.elementLine, start: this.elementStart, end, endLine: this.line };
    this.parts = [];
    this.partsBytes = 0;
    this.overflow = false;
    return record;
  }
}

/** True for what ends a bare value: `,`, `]` or a blank. */
function isDelimiter(byte: number): boolean {
  return byte === 0x2c || byte === 0x5d || BLANKS.has(byte);
}
