/**
 * THE reader of a CSV/NDJSON split, shared by every path (SQL stages and Query 2 through
 * materialize.ts, the functions API through records.ts): the data records the split owns, never
 * the header line, with the object's column names when the dialect has a header.
 *
 * - A byte range owns the records whose first byte it holds (csv-range.ts). With a header, the
 *   header line is read first (a small ranged GET at offset 0) and the data are the records of
 *   [max(start, h), end), h = the header's length: the header is skipped exactly once, by the
 *   range that holds offset 0, whatever the cut. Every range knows its object's column names, so
 *   objects whose headers list the same columns in another order are matched by name.
 * - A gzip/deflate object is one split, decompressed as it streams (node:zlib); its first line is
 *   the header. One that decompresses to nothing has no header and no records (no error: DuckDB
 *   alone reads it as no rows, as an empty uncompressed object, which listing skips).
 * - Every record is checked against {@link MAX_RECORD_BYTES} (an error naming the object, the
 *   byte offset and the limit) and, in a range that is part of an object, for quoted newlines
 *   (dialect.ts).
 */
import { Readable } from "node:stream";
import { createGunzip, createInflate } from "node:zlib";
import { parse as csvParse } from "csv-parse/sync";
import { NonRetryableError } from "../job/errors.js";
import { readRangeBytes, RecordCheck, type ReadRangeFn } from "./csv-range.js";
import { MAX_RECORD_BYTES, parityQuote, type CsvDialect } from "./dialect.js";
import type { Split } from "./split.js";

/** What a split holds: its data records' bytes (no header line), and the object's header names. */
export interface CsvSplitData {
  /** The object's column names (dialect.header), as its header line lists them. */
  header?: string[];
  /** The data records' exact bytes (newlines kept). */
  bytes: AsyncIterable<Uint8Array>;
  /**
   * Whether `bytes` begin at the object's first byte (no header line before them): only there is
   * a leading U+FEFF the object's BOM. Anywhere else (a range cut mid-object, the records after a
   * header) it is data, and a reader that drops a BOM at its input's start must not drop it.
   */
  fromObjectStart: boolean;
}

export interface CsvSplitOptions {
  /** Reads bytes of the split's object. */
  read: ReadRangeFn;
  /** Streams a whole (compressed) object. @default one read of all of it */
  stream?: () => AsyncIterable<Uint8Array>;
  /** How the object is named in errors (its URL). */
  object: string;
  /** Bytes per ranged GET inside the range. @default 1 MiB */
  chunkSize?: number;
  /** Called with the bytes fetched (compressed objects: the compressed bytes). */
  onBytes?: (n: number) => void;
}

