/**
 * Records of one split, for map functions written in TypeScript (functions.ts): no DuckDB.
 *
 * - `lines`: each line as a string (without `\n` / `\r\n`).
 * - `ndjson`: each non-empty line parsed as JSON.
 * - `csv`: records parsed by `csv-parse` (RFC 4180 quoting) in the CSV dialect every path shares
 *   (splits/dialect.ts: delimiter, quote, escape, header, null string, whole objects). With
 *   `header: true` each object's header line names the columns and each record is an object keyed
 *   by them; with `columns` likewise; otherwise an array of strings. `nullString` fields are null.
 * - `parquet`: each row of the split's row groups as an object, read with `hyparquet` by ranged
 *   GETs (column chunks of the split's row groups only; `columns` narrows further).
 *
 * The bytes come from THE split reader (splits/csv-split.ts) that SQL and Query 2 use: the header
 * skipped once, record limit and quoted-newline checks, gzip/deflate streamed through node:zlib.
 * A malformed record is an error naming the object, the split and the record, unless
 * `badRecords: "skip"` (then counted). A record over the limit, or a quoted newline in a cut
 * object, always fails.
 */
import { pipeline, Readable } from "node:stream";
import { parse as csvParseStream } from "csv-parse";
import { parquetReadObjects, type AsyncBuffer } from "hyparquet";
import { z } from "zod";
import { ConfigError, NonRetryableError } from "../job/errors.js";
import { bytesToLineBatches as lineBatches } from "../splits/csv-range.js";
import { csvParseOptions } from "../splits/csv-split.js";
import { csvDialectSchema, type CsvDialect } from "../splits/dialect.js";
import { readParquetFooter } from "../splits/parquet.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { RangedReader } from "../storage/ranged.js";
import { openSplitReads, pinnedRead, workerReadAhead } from "./split-reads.js";

export const recordFormatSchema = z.union([
  z.enum(["lines", "ndjson", "parquet", "auto"]),
  z.strictObject({
    csv: csvDialectSchema.extend({
      /** Column names for headerless files (records become objects). */
      columns: z.array(z.string().min(1)).optional(),
    }),
  }),
]);
/** How a map function's records are read. `auto` (the default): by extension, NDJSON/Parquet parsed, anything else as lines. */
export type RecordFormat = z.input<typeof recordFormatSchema>;

export interface RecordReadOptions {
  format: z.output<typeof recordFormatSchema>;
  /** `fail` (default): a malformed record fails the task, without retries. `skip`: count it and go on. */
  badRecords: "fail" | "skip";
  signal?: AbortSignal;
  /** Called for each skipped record. */
  onBadRecord?: (message: string) => void;
  /**
   * Reads the split's bytes: CSV/NDJSON in read-ahead blocks (split-reads.ts), Parquet column
   * chunks as hedged GETs; its counters (`reader.reportTo`) tell the bytes and GETs. @default a new
   * reader of `store`
   */
  reader?: RangedReader;
  /** Block size, blocks ahead and bytes per read of a CSV/NDJSON range. @default {@link workerReadAhead}, 1 MiB reads (a batch of records) */
  readAhead?: { blockSize: number; ahead: number; chunkSize: number };
}

/** A batch of records is about this many bytes of lines (CSV: 1,000 records). */
const RECORD_CHUNK_BYTES = 1024 * 1024;

