/**
 * Record-aligned reading of a byte range of a line-delimited object (CSV without quoted newlines,
 * NDJSON). The rule: a range [start, end) owns the records whose first byte lies in [start, end).
 * A record starts at offset 0 or right after a `\n`. So the range's first record starts at
 * `boundary(start)` and its last record ends at `boundary(end)`, where
 *
 *   boundary(0) = 0, boundary(x) = 1 + (index of the first `\n` at or after x - 1), or the file size.
 *
 * Adjacent ranges [a, b) and [b, c) meet at boundary(b), so over any set of adjacent ranges covering
 * the file every record is read exactly once. Reads are ranged gets of `chunkSize` bytes inside the
 * range and of `tailChunkSize` (doubling) past its end, so an object is never loaded whole.
 */
import { isAscii } from "node:buffer";
import { z } from "zod";
import { NonRetryableError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import type { ObjectStore } from "../storage/contract.js";
import { concatBytes } from "../storage/util.js";

/** Reads bytes [start, end) of one object. */
export type ReadRangeFn = (start: number, end: number) => Promise<Uint8Array>;

/** Options of {@link readRangeBytes} and {@link readRangeLines}. */
export interface RangeReadOptions {
  /** Bytes per ranged get inside the range. @default 1 MiB */
  chunkSize?: number;
  /** Bytes of the first ranged get past the range's end (doubles while no newline is found). @default 16 KiB */
  tailChunkSize?: number;
  /** A record (line, newline excluded) longer than this is an error naming the object, its offset and the limit. @default no limit */
  maxRecordBytes?: number;
  /**
   * CSV quote character: when the range is part of an object (not all of it), a line with an odd
   * number of quotes (a quoted field holding a newline, which a cut at newlines would split) is
   * an error. @default no check
   */
  quote?: string;
  /** The object's name in error messages. @default "the object" */
  object?: string;
}

const optionsSchema = z.strictObject({
  chunkSize: z.number().int().min(1).default(1024 * 1024),
  tailChunkSize: z.number().int().min(1).default(16 * 1024),
  maxRecordBytes: z.number().int().min(1).optional(),
  quote: z.string().length(1).optional(),
  object: z.string().default("the object"),
});

const rangeSchema = z
  .object({ start: z.number().int().min(0), end: z.number().int().min(0), fileSize: z.number().int().min(0) })
  .refine((r) => r.start <= r.end && r.end <= r.fileSize, { message: "need 0 <= start <= end <= fileSize" });

const NL = 10;

/** A {@link ReadRangeFn} over an object of a store. */
export function storeRangeReader(store: ObjectStore, key: string, signal?: AbortSignal): ReadRangeFn {
  return (start, end) => store.get(key, { range: { start, end }, signal });
}

/**
 * Yields the exact bytes of the records owned by [start, end) of an object of `fileSize` bytes,
 * in order, as chunks (their concatenation is the records, newlines and `\r` included).
 */
export async function* readRangeBytes(read: ReadRangeFn, start: number, end: number, fileSize: number, options: RangeReadOptions = {}): AsyncIterable<Uint8Array> {
  parseOrThrow(rangeSchema, { start, end, fileSize }, "byte range");
  const opts = parseOrThrow(optionsSchema, options, "range read options");
  if (start >= end) return;
  const partOfObject = start > 0 || end < fileSize;
  const quote = partOfObject && opts.quote !== undefined ? opts.quote.charCodeAt(0) : undefined;
  if (opts.maxRecordBytes === undefined && quote === undefined) {
    yield* rangeBytes(read, start, end, fileSize, opts);
    return;
  }
  const check = new RecordCheck(opts.object, opts.maxRecordBytes, quote);
  for await (const piece of rangeBytes(read, start, end, fileSize, opts, (offset) => check.begin(offset))) {
    check.feed(piece);
    yield piece;
  }
  check.end();
}

async function* rangeBytes(read: ReadRangeFn, start: number, end: number, fileSize: number, opts: z.output<typeof optionsSchema>, onBegin?: (offset: number) => void): AsyncIterable<Uint8Array> {
  let pos = start === 0 ? 0 : start - 1; // next byte to fetch
  let begin = start === 0 ? 0 : -1; // first owned byte, once known
  if (begin === 0) onBegin?.(0);
  let tail = opts.tailChunkSize;
  while (pos < fileSize) {
    const inside = pos < end;
    const want = inside ? Math.min(opts.chunkSize, end - pos) : tail;
    const chunkEnd = Math.min(fileSize, pos + want);
    const chunk = await read(pos, chunkEnd);
    if (chunk.byteLength !== chunkEnd - pos) throw new RangeError(`ranged read of [${pos}, ${chunkEnd}) returned ${chunk.byteLength} bytes: the object changed or the store is wrong`);
    const chunkStart = pos;
    pos = chunkEnd;
    if (!inside) tail *= 2;
    let from = 0;
    if (begin < 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) continue;
      begin = chunkStart + nl + 1;
      if (begin >= end) return; // the range holds no record start
      from = nl + 1;
      onBegin?.(begin);
    }
    // The last owned record ends at the first newline at or after end - 1.
    const searchFrom = Math.max(from, end - 1 - chunkStart);
    const stop = searchFrom < chunk.byteLength ? chunk.indexOf(NL, searchFrom) : -1;
    if (stop >= 0) {
      if (stop + 1 > from) yield chunk.subarray(from, stop + 1);
      return;
    }
    if (from < chunk.byteLength) yield chunk.subarray(from);
  }
}