/** A split's data records and its object's header, for a CSV dialect (or NDJSON: `dialect` undefined). */
export async function openCsvSplit(split: Split, dialect: CsvDialect | undefined, o: CsvSplitOptions): Promise<CsvSplitData> {
  const header = dialect?.header === true && split.format === "csv";
  const counted: ReadRangeFn = async (start, end) => {
    const b = await o.read(start, end);
    o.onBytes?.(b.byteLength);
    return b;
  };
  if (split.compression !== undefined) {
    if (split.compression === "zstd") throw new NonRetryableError(`${o.object} is zstd-compressed, which Node 20's zlib cannot read: decompress it, or gzip it instead`);
    const whole = async function* () {
      if (!o.stream) {
        yield await counted(0, split.fileSize);
        return;
      }
      for await (const c of o.stream()) {
        o.onBytes?.(c.byteLength);
        yield c;
      }
    };
    const plain = Readable.from(whole()).pipe(split.compression === "gzip" ? createGunzip() : createInflate()) as AsyncIterable<Uint8Array>;
    const checked = RecordCheck.wrap(plain, o.object, MAX_RECORD_BYTES);
    if (!header) return { bytes: checked, fromObjectStart: true };
    const { first, rest } = await splitFirstRecord(checked);
    // An object of no data (a gzip of nothing) holds no header and no records, as an empty uncompressed object.
    if (first.byteLength === 0) return { bytes: rest, fromObjectStart: false };
    return { header: parseHeader(first, dialect, o.object), bytes: rest, fromObjectStart: false };
  }
  const opts = { maxRecordBytes: MAX_RECORD_BYTES, object: o.object, ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}) };
  const quote = dialect ? parityQuote(dialect) : undefined;
  if (!header) return { bytes: readRangeBytes(counted, split.range.start, split.range.end, split.fileSize, { ...opts, ...(quote ? { quote } : {}) }), fromObjectStart: split.range.start === 0 };
  const first = await readHeaderLine(counted, split.fileSize, o.object);
  const from = Math.max(split.range.start, first.byteLength);
  const to = Math.max(from, split.range.end);
  // The data of a range that covered the object from 0 to its end is still "part of the object" only if cut.
  const cut = split.range.start > 0 || split.range.end < split.fileSize;
  return {
    header: parseHeader(first, dialect!, o.object),
    bytes: readRangeBytes(counted, from, to, split.fileSize, { ...opts, ...(quote && cut ? { quote } : {}) }),
    fromObjectStart: false,
  };
}

/** The object's first line (its bytes, newline included): GETs from offset 0 of 64 KiB, doubling until a newline. */
async function readHeaderLine(read: ReadRangeFn, fileSize: number, object: string): Promise<Uint8Array> {
  for (let want = 64 * 1024; ; want *= 2) {
    const end = Math.min(fileSize, want);
    const bytes = await read(0, end);
    const nl = bytes.indexOf(10);
    if (nl >= 0) return bytes.subarray(0, nl + 1);
    if (end >= fileSize) return bytes;
    if (end > MAX_RECORD_BYTES) throw new NonRetryableError(`${object}: the header line is longer than the limit of ${MAX_RECORD_BYTES} bytes: is this a CSV object with a header?`, { type: "InputError" });
  }
}

/** The first record of a stream and the rest. */
async function splitFirstRecord(chunks: AsyncIterable<Uint8Array>): Promise<{ first: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const it = chunks[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let after: Uint8Array | undefined;
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    const nl = r.value.indexOf(10);
    if (nl < 0) {
      parts.push(r.value);
      continue;
    }
    parts.push(r.value.subarray(0, nl + 1));
    after = r.value.subarray(nl + 1);
    break;
  }
  const rest = async function* () {
    if (after && after.byteLength > 0) yield after;
    if (after === undefined) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  };
  return { first: concat(parts), rest: rest() };
}

/** Column names from a header line (the dialect's quoting; a UTF-8 BOM dropped). */
export function parseHeader(line: Uint8Array, dialect: Pick<CsvDialect, "delimiter" | "quote" | "escape">, object: string): string[] {
  const text = new TextDecoder().decode(line).replace(/^\uFEFF/, "").replace(/\r?\n$/, "");
  if (text === "") throw new NonRetryableError(`${object} has no header line (it is empty, or starts with an empty line): give the columns instead (--schema, or records { csv: { header: false, columns } })`, { type: "InputError" });
  try {
    const [row] = csvParse(text, csvParseOptions(dialect)) as string[][];
    return row ?? [];
  } catch (err) {
    throw new NonRetryableError(`${object}: the header line cannot be read as CSV (${(err as Error).message})`, { type: "InputError", cause: err });
  }
}

/** csv-parse's options for a dialect. */
export function csvParseOptions(d: Pick<CsvDialect, "delimiter" | "quote" | "escape">): { delimiter: string; quote: string | false; escape: string | false; relax_column_count: boolean } {
  return { delimiter: d.delimiter, quote: d.quote === "" ? false : d.quote, escape: d.quote === "" ? false : d.escape === "" ? d.quote : d.escape, relax_column_count: true };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
