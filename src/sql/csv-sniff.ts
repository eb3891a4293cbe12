/**
 * Sniffing CSV as DuckDB alone does, shared by the catalog (a table's first objects, at planning)
 * and the SQL stage's tasks (every later object, by the task that reads its first records):
 * samples of an object's first rows ({@link sample}), DuckDB's `sniff_csv` over them
 * ({@link sniffCsv}), and the rules by which two objects' sniffs make one table or not
 * ({@link dialectDifference}, {@link castsTo}).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, inflateSync, constants as zlibConstants } from "node:zlib";
import type { DuckDb } from "../duckdb/index.js";
import { duckdbText, INVALID_UNICODE_HINT, isInvalidUnicode } from "../duckdb/messages.js";
import { sqlString } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import { csvDialectSchema, MAX_RECORD_BYTES } from "../splits/dialect.js";
import { FirstLineEnd } from "../splits/line-end.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { concatBytes } from "../storage/util.js";

/** The first read of a CSV or NDJSON sample; grown four-fold until it holds SAMPLE_LINES lines. */
const SAMPLE_BYTES = 256 * 1024;
/** Lines a CSV sample holds when the object has them: twice DuckDB's `sample_size` (20,480 rows), plus the header. */
export const SAMPLE_LINES = 2 * 20_480 + 1;
/** The most of an object's data a sample holds (rows of over 1.6 KB: DuckDB's sniffer then sees fewer rows than DuckDB alone's). */
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;


/**
 * The first rows of an object's data (decompressed), cut at its last complete line: at least
 * {@link SAMPLE_LINES} lines (twice DuckDB's `sample_size` of 20,480 rows, so that its sniffer,
 * which reads that many rows of the sample as it would of the object, sees the same rows even when
 * some records span two lines), or the whole object, or {@link MAX_SAMPLE_BYTES}; a zstd object
 * (no zstd in Node 20's zlib) whole and still compressed, `.zst` (DuckDB decompresses it).
 */
export type Sample = { bytes: Uint8Array; suffix: "" | ".zst" };

export async function sample(store: ObjectStore, split: Split, where: string): Promise<Sample> {
  let read: Uint8Array | undefined; // the object's prefix so far (as stored: compressed for gzip/deflate): each larger sample reads only what it adds
  for (let want = SAMPLE_BYTES; ; want *= 4) {
    if (split.compression !== "zstd") {
      const [have, end] = [read?.byteLength ?? 0, Math.min(split.fileSize, want, MAX_SAMPLE_BYTES)];
      if (end > have) {
        const more = await store.get(split.key, { range: { start: have, end } });
        read = read ? concatBytes([read, more]) : more;
      }
    }
    const s = await samplePrefix(store, split, where, Math.min(want, MAX_SAMPLE_BYTES), read);
    // A record over the limit ends the sample before it: the tasks refuse it, naming its object and offset.
    const long = s.sample.suffix ? -1 : longLineAt(s.sample.bytes, MAX_RECORD_BYTES);
    if (long >= 0) return { bytes: s.sample.bytes.subarray(0, long), suffix: s.sample.suffix };
    if (s.complete || want >= MAX_SAMPLE_BYTES || lineCount(s.sample.bytes) >= SAMPLE_LINES) return s.sample;
  }
}

/** Where the first line longer than `limit` bytes starts, or -1. */
function longLineAt(bytes: Uint8Array, limit: number): number {
  let start = 0;
  for (let nl = bytes.indexOf(10); ; nl = bytes.indexOf(10, start)) {
    const end = nl < 0 ? bytes.byteLength : nl;
    if (end - start > limit) return start;
    if (nl < 0) return -1;
    start = nl + 1;
  }
}