/**
 * Checks the owned bytes as they stream: record lengths against a limit and, for CSV, that no line
 * holds an odd number of quotes. Work per chunk is a few native searches (indexOf/lastIndexOf);
 * lines are walked only in a chunk longer than the limit or holding a quote.
 */
export class RecordCheck {
  /** Checks a stream of a whole object's bytes (record lengths only: a whole object is never cut). */
  static async *wrap(chunks: AsyncIterable<Uint8Array>, object: string, limit: number): AsyncIterable<Uint8Array> {
    const check = new RecordCheck(object, limit, undefined);
    for await (const c of chunks) {
      check.feed(c);
      yield c;
    }
    check.end();
  }

  private offset = 0; // object offset of the next byte fed
  private recordStart = 0; // object offset where the current record began
  private oddQuotes = false; // the current line so far holds an odd number of quotes

  constructor(
    private readonly object: string,
    private readonly limit: number | undefined,
    private readonly quote: number | undefined,
  ) {}

  begin(offset: number): void {
    this.offset = offset;
    this.recordStart = offset;
  }

  feed(piece: Uint8Array): void {
    if (this.limit !== undefined) this.lengths(piece);
    if (this.quote !== undefined) this.parity(piece, this.quote);
    this.offset += piece.byteLength;
  }

  end(): void {
    if (this.limit !== undefined && this.offset - this.recordStart > this.limit) this.tooLong(this.recordStart);
  }

  private lengths(piece: Uint8Array): void {
    const limit = this.limit!;
    const first = piece.indexOf(NL);
    if (first < 0) {
      if (this.offset + piece.byteLength - this.recordStart > limit) this.tooLong(this.recordStart);
      return;
    }
    if (this.offset + first - this.recordStart > limit) this.tooLong(this.recordStart);
    const last = piece.lastIndexOf(NL);
    if (last - first > limit) {
      // Lines inside a chunk longer than the limit: walk them (rare: chunks are usually smaller).
      for (let at = first; at < last; ) {
        const next = piece.indexOf(NL, at + 1);
        if (next - at - 1 > limit) this.tooLong(this.offset + at + 1);
        at = next;
      }
    }
    this.recordStart = this.offset + last + 1;
  }

  private parity(piece: Uint8Array, quote: number): void {
    let i = 0;
    for (;;) {
      const q = piece.indexOf(quote, i);
      if (!this.oddQuotes) {
        if (q < 0) return;
        this.oddQuotes = true;
      } else {
        const nl = piece.indexOf(NL, i);
        if (nl >= 0 && (q < 0 || nl < q)) this.quotedNewline(this.offset + nl);
        if (q < 0) return;
        this.oddQuotes = false;
      }
      i = q + 1;
    }
  }

  tooLongAt(at: number): never {
    return this.tooLong(at);
  }

  private tooLong(at: number): never {
    throw new NonRetryableError(`${this.object}: the record at byte ${at} is longer than the limit of ${this.limit} bytes (${(this.limit! / 2 ** 20).toFixed(0)} MiB): split such values into smaller ones, or fix the line breaks of the file`, { type: "InputError" });
  }

  private quotedNewline(at: number): never {
    throw new NonRetryableError(
      `${this.object}: a quoted field holds a line break (the line ending at byte ${at} has an odd number of quotes), so the object cannot be cut into byte ranges at line breaks: read such objects whole (smelter sql/explain: --whole-files, or --table-option NAME.whole=true; the functions API: records { csv: { whole: true } })`,
      { type: "InputError" },
    );
  }
}

/**
 * Checks that no record of a whole object is longer than `limit` bytes without reading it all (for
 * objects another reader parses, such as a local file DuckDB reads in place): windows of `window`
 * bytes every `limit - window` bytes each must hold a newline, since a longer line would cover one
 * whole. Only around a window without one is the line measured (its ends searched for).
 */
