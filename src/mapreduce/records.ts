/**
 * Records of one split, for map functions written in TypeScript (functions.ts): no DuckDB.
 *
 * - `lines`: each line as a string (without `\n` / `\r\n`).
 * - `ndjson`: each non-empty line parsed as JSON.
 * - `csv`: each line parsed by `csv-parse` (RFC 4180 quoting, no newlines inside quotes: splits
 *   are cut at newlines). With `header: true` the object's first line names the columns and each
 *   record is an object keyed by them; with `columns` likewise; otherwise an array of strings.
 * - `parquet`: each row of the split's row groups as an object, read with `hyparquet` by ranged
 *   GETs (column chunks of the split's row groups only; `columns` narrows further).
 *
 * Byte ranges are read record-aligned (csv-range.ts), so an object is never loaded whole. A
 * gzip/deflate object is one split, streamed through node:zlib. A malformed record is an error
 * naming the object, the split and the record, unless `badRecords: "skip"` (then counted).
 */
import { Readable } from "node:stream";
import { createGunzip, createInflate } from "node:zlib";
import { parse as csvParse } from "csv-parse/sync";
import { parquetReadObjects, type AsyncBuffer } from "hyparquet";
import { z } from "zod";
import { ConfigError, NonRetryableError } from "../job/errors.js";
import { bytesToLineBatches as lineBatches, bytesToLines as lines, readStoreRangeBytes } from "../splits/csv-range.js";
import { readParquetFooter } from "../splits/parquet.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";

export const recordFormatSchema = z.union([
  z.enum(["lines", "ndjson", "parquet", "auto"]),
  z.strictObject({
    csv: z.strictObject({
      /** The first line of each object names the columns. @default false */
      header: z.boolean().default(false),
      /** Column names for headerless files (records become objects). */
      columns: z.array(z.string().min(1)).optional(),
      /** @default "," */
      delimiter: z.string().min(1).default(","),
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
  /** Called with bytes fetched from the store. */
  onBytes?: (n: number) => void;
}

/** The records of one split, in order. */
export async function* readRecords(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncGenerator<unknown> {
  for await (const batch of readRecordBatches(store, split, o)) yield* batch;
}

/** {@link readRecords} a batch at a time (a chunk of about 1 MiB, or a Parquet row group): one await per batch. */
export async function* readRecordBatches(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  const format = o.format === "auto" ? (split.format === "csv" ? "lines" : split.format) : o.format;
  const where = `${store.url.replace(/\/$/, "")}/${split.key}`;
  if (format === "parquet" || split.format === "parquet") {
    if (format !== "parquet") throw new ConfigError(`${where} is Parquet: read it with records "parquet" (or "auto"), not ${JSON.stringify(format)}`);
    yield* parquetRows(store, split, o);
    return;
  }
  const batches = lineBatches(splitBytes(store, split, o));
  if (typeof format === "object") {
    const header = format.csv.header ? await csvHeader(store, split, format.csv.delimiter, o) : undefined;
    yield* csvRecords(batches, split, where, { delimiter: format.csv.delimiter, columns: header ?? format.csv.columns, skipFirst: header !== undefined && split.range.start === 0 }, o);
    return;
  }
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

/** The split's bytes: a record-aligned byte range, or a whole compressed object decompressed. */
function splitBytes(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncIterable<Uint8Array> {
  if (split.compression === undefined) {
    const counted = async function* () {
      for await (const c of readStoreRangeBytes(store, split.key, split.range.start, split.range.end, split.fileSize, o.signal ? { signal: o.signal } : {})) {
        o.onBytes?.(c.byteLength);
        yield c;
      }
    };
    return counted();
  }
  if (split.compression === "zstd") throw new NonRetryableError(`${split.key} is zstd-compressed, which Node 20's zlib cannot read: decompress it, or gzip it instead`);
  const whole = async function* () {
    const body = await store.get(split.key, o.signal ? { signal: o.signal } : {});
    o.onBytes?.(body.byteLength);
    yield body;
  };
  return Readable.from(whole()).pipe(split.compression === "gzip" ? createGunzip() : createInflate());
}

async function csvHeader(store: ObjectStore, split: Split, delimiter: string, o: RecordReadOptions): Promise<string[]> {
  const first = { ...split, range: { start: 0, end: Math.min(1, split.fileSize) } };
  for await (const line of lines(splitBytes(store, split.compression ? split : first, o))) {
    const [row] = csvParse(line, { delimiter }) as string[][];
    if (!row || row.length === 0) break;
    return row;
  }
  throw new NonRetryableError(`${split.key} has no header line: pass records { csv: { header: false, columns: [...] } } for headerless CSV`);
}

async function* csvRecords(batches: AsyncIterable<string[]>, split: Split, where: string, c: { delimiter: string; columns: string[] | undefined; skipFirst: boolean }, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  let n = 0;
  for await (const lines of batches) {
    const records: unknown[] = [];
    for (const line of lines) {
      n++;
      if ((n === 1 && c.skipFirst) || line === "") continue;
      let fields: string[];
      try {
        fields = (csvParse(line, { delimiter: c.delimiter }) as string[][])[0] ?? [];
      } catch (err) {
        bad(o, `${where}: CSV record ${n} of bytes [${split.range.start}, ${split.range.end}) is malformed (${(err as Error).message}): ${preview(line)}`);
        continue;
      }
      if (!c.columns) {
        records.push(fields);
        continue;
      }
      if (fields.length !== c.columns.length) {
        bad(o, `${where}: CSV record ${n} of bytes [${split.range.start}, ${split.range.end}) has ${fields.length} fields, the header ${c.columns.length}: ${preview(line)}`);
        continue;
      }
      const record: Record<string, string> = {};
      c.columns.forEach((name, i) => (record[name] = fields[i]!));
      records.push(record);
    }
    yield records;
  }
}

async function* parquetRows(store: ObjectStore, split: Split, o: RecordReadOptions): AsyncGenerator<unknown[]> {
  const footer = await readParquetFooter(store, split.key, { fileSize: split.fileSize, ...(o.signal ? { signal: o.signal } : {}) });
  const file: AsyncBuffer = {
    byteLength: split.fileSize,
    slice: async (start, end) => {
      const b = await store.get(split.key, { range: { start, end: end ?? split.fileSize }, ...(o.signal ? { signal: o.signal } : {}) });
      o.onBytes?.(b.byteLength);
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