/** The first `want` bytes of an object's data as {@link sample} takes them (`read`: the object's first `want` stored bytes, read by the caller; a zstd object is read whole here), and whether that is all of it. */
async function samplePrefix(store: ObjectStore, split: Split, where: string, want: number, read?: Uint8Array): Promise<{ sample: Sample; complete: boolean }> {
  let bytes: Uint8Array;
  let complete: boolean;
  if (split.compression === undefined) {
    bytes = read ?? (await store.get(split.key, { range: { start: 0, end: Math.min(split.fileSize, want) } }));
    complete = split.fileSize <= want;
  } else {
    // A compressed prefix decompresses to a prefix of the data (zlib's sync flush keeps what it has).
    const take = split.compression === "zstd" ? split.fileSize : Math.min(split.fileSize, want);
    if (split.compression === "zstd" && split.fileSize > 64 * 2 ** 20) throw new ConfigError(`[smelter] [sql] ${where} is zstd-compressed and over 64 MiB: Smelter cannot sniff a part of it; pass --schema and the CSV options (--header, --delimiter, ...)`);
    const raw = read ?? (await store.get(split.key, { range: { start: 0, end: take } }));
    if (split.compression === "zstd") return { sample: { bytes: raw, suffix: ".zst" }, complete: true };
    complete = take === split.fileSize;
    try {
      const flush = { finishFlush: zlibConstants.Z_SYNC_FLUSH };
      bytes = split.compression === "gzip" ? gunzipSync(raw, flush) : inflateSync(raw, flush);
    } catch (err) {
      throw new ConfigError(`[smelter] [sql] ${where} is not valid ${split.compression} data (${(err as Error).message}): check the object, or rename it without the .${split.key.split(".").pop()} extension if it is not compressed`, { cause: err });
    }
    bytes = bytes.subarray(0, want);
    complete = complete && bytes.byteLength < want;
  }
  // A UTF-8 BOM marks the encoding, it is not data: DuckDB's sniffer takes it for part of the first field (a quoted first field then breaks its detection), its reader skips it.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (complete) return { sample: { bytes, suffix: "" }, complete };
  const cut = bytes.lastIndexOf(10);
  if (cut < 0) {
    // No line break yet: a larger prefix is read (sample), up to the most a sample holds.
    if (want < MAX_SAMPLE_BYTES) return { sample: { bytes: bytes.subarray(0, 0), suffix: "" }, complete: false };
    throw new ConfigError(`[smelter] [sql] ${where}: its first ${bytes.byteLength} bytes hold no line break, so its columns cannot be sniffed: pass --schema and the CSV options`);
  }
  return { sample: { bytes: bytes.subarray(0, cut + 1), suffix: "" }, complete };
}

/** Lines in `bytes` (a last line without its LF counts). */
export function lineCount(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n + (bytes.byteLength > 0 && bytes[bytes.byteLength - 1] !== 10 ? 1 : 0);
}


/** What a sniff found: whether the first line is a header, the columns, the dialect. */
export type Sniffed = { header: boolean; columns: { name: string; type: string }[]; dialect: SniffedDialect };
export type SniffedDialect = { delimiter: string; quote: string; escape: string; header: boolean; dateFormat?: string; timestampFormat?: string };

/** The CSV options a sniff is told (given by the user); the rest it detects. */
export interface SniffOptions {
  delimiter?: string | undefined;
  quote?: string | undefined;
  escape?: string | undefined;
  header?: boolean | undefined;
  nullString?: string | undefined;
  dateFormat?: string | undefined;
  timestampFormat?: string | undefined;
  /** `skip`: the sniffer skips rows it cannot read, as DuckDB alone's does with ignore_errors. */
  badRows?: "fail" | "skip" | undefined;
}

/** Runs a function on a DuckDB (the catalog's one, queued; or a task's). */
export type WithDuckDb = <T>(f: (db: DuckDb) => Promise<T>) => Promise<T>;