export async function checkRecordLengths(read: ReadRangeFn, fileSize: number, limit: number, object: string, window = 64 * 1024): Promise<void> {
  const w = Math.min(window, Math.floor(limit / 2));
  const stride = limit - w;
  for (let at = 0; at + w <= fileSize; at += stride) {
    const bytes = await read(at, at + w);
    if (bytes.indexOf(NL) >= 0) continue;
    // Measure the line around this window: its start (after the previous newline) and its end.
    let start = at;
    while (start > 0) {
      const from = Math.max(0, start - w);
      const b = await read(from, start);
      const nl = b.lastIndexOf(NL);
      if (nl >= 0) {
        start = from + nl + 1;
        break;
      }
      start = from;
      if (at + w - start > limit) break;
    }
    let end = at + w;
    while (end < fileSize && end - start <= limit) {
      const b = await read(end, Math.min(fileSize, end + w));
      const nl = b.indexOf(NL);
      if (nl >= 0) {
        end += nl;
        break;
      }
      end += b.byteLength;
    }
    if (end - start > limit) new RecordCheck(object, limit, undefined).tooLongAt(start);
  }
}

/**
 * Yields the records owned by [start, end) as strings (UTF-8), without their `\n` or `\r\n`.
 * Empty lines are records too and come out as `""`; skip them if the format ignores them.
 */
export function readRangeLines(read: ReadRangeFn, start: number, end: number, fileSize: number, options: RangeReadOptions = {}): AsyncIterable<string> {
  return bytesToLines(readRangeBytes(read, start, end, fileSize, options), start === 0);
}

/** Lines (UTF-8, without `\n` or `\r\n`) of a stream of byte chunks; a last line without `\n` counts too. */
export async function* bytesToLines(chunks: AsyncIterable<Uint8Array>, fromObjectStart = true): AsyncGenerator<string> {
  for await (const batch of bytesToLineBatches(chunks, fromObjectStart)) yield* batch;
}

/**
 * {@link bytesToLines} a chunk's worth at a time: one await per chunk, not per line. Each chunk
 * is cut after its last `\n` (a `\n` byte is never inside a UTF-8 sequence, so each piece
 * decodes alone, as a streaming decoder would); a piece that is all ASCII (most data) is read as
 * Latin-1, without UTF-8 decoding. A BOM is dropped at the start of the stream only, and only when
 * the stream starts at its object's first byte (`fromObjectStart`): a range cut mid-object may
 * start with a line whose first character is U+FEFF, which is data.
 */
export async function* bytesToLineBatches(chunks: AsyncIterable<Uint8Array>, fromObjectStart = true): AsyncGenerator<string[]> {
  let carry: Uint8Array | undefined; // an unfinished line, copied (a producer may reuse its chunks; a Buffer's slice() would be a view)
  let atStart = fromObjectStart;
  const decode = (bytes: Uint8Array): string => {
    if (atStart) {
      atStart = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    return decodeText(bytes);
  };
  for await (const chunk of chunks) {
    const nl = chunk.lastIndexOf(0x0a);
    if (nl < 0) {
      carry = carry ? concatBytes([carry, chunk]) : new Uint8Array(chunk);
      continue;
    }
    // The line carried over is completed alone (a copy of one line, not of the chunk).
    const first = carry ? chunk.indexOf(0x0a) : -1;
    const joined = carry ? decode(concatBytes([carry, chunk.subarray(0, first)])) : undefined;
    carry = nl + 1 < chunk.byteLength ? new Uint8Array(chunk.subarray(nl + 1)) : undefined;
    let lines: string[];
    if (joined === undefined || first < nl) {
      const text = decode(chunk.subarray(first + 1, nl));
      lines = text.split("\n");
      if (text.includes("\r")) for (let i = 0; i < lines.length; i++) lines[i] = stripCr(lines[i]!);
      if (joined !== undefined) lines.unshift(stripCr(joined));
    } else lines = [stripCr(joined)];
    yield lines;
  }
  const rest = carry ? decode(carry) : "";
  if (rest.length > 0) yield [stripCr(rest)];
}

/**
 * UTF-8 text of `bytes` (a BOM kept); all-ASCII bytes (most data) are read as Latin-1, without
 * UTF-8 decoding. `strict`: bytes that are not UTF-8 throw (a TypeError) instead of becoming U+FFFD,
 * for bytes Smelter wrote itself, where they can only mean damage.
 */
export function decodeText(bytes: Uint8Array, strict = false): string {
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return (strict ? strictUtf8 : utf8).decode(bytes);
}

/** UTF-8 without dropping BOMs: a piece starting with U+FEFF mid-stream keeps it. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
const strictUtf8 = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** {@link readRangeLines} over an object of a store. */
export function readStoreRangeLines(store: ObjectStore, key: string, start: number, end: number, fileSize: number, options: RangeReadOptions & { signal?: AbortSignal } = {}): AsyncIterable<string> {
  const { signal, ...rest } = options;
  return readRangeLines(storeRangeReader(store, key, signal), start, end, fileSize, rest);
}

/** {@link readRangeBytes} over an object of a store. */
export function readStoreRangeBytes(store: ObjectStore, key: string, start: number, end: number, fileSize: number, options: RangeReadOptions & { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
  const { signal, ...rest } = options;
  return readRangeBytes(storeRangeReader(store, key, signal), start, end, fileSize, rest);
}