/** The records of one split, in order. */
export async function* readRecords(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncGenerator<unknown> {
  for await (const batch of readRecordBatches(store, split, o)) yield* batch;
}

/** {@link readRecords} a batch at a time (a chunk of about 1 MiB, 1,000 CSV records, or a Parquet row group): one await per batch. */
export async function* readRecordBatches(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  const format = o.format === "auto" ? (split.format === "csv" ? "lines" : split.format) : o.format;
  const where = `${store.url.replace(/\/$/, "")}/${split.key}`;
  const reader = o.reader ?? new RangedReader(store);
  if (format === "parquet" || split.format === "parquet") {
    if (format !== "parquet") throw new ConfigError(`${where} is Parquet: read it with records "parquet" (or "auto"), not ${JSON.stringify(format)}`);
    yield* parquetRows(store, reader, split, o);
    return;
  }
  const open = (dialect: CsvDialect | undefined) =>
    openSplitReads(reader, { ...split, format: dialect ? "csv" : split.format }, dialect, {
      object: where,
      readAhead: o.readAhead ?? workerReadAhead(RECORD_CHUNK_BYTES),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  if (typeof format === "object") {
    const { columns, ...dialect } = format.csv;
    const data = await open(dialect);
    try {
      // csv-parse's stream reads ahead of the records it gives: it gets copies, not views of blocks read into again.
      yield* csvRecords(copies(data.bytes), data.fromObjectStart, split, where, dialect, data.header ?? columns, o);
    } finally {
      data.release();
    }
    return;
  }
  const data = await open(undefined);
  try {
    // Lines are decoded from each view before the next read (bytesToLineBatches copies what it carries over).
    yield* linesOrJson(lineBatches(data.bytes, data.fromObjectStart), format, split, where, o);
  } finally {
    data.release();
  }
}

async function* copies(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) yield Buffer.from(c); // a copy (a Buffer's slice() would be a view)
}

async function* linesOrJson(batches: AsyncIterable<string[]>, format: "lines" | "ndjson", split: Split, where: string, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  if (format === "lines") {
    yield* batches;
    return;
  }
  let n = 0;
  for await (const lines of batches) {
    const values: unknown[] = [];
    for (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      try {
        values.push(JSON.parse(line));
      } catch (err) {
        bad(o, `${where}: record ${n} of bytes [${split.range.start}, ${split.range.end}) is not JSON (${(err as Error).message}): ${preview(line)}`);
      }
    }
    yield values;
  }
}

/** CSV records of a split's data bytes (streamed through csv-parse: quoted fields may hold newlines in an object read whole). */
async function* csvRecords(bytes: AsyncIterable<Uint8Array>, fromObjectStart: boolean, split: Split, where: string, dialect: CsvDialect, columns: string[] | undefined, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  const span = `bytes [${split.range.start}, ${split.range.end})`;
  // A BOM only at the object's first byte: a range's first record may start with U+FEFF as data.
  const parser = csvParseStream({ ...csvParseOptions(dialect), bom: fromObjectStart, skip_empty_lines: true, info: true, ...(o.badRecords === "skip" ? { skip_records_with_error: true } : {}) });
  // pipeline, not pipe: an error of the reader (a record over the limit, a quoted newline in a cut object) reaches the loop below.
  pipeline(Readable.from(bytes), parser, () => undefined);
  parser.on("skip", (err: Error) => o.onBadRecord?.(`${where}: a CSV record of ${span} is malformed (${err.message})`));
  const nul = dialect.nullString;
  let batch: unknown[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { records: number; lines: number } }>) {
      const fields = nul === undefined ? item.record : item.record.map((f) => (f === nul ? null : f));
      if (!columns) batch.push(fields);
      else if (fields.length !== columns.length) {
        bad(o, `${where}: CSV record ${item.info.records} of ${span} has ${fields.length} fields, the header ${columns.length}: ${preview(item.record.join(dialect.delimiter))}`);
      } else {
        const record: Record<string, string | null> = {};
        columns.forEach((name, i) => (record[name] = fields[i]!));
        batch.push(record);
      }
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    if (err instanceof NonRetryableError) throw err;
    throw new NonRetryableError(`${where}: a CSV record of ${span} is malformed (${(err as Error).message}). Fix the input, or pass badRecords: "skip" to count and skip malformed records`, { cause: err, type: "InputError" });
  }
  if (batch.length > 0) yield batch;
}

async function* parquetRows(store: ObjectStore, reader: RangedReader, split: Split, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  const footer = await readParquetFooter(store, split.key, { fileSize: split.fileSize, ...pinnedRead(split, o.signal) });
  const file: AsyncBuffer = {
    byteLength: split.fileSize,
    slice: async (start, end) => {
      const b = await reader.getRange(split.key, { start, end: end ?? split.fileSize }, pinnedRead(split, o.signal));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  const groups = footer.metadata.row_groups;
  const starts = [0];
  for (const g of groups) starts.push(starts[starts.length - 1]! + Number(g.num_rows));
  for (const g of split.rowGroups ?? groups.map((_, i) => i)) {
    const rows = await parquetReadObjects({ file, metadata: footer.metadata, rowStart: starts[g]!, rowEnd: starts[g + 1]! }).catch((err: unknown) => {
      throw new NonRetryableError(`${split.key}: row group ${g} could not be decoded (${(err as Error).message}); hyparquet reads snappy, gzip and uncompressed Parquet`, { cause: err });
    });
    yield rows;
  }
}

function bad(o: RecordReadOptions, message: string): void {
  if (o.badRecords === "skip") {
    o.onBadRecord?.(message);
    return;
  }
  throw new NonRetryableError(`${message}. Fix the input, or pass badRecords: "skip" to count and skip malformed records`);
}

function preview(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
}