/** DuckDB's sniff_csv over a sample, told the options given; `path`: the sample is already written there. */
export async function sniffCsv({ bytes, suffix }: Sample, o: SniffOptions, where: string, use: WithDuckDb, path?: string): Promise<Sniffed> {
  // DuckDB's sniffer takes the first line break for the line ending, even a quoted one (a CRLF sample whose first record holds a quoted LF fails): told the first record's ending when a quoted break comes first.
  const quote = o.quote ?? '"';
  const [physical, record] = [new FirstLineEnd(undefined), new FirstLineEnd({ quote, escape: o.escape ?? quote })];
  physical.feed(bytes);
  record.feed(bytes);
  const newLine = suffix === "" && record.found && record.found !== physical.found ? record.found : undefined;
  const at = { where, file: "its sample", ...(newLine ? { newLine } : {}) };
  if (path !== undefined) return sniffCsvFile(path, o, at, use);
  return withTempFile(async (file) => {
    await writeFile(`${file}.csv${suffix}`, bytes);
    return sniffCsvFile(`${file}.csv${suffix}`, o, at, use);
  });
}

const ISO_DATE = "%Y-%m-%d";

/** read_csv / sniff_csv arguments for the CSV options the user gave (what DuckDB alone is told). */
export function givenCsvArgs(o: SniffOptions): string[] {
  const args: string[] = [];
  if (o.delimiter !== undefined) args.push(`delim = ${sqlString(o.delimiter)}`);
  if (o.quote !== undefined) args.push(`quote = ${sqlString(o.quote)}`);
  if (o.escape !== undefined) args.push(`escape = ${sqlString(o.escape)}`);
  if (o.header !== undefined) args.push(`header = ${o.header}`);
  if (o.nullString !== undefined) args.push(`nullstr = ${sqlString(o.nullString)}`);
  if (o.dateFormat !== undefined) args.push(`dateformat = ${sqlString(o.dateFormat)}`);
  if (o.timestampFormat !== undefined) args.push(`timestampformat = ${sqlString(o.timestampFormat)}`);
  if (o.badRows === "skip") args.push("ignore_errors = true");
  return args;
}

/**
 * DuckDB's sniff_csv over a local CSV file (its first 20,480 rows), told the options given and,
 * when known, the line ending; `at.file` names the file in messages.
 */
export async function sniffCsvFile(path: string, o: SniffOptions, at: { where: string; file: string; newLine?: "\r\n" | "\n" }, use: WithDuckDb): Promise<Sniffed> {
  const { where } = at;
  const { delimiter, quote, escape, header, nullString, dateFormat, timestampFormat } = o;
  csvDialectSchema.partial().parse(Object.fromEntries(Object.entries({ delimiter, quote, escape, header, nullString, dateFormat, timestampFormat }).filter(([, v]) => v !== undefined)));
  const args = givenCsvArgs(o);
  if (at.newLine) args.push(`new_line = ${at.newLine === "\r\n" ? "'\\r\\n'" : "'\\n'"}`);
  try {
    type Row = { Delimiter: string; Quote: string; Escape: string; NewLineDelimiter: string; HasHeader: boolean; Columns: { name: string; type: string }[]; DateFormat: string | null; TimestampFormat: string | null };
    const [row] = await use((db) => db.all<Row>(`SELECT Delimiter, Quote, Escape, NewLineDelimiter, HasHeader, Columns, DateFormat, TimestampFormat FROM sniff_csv(${[sqlString(path), ...args].join(", ")})`));
    if (!row) throw new Error("sniff_csv returned nothing");
    // Records are found and cut at LF (ranges, headers, compressed objects): lines ended by a bare CR would read as one line, no rows.
    if (row.NewLineDelimiter === "\\r") throw new ConfigError(`[smelter] [sql] ${where} ends its lines with a bare CR (\\r without \\n, as classic Mac OS wrote them): Smelter reads CSV lines ended by LF or CRLF only. Convert the line endings (for example tr '\\r' '\\n' < in.csv > out.csv)`);
    const char = (c: string) => (c === "(empty)" ? "" : c);
    const dialect = {
      delimiter: char(row.Delimiter),
      quote: char(row.Quote),
      escape: char(row.Escape),
      header: row.HasHeader === true,
      // DuckDB reads a DATE sniffed as ISO (%Y-%m-%d) with its cast, not strptime: 'infinity', 'epoch', BC and 5-digit years read; told the format, strptime reads 'infinity' as 1900-01-01.
      ...(row.DateFormat && row.DateFormat !== ISO_DATE ? { dateFormat: row.DateFormat } : {}),
      ...(row.TimestampFormat ? { timestampFormat: row.TimestampFormat } : {}),
    };
    if (dialect.delimiter.length !== 1) throw new Error(`sniffed delimiter ${JSON.stringify(dialect.delimiter)} is not one character`);
    return { header: dialect.header, columns: row.Columns.map((c) => ({ name: c.name, type: c.type })), dialect };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const message = duckdbText((err as Error).message.replace(/^\[smelter\] (DuckDB: )?/, "")).replaceAll(`"${path}"`, at.file).replaceAll(path, at.file);
    const hint = isInvalidUnicode((err as Error).message) ? INVALID_UNICODE_HINT : "pass the CSV options (--delimiter, --quote, --header ...) or --schema";
    throw new ConfigError(`[smelter] [sql] ${where} cannot be read as CSV: ${message}. ${hint.replace(/^./, (c) => c.toUpperCase())}`, { cause: err });
  }
}

/**
 * How another object's sniffed dialect differs from a table's, or undefined when a table read
 * with the table's dialect reads it as its own would: the same header, delimiter, and quote and
 * escape characters, where none seen in the other ("") reads the same as any. `adoptable`: the
 * table saw no quote (or escape) and the other object does; the catalog then takes the other's
 * for the table (when the types agree too), a task cannot (the table's other objects are read
 * with the table's dialect).
 */
export function dialectDifference(table: SniffedDialect, other: SniffedDialect): { what: string; table: string; other: string; adoptable: boolean } | undefined {
  if (other.header !== table.header) return { what: "a header", table: String(table.header), other: String(other.header), adoptable: false };
  if (other.delimiter !== table.delimiter) return { what: "delimiter", table: table.delimiter, other: other.delimiter, adoptable: false };
  for (const k of ["quote", "escape"] as const) {
    const [a, b] = [table[k], other[k]];
    if (a === b || b === "") continue;
    return { what: k, table: a, other: b, adoptable: a === "" };
  }
  return undefined;
}

/** DuckDB's type ids of sniffed CSV columns, each with the ids it widens to (DuckDB's CSVSchema::CanWeCastIt). */
const WIDENS_TO: Record<string, string[]> = {
  SQLNULL: ["*"],
  TINYINT: ["SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "HUGEINT", "BIGNUM", "FLOAT", "DOUBLE"],
  SMALLINT: ["INTEGER", "BIGINT", "DECIMAL", "HUGEINT", "BIGNUM", "FLOAT", "DOUBLE"],
  INTEGER: ["BIGINT", "DECIMAL", "HUGEINT", "BIGNUM", "FLOAT", "DOUBLE"],
  BIGINT: ["DECIMAL", "HUGEINT", "BIGNUM", "FLOAT", "DOUBLE"],
  HUGEINT: ["BIGNUM", "DOUBLE"],
  UHUGEINT: ["BIGNUM", "DOUBLE"],
  BIGNUM: ["DOUBLE"],
  FLOAT: ["DOUBLE"],
};

/**
 * Whether a column DuckDB sniffed as `from` in one file of a glob may be read as `to`, the type
 * of the glob's columns, as DuckDB alone decides it (else "Schema mismatch between globbed
 * files"): the same type id, to VARCHAR, or a wider number.
 */
export function castsTo(from: string, to: string): boolean {
  const id = (t: string) => t.trim().toUpperCase().replace(/\(.*$/, "").trim();
  const [a, b] = [id(from), id(to)];
  if (a === b || b === "VARCHAR") return true;
  const wider = WIDENS_TO[a] ?? [];
  return wider.includes("*") || wider.includes(b);
}

/** Runs `f` with a path in a new temp directory, removed after. */
export async function withTempFile<T>(f: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-sql-"));
  try {
    return await f(join(dir, "sample"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
