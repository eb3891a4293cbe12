/**
 * Table definitions from `NAME=URL`, optional schemas and input options: lists each table's
 * objects (splits, bytes), settles the format (given, or by extension: CSV, NDJSON, Parquet) and,
 * for CSV, the dialect: the options given, the rest sniffed by DuckDB (`sniff_csv`) from samples of
 * the first objects (csv-sniff.ts: as many rows as DuckDB alone's sniffer reads, decompressed when
 * gzip/deflate/zstd; objects after the 10th are sniffed by the tasks reading them,
 * builtin-workers/csv-object-check.ts). Columns come
 * from --schema, a Parquet footer, the CSV sample (header names, or DuckDB's column0..), or the
 * NDJSON sample (`read_json`'s detection).
 * Each table is listed ONCE: `resolveCatalog` hands the listing to execution (src/query/ packs the
 * tasks from it), so `explain` shows the tasks that run and nothing lists a table twice.
 */
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { openDuckDb, type DuckDb } from "../duckdb/index.js";
import { csvDialectArgs, sqlIdentifier, sqlString } from "../duckdb/sql.js";
import { duckdbText } from "../duckdb/messages.js";
import { ConfigError } from "../job/errors.js";
import { csvDialectSchema, dialectSplittable, type CsvDialectInput } from "../splits/dialect.js";
import { listInput, type InputListing } from "../splits/listing.js";
import { cutSplit } from "../splits/pack.js";
import { asciiLower, hiveDirectory, hivePairs, hiveValuesSql, type HiveColumn } from "../splits/hive.js";
import { readParquetFooter } from "../splits/parquet.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import { objectUrl } from "../storage/versions.js";
import { dialectDifference, givenCsvArgs, lineCount, sample, sniffCsv, withTempFile, type Sample, type Sniffed, type WithDuckDb } from "./csv-sniff.js";
import type { SqlTableInput } from "./tables.js";

/** Input options of a table: its format and CSV dialect; what is not given is detected. */
export interface TableOptions extends Partial<Omit<CsvDialectInput, "header">> {
  format?: "csv" | "ndjson" | "parquet" | "auto";
  /** Rows DuckDB cannot read: fail (default) or skip (counted). */
  badRows?: "fail" | "skip";
  /** true / false, or undefined: sniffed. */
  header?: boolean;
  /**
   * false: read a table in hive-style directories (`year=2024/`) with the objects' own columns only,
   * as DuckDB's `hive_partitioning = false`. Otherwise the directories' keys are columns after the
   * objects' own, as DuckDB alone reads them ({@link hiveColumns}).
   */
  hive?: boolean;
}

export interface TableRequest {
  name: string;
  url: string;
  /** Columns from --schema, if given. */
  columns?: { name: string; type: string }[];
  options?: TableOptions;
}

/** Resolves tables: listing (splits, bytes), format, dialect, and columns when not given. */
export async function resolveTables(requests: TableRequest[], options: { targetSplitBytes?: number } = {}): Promise<SqlTableInput[]> {
  return (await resolveCatalog(requests, options)).tables;
}

/** Resolved tables, and each table's one listing by table name (hand it to execution). */
export interface Catalog {
  tables: SqlTableInput[];
  listings: Map<string, InputListing>;
}

/** Resolves tables as {@link resolveTables} does, keeping each table's listing for execution. */
export async function resolveCatalog(requests: TableRequest[], options: { targetSplitBytes?: number } = {}): Promise<Catalog> {
  const listings = new Map<string, InputListing>();
  const db = new CatalogDb();
  // Every table settles before the DuckDB closes: one failing while others still sniffed on it closed it under them (a segfault, or a hang ignoring SIGTERM).
  const settled = await Promise.allSettled(requests.map((r) => resolveTable(r, options.targetSplitBytes ?? 64 * 1024 * 1024, (l) => listings.set(r.name, l), db)));
  await db.close();
  const failed = settled.find((x) => x.status === "rejected");
  if (failed) throw failed.reason;
  return { tables: settled.map((x) => (x as PromiseFulfilledResult<SqlTableInput>).value), listings };
}

/** One DuckDB for all of a catalog's sniffing and describing: opened at first use (a DuckDB costs ~0.1 s), one query at a time, closed when the catalog is resolved. */
class CatalogDb {
  #db: Promise<DuckDb> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Runs `f` on the catalog's DuckDB after the queries before it (a {@link WithDuckDb}). */
  readonly use = <T>(f: (db: DuckDb) => Promise<T>): Promise<T> => {
    if (this.#closed) return Promise.reject(new Error("[smelter] internal: the catalog's DuckDB is closed"));
    const run = this.#queue.then(async () => f(await (this.#db ??= openDuckDb({ threads: 1 }))));
    this.#queue = run.catch(() => undefined);
    return run;
  };

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    (await this.#db?.catch(() => undefined))?.close();
  }
}

async function resolveTable(r: TableRequest, targetSplitBytes: number, onListing: (listing: InputListing) => void, db: CatalogDb): Promise<SqlTableInput> {
  const { store, key } = await openStore(r.url);
  const o = r.options ?? {};
  const given = o.format && o.format !== "auto" ? o.format : undefined;
  let splits: Split[];
  let empty: string[];
  try {
    const listing = await listInput(store, key, given ? { format: given } : {});
    onListing(listing);
    splits = listing.splits;
    empty = listing.emptyKeys ?? [];
  } catch (err) {
    throw new ConfigError(`[smelter] [sql] cannot list table ${r.name} at ${r.url}: ${(err as Error).message.replace(/^\[smelter\] /, "")}`, { cause: err });
  }
  if (splits.length === 0) throw new ConfigError(`[smelter] [sql] no objects for table ${r.name} at ${r.url} (empty objects, and paths with a directory or name starting with _ or ., are skipped): check the URL (a prefix like s3://bucket/uservisits/ or a glob like data/part-*)`);
  const format = given ?? splits[0]!.format;
  const other = splits.find((s) => s.format !== format);
  if (other) throw new ConfigError(`[smelter] [sql] table ${r.name} mixes ${format} and ${other.format} objects at ${r.url} (${splits[0]!.key}, ${other.key}): narrow the URL with a glob (*.${format === "ndjson" ? "ndjson" : format}), or pass --input-format`);
  // Empty objects too: DuckDB alone's glob holds them, and their directories count for its hive columns.
  const hive = o.hive === false ? undefined : await hiveColumns(r, [...splits.map((s) => s.key), ...empty].map((k) => objectUrl(store.url, k)), db);
  const table = await fileTable(r, store, splits, format, given, targetSplitBytes, db);
  return hive ? withHive(r, table, hive) : table;
}

/** A table's own columns (and CSV dialect), from --schema, a Parquet footer or samples of its objects. */
async function fileTable(r: TableRequest, store: ObjectStore, splits: Split[], format: Split["format"], given: string | undefined, targetSplitBytes: number, db: CatalogDb): Promise<SqlTableInput> {
  const o = r.options ?? {};
  // Objects whole in the listing; `splits` is the planner's size hint (splits of targetSplitBytes), tasks are packed at run time.
  const bytes = splits.reduce((s, x) => s + x.fileSize, 0);
  const base = { name: r.name, url: r.url, format, bytes, splits: splits.reduce((n, x) => n + cutSplit(x, targetSplitBytes).length, 0), ...(o.badRows ? { badRows: o.badRows } : {}) };
  const urlOf = (s: Split) => objectUrl(store.url, s.key);
  const whereOf = (s: Split) => `table ${r.name}'s ${s === splits[0] ? "first " : ""}object ${urlOf(s)}`;
  if (format === "parquet") return { ...base, columns: r.columns ?? (await parquetColumns(store, splits[0]!, db)) };
  if (format === "ndjson") {
    if (r.columns) return { ...base, columns: r.columns };
    const { columns, unreadable } = await sniffJson(store, splits, whereOf, db);
    return { ...base, columns, ...(unreadable ? { unreadable: [unreadable] } : {}) };
  }
  const { split: first, sample: firstSample } = await csvSampleObject(store, splits, whereOf);
  const firstObject = urlOf(first);
  const where = whereOf(first);
  const firstSniff = await sniffCsv(firstSample, o, where, db.use).catch((err: unknown) => {
    // Nothing left to sniff: columns, delimiter and header given (the sample may hold rows --bad-rows skip drops).
    if (r.columns && o.delimiter !== undefined && o.header !== undefined) return given_(o, r.columns);
    // No data in any object (empty, or gzips of nothing): no rows to read whatever the dialect.
    if (r.columns && firstSample.bytes.byteLength === 0 && splits.length <= CSV_SAMPLE_FILES) return given_(o, r.columns);
    throw err;
  });
  const sniffed = await sniffOthers(store, splits, { split: first, sample: firstSample, sniffed: firstSniff }, o, r, whereOf, db);
  const detected = Object.keys(sniffed.dialect).filter((k) => o[k as keyof TableOptions] === undefined);
  const { format: _format, badRows: _badRows, hive: _hive, ...options } = definedOnly(o);
  const dialect = { ...sniffed.dialect, ...options };
  // Objects that cannot be cut are one split each (discovery cuts them again for the tasks: tables.ts discoveryOptionsOf).
  if (!dialectSplittable({ whole: false, ...dialect })) base.splits = new Set(splits.map((s) => s.key)).size;
  if (!r.columns && !sniffed.header && o.header !== false) throw new ConfigError(`[smelter] [sql] table ${r.name}'s CSV at ${r.url} has no header line: pass --schema ${r.name}='col TYPE, ...' (or --schema ${r.name}=bdb:uservisits / bdb:rankings), or --header no for DuckDB's column names (column0, column1, ...)`);
  const columns = r.columns ?? sniffed.columns;
  if (r.columns && sniffed.header && sniffed.columns.length !== r.columns.length) {
    throw new ConfigError(`[smelter] [sql] table ${r.name}: --schema gives ${r.columns.length} columns, the header of its object ${firstObject} has ${sniffed.columns.length} (${sniffed.columns.map((c) => c.name).join(", ")}): list every column, in file order`);
  }
  const header = sniffed.columns.map((c) => c.name);
  // Columns sniffed from the first objects: each later one is sniffed by the task reading its first records (DuckDB alone sniffs each file of a glob; with columns given it sniffs none).
  const sniffedKeys = [...new Set([first.key, ...splits.slice(0, CSV_SNIFF_FILES).map((s) => s.key)])];
  const givenOptions = { delimiter: o.delimiter, quote: o.quote, escape: o.escape, dateFormat: o.dateFormat, timestampFormat: o.timestampFormat };
  const sniffedFrom = !r.columns && splits.some((s) => !sniffedKeys.includes(s.key)) ? { sniffedFrom: { objects: sniffedKeys, given: definedOnly(givenOptions) } } : {};
  return { ...base, columns, ...dialect, ...(sniffed.header ? { headerNames: r.columns ? headerNamesFor(r.columns, header) : header } : {}), ...sniffedFrom, detected, ...(sniffed.unreadable ? { unreadable: sniffed.unreadable } : {}) };
}

/** Samples written as `${file}-<i>.<ext>` (with a zstd sample's suffix), for DuckDB to read; their paths. */
function writeSamples(file: string, ext: string, samples: Sample[]): Promise<string[]> {
  return Promise.all(samples.map(async ({ bytes, suffix }, i) => {
    const path = `${file}-${i}.${ext}${suffix}`;
    await writeFile(path, bytes);
    return path;
  }));
}

/** Columns a query may not read, and why (tables.ts `unreadable`). */
type Unreadable = { columns: string[]; reason: string };

/**
 * DuckDB alone sniffs up to 10 of a glob's files (`files_to_sniff`): each with its own dialect, and
 * the column types unified over them (a column of whole numbers in one file and fractions in the
 * next is DOUBLE; one empty in the first file takes the next file's type). Smelter reads every
 * object with one dialect, so the other objects among the first 10 that hold data are sniffed too:
 * a quote seen in one and none in another is the table's quote; any other difference (delimiter,
 * header, quote or escape characters) is refused, naming both objects. The types come from
 * DuckDB's own reading of all the samples (`DESCRIBE read_csv([...], union_by_name = true)`).
 * Found by a differential sweep: types and quoting taken from the first object alone read
 * fractions as whole numbers and kept quotes as data. With --schema, nothing but the first object
 * is sniffed: DuckDB alone, told the columns, reads every file with the first file's dialect.
 */
async function sniffOthers(store: ObjectStore, splits: Split[], first: { split: Split; sample: Sample; sniffed: Sniffed }, o: TableOptions, r: TableRequest, whereOf: (s: Split) => string, db: CatalogDb): Promise<Sniffed & { unreadable?: Unreadable[] }> {
  if (first.sample.bytes.byteLength === 0) return first.sniffed;
  // Columns given: DuckDB alone reads every file of the glob with the first file's dialect (it sniffs no other), and so does Smelter.
  if (r.columns) return first.sniffed;
  const sniff = (s: Sample, split: Split) => sniffCsv(s, o, whereOf(split), db.use);
  const others: { split: Split; sample: Sample; sniffed: Sniffed }[] = [];
  for (const split of splits.slice(0, CSV_SNIFF_FILES)) {
    if (split === first.split) continue;
    const s = await sample(store, split, whereOf(split));
    if (!s.suffix && lineCount(s.bytes) < (first.sniffed.header ? 2 : 1)) continue; // no data rows: nothing to sniff (DuckDB alone reads none)
    others.push({ split, sample: s, sniffed: sameDialect(first, s) ? first.sniffed : await sniff(s, split) });
  }
  if (others.length === 0) return first.sniffed;
  const dialect = { ...first.sniffed.dialect };
  const at = (s: Split) => whereOf(s).replace(/^table \S+ /, "");
  for (const x of others) {
    // A quote, then an escape, seen in the other object and not in the table's so far is taken for the table's.
    for (let d = dialectDifference(dialect, x.sniffed.dialect); d; d = dialectDifference(dialect, x.sniffed.dialect)) {
      if (!d.adoptable) throw new ConfigError(`[smelter] [sql] table ${r.name}'s objects are not one CSV dialect: ${at(first.split)} has ${d.what} ${JSON.stringify(d.table)}, ${at(x.split)} ${JSON.stringify(d.other)}. Smelter reads a table's objects with one dialect: pass it (--delimiter, --quote, --escape, --header), or define a table per set of objects`);
      // DuckDB alone reads such a glob with the quote when the objects sniff to the same types, and with none (quotes as data) when they do not: the latter is refused.
      const typeOf = new Map(first.sniffed.columns.map((c) => [c.name.toLowerCase(), c.type]));
      const other = x.sniffed.columns.find((c) => typeOf.has(c.name.toLowerCase()) && typeOf.get(c.name.toLowerCase()) !== c.type);
      if (other) throw new ConfigError(`[smelter] [sql] table ${r.name}'s objects differ in quoting and in column types: ${at(x.split)} quotes its fields, ${at(first.split)} does not, and column ${other.name} sniffs as ${typeOf.get(other.name.toLowerCase())} in the first and ${other.type} in the other (DuckDB alone would then read the quotes as data). Pass --quote and --schema for the table, or define a table per set of objects`);
      dialect[d.what as "quote" | "escape"] = d.other;
    }
  }
  const samples = [first, ...others];
  return withTempFile(async (file) => {
    // Each sample written once, for the types and the formats.
    const paths = await writeSamples(file, "csv", samples.map((x) => x.sample));
    const typeOf = new Map((await unifiedTypes(samples, paths, dialect, o, r, db)).map((c) => [c.name, c.type]));
    const columns = first.sniffed.columns.map((c) => ({ name: c.name, type: typeOf.get(c.name) ?? c.type }));
    const unreadable: Unreadable[] = [];
    // Each sample's own sniff, once (DATE and TIMESTAMP both look at it). Told the table's dialect, the sniffer only types the columns (~20 ms a sample against ~65 ms for a full sniff), as DuckDB alone's sniff of a glob's further files does.
    const { delimiter, quote, escape, header } = dialect;
    const owns: Promise<Sniffed>[] = [];
    const ownSniff = (i: number) => (owns[i] ??= samples[i]!.sniffed === first.sniffed && i > 0 ? sniffCsv(samples[i]!.sample, { ...o, delimiter, quote, escape, header }, whereOf(samples[i]!.split), db.use, paths[i]) : Promise.resolve(samples[i]!.sniffed));
    // Each object's own date and timestamp formats, as DuckDB alone reads each of these files with its own: one format a table, or refused.
    for (const [kind, key, test] of [["DATE", "dateFormat", /^DATE$/i], ["TIMESTAMP", "timestampFormat", /^TIMESTAMP$/i]] as const) {
      if (o[key] !== undefined || !columns.some((c) => test.test(c.type))) continue;
      const formats = new Map<string, Split>();
      for (const [i, x] of samples.entries()) {
        const own = await ownSniff(i);
        const format = own.dialect[key] ?? "ISO 8601";
        if (own.columns.some((c) => test.test(c.type)) && !formats.has(format)) formats.set(format, x.split);
      }
      if (formats.size > 1) {
        // Refused when a query reads such a column (DuckDB alone reads each file with its own format); queries that do not read it are answered.
        const [[fa, a], [fb, b]] = [...formats] as [[string, Split], [string, Split]];
        unreadable.push({ columns: columns.filter((c) => test.test(c.type)).map((c) => c.name), reason: `table ${r.name}'s objects write ${kind} values in different formats: ${at(a)} as ${fa}, ${at(b)} as ${fb}. Smelter reads a table's objects with one format: pass it (--table-option ${r.name}.${key.toLowerCase()}=...) if one reads them all, or define a table per set of objects` });
        continue;
      }
      const [only] = formats.keys();
      if (only === undefined || only === "ISO 8601") delete dialect[key];
      else dialect[key] = only;
    }
    return { ...first.sniffed, dialect, columns, ...(unreadable.length ? { unreadable } : {}) };
  });
}

/**
 * The column types of a table over samples of its first objects (written at `paths`), as DuckDB
 * alone unifies them over those files: a plain `read_csv` of the samples, each sniffed with its own
 * dialect and formats and the types merged column by column in file order (a column BIGINT in one
 * and DOUBLE in the next is DOUBLE; DATE and TIMESTAMP, DOUBLE and a timestamp, BOOLEAN and BIGINT
 * are VARCHAR), told only the options the user gave. Objects whose headers name the columns in
 * another order are read by name (union_by_name, Smelter's documented reading of such tables, whose
 * types union_by_name settles). Found by a sweep: union_by_name's unification made DATE and
 * TIMESTAMP a TIMESTAMP, and DOUBLE and '-inf' a TIMESTAMP WITH TIME ZONE, under which DuckDB's
 * reader turned the fractions into NULLs.
 */
async function unifiedTypes(samples: { sniffed: Sniffed }[], paths: string[], dialect: Sniffed["dialect"], o: TableOptions, r: TableRequest, db: CatalogDb): Promise<{ name: string; type: string }[]> {
  const names = (x: Sniffed) => x.columns.map((c) => c.name).join("\u0000");
  const sameOrder = samples.every((x) => names(x.sniffed) === names(samples[0]!.sniffed));
  const list = `[${paths.map(sqlString).join(", ")}]`;
  const byName = [...csvDialectArgs({ ...dialect, nullString: o.nullString }), `header = ${dialect.header}`, ...(dialect.header ? ["union_by_name = true"] : []), ...(o.badRows === "skip" ? ["ignore_errors = true"] : [])];
  try {
    if (sameOrder) {
      // As DuckDB alone; a read it refuses (a first line break inside quotes, say) falls back to the table's dialect, which the tasks read with.
      const found = await describe(db, `SELECT * FROM read_csv(${[list, ...givenCsvArgs(o)].join(", ")})`).catch(() => undefined);
      if (found && found.length === samples[0]!.sniffed.columns.length) return found;
    }
    return await describe(db, `SELECT * FROM read_csv(${[list, ...byName].join(", ")})`);
  } catch (err) {
    throw new ConfigError(`[smelter] [sql] table ${r.name}'s first ${samples.length} objects cannot be read as one CSV table: ${duckdbText((err as Error).message.replace(/^\[smelter\] (DuckDB: )?/, "")).split("\n")[0]}. Pass --schema and the CSV options, or define a table per set of objects`, { cause: err });
  }
}

/**
 * Whether a sample surely sniffs as the first object's does, so that DuckDB's sniffer (tens of ms
 * a sample) need not run on it: its first line is the first object's header line (headered), or
 * splits into as many fields by the same delimiter (headerless); and no quote character appears in
 * it where the first object's sample had none. A zstd sample is always sniffed.
 */
function sameDialect(first: { sample: Sample; sniffed: Sniffed }, other: Sample): boolean {
  if (first.sample.suffix || other.suffix) return false;
  const line = (b: Uint8Array) => {
    const nl = b.indexOf(10);
    const text = new TextDecoder().decode(b.subarray(0, nl < 0 ? b.byteLength : nl));
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  };
  const d = first.sniffed.dialect;
  if (d.quote === "" && other.bytes.indexOf(0x22) >= 0) return false;
  const [a, b] = [line(first.sample.bytes), line(other.bytes)];
  if (d.header) return a === b;
  return d.quote === "" && !/["']/.test(b) && a.split(d.delimiter).length === b.split(d.delimiter).length;
}

/**
 * The header names matching each --schema column, in the schema's order: by name when the schema
 * names the header's columns (exactly, else ignoring case), in whatever order (the objects are
 * then read by name, as DuckDB's union_by_name does); otherwise the header as it is, matched by
 * position (a schema that renames the columns, in file order).
 */
export function headerNamesFor(schema: { name: string }[], header: string[]): string[] {
  const exact = schema.map((c) => header.indexOf(c.name));
  if (exact.every((i) => i >= 0) && new Set(exact).size === header.length) return exact.map((i) => header[i]!);
  const lower = header.map((h) => h.toLowerCase());
  const folded = schema.map((c) => (lower.filter((h) => h === c.name.toLowerCase()).length === 1 ? lower.indexOf(c.name.toLowerCase()) : -1));
  if (folded.every((i) => i >= 0) && new Set(folded).size === header.length) return folded.map((i) => header[i]!);
  return header;
}

/** The dialect when everything that matters was given: the rest at its defaults. */
function given_(o: TableOptions, columns: { name: string; type: string }[]): Sniffed {
  const d = csvDialectSchema.parse({ delimiter: o.delimiter, header: o.header, ...(o.quote !== undefined ? { quote: o.quote } : {}), ...(o.escape !== undefined ? { escape: o.escape } : {}) });
  // header false here: no header names known, so objects are read by position (table-source.ts).
  return { header: false, columns, dialect: { delimiter: d.delimiter, quote: d.quote, escape: d.escape, header: d.header } };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Columns of a Parquet object from its footer, read by DuckDB from a sparse file holding only the footer. */
async function parquetColumns(store: ObjectStore, split: Split, db: CatalogDb): Promise<{ name: string; type: string }[]> {
  // The footer as read once (its bytes come with the parsed metadata), written at its offset.
  const { fileSize, footerBytes, bytes } = await readParquetFooter(store, split.key, { fileSize: split.fileSize });
  const start = fileSize - footerBytes;
  return withTempFile(async (file) => {
    const fh = await open(file, "w");
    try {
      await fh.write(new TextEncoder().encode("PAR1"), 0, 4, 0);
      await fh.write(bytes, 0, bytes.byteLength, start);
    } finally {
      await fh.close();
    }
    return describe(db, `SELECT * FROM read_parquet(${sqlString(file)})`);
  });
}

/**
 * Columns of an NDJSON table as DuckDB's own read_json over all its objects detects them: one
 * read_json over samples of the first objects in listing order, until DuckDB's own sampling would
 * stop (its `sample_size` of 20,480 records, or `maximum_sample_files` = 32 objects). Columns come
 * in the order their keys are first seen (objects may list keys in any order), typed from every
 * sampled record.
 */
async function sniffJson(store: ObjectStore, splits: Split[], whereOf: (s: Split) => string, db: CatalogDb): Promise<{ columns: { name: string; type: string }[]; unreadable?: Unreadable }> {
  const samples: Sample[] = [];
  let records = 0;
  for (const split of splits.slice(0, JSON_SAMPLE_FILES)) {
    const s = await sample(store, split, whereOf(split));
    // One JSON array of records (not one record a line): DuckDB alone's read_json reads its elements as rows, Smelter's tasks read lines (it was one row).
    const start = s.suffix ? -1 : s.bytes.findIndex((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0xef && b !== 0xbb && b !== 0xbf);
    if (start >= 0 && s.bytes[start] === 0x5b) throw new ConfigError(`[smelter] [sql] ${whereOf(split)} holds a JSON array (it starts with "["), not one JSON record a line: Smelter reads newline-delimited JSON (NDJSON), which it can cut into ranges. Write one record a line (for example jq -c '.[]' < in.json > out.ndjson)`);
    samples.push(s);
    records += s.suffix ? JSON_SAMPLE_RECORDS : lineCount(s.bytes);
    if (records >= JSON_SAMPLE_RECORDS) break;
  }
  const where = samples.length > 1 ? `the first ${samples.length} objects of ${whereOf(splits[0]!).replace(/'s first object .*/, "")}` : whereOf(splits[0]!);
  return withTempFile(async (file) => {
    const paths = await writeSamples(file, "json", samples);
    const list = `[${paths.map(sqlString).join(", ")}]`;
    let columns: { name: string; type: string }[];
    try {
      columns = await describe(db, `SELECT * FROM read_json(${list}, format = 'newline_delimited')`);
    } catch (err) {
      throw new ConfigError(`[smelter] [sql] ${where} cannot be read as newline-delimited JSON: ${(err as Error).message.split("\n")[0]!.replace(/^\[smelter\] /, "")}. Pass --input-format csv if it is CSV, or --schema`, { cause: err });
    }
    const unreadable = await sameTemporalReading(db, list, columns, where);
    return { columns, ...(unreadable ? { unreadable } : {}) };
  });
}

/**
 * The tasks read NDJSON told the columns' types, and DuckDB's JSON reader then converts text to
 * dates and timestamps otherwise than when it detects them itself, as DuckDB alone does: a UTC
 * offset (`10:00:00+02:00`) is dropped instead of applied, `epoch` is 1970-01-01 instead of
 * 1900-01-01, and a date such as `01-31-2020` fails. The sample is read both ways, each temporal
 * column on its own; one whose values differ is unreadable: a query naming it is refused, with the
 * reason (found by a sweep: 10:00 where DuckDB alone reads 08:00).
 */
async function sameTemporalReading(db: CatalogDb, list: string, columns: { name: string; type: string }[], where: string): Promise<Unreadable | undefined> {
  const temporal = columns.filter((c) => /^(DATE|TIME|TIMESTAMP)/i.test(c.type));
  if (temporal.length === 0) return undefined;
  const typed = `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(", ")}}`;
  // The samples read both ways with the columns given: the same values, or not (a read that fails told the types differs).
  const readSame = (cs: { name: string }[]) => {
    const select = cs.map((c, i) => `${sqlIdentifier(c.name)}::VARCHAR AS v${i}`).join(", ");
    const [auto, told] = [`SELECT ${select} FROM read_json(${list}, format = 'newline_delimited')`, `SELECT ${select} FROM read_json(${list}, columns = ${typed}, format = 'newline_delimited')`];
    return db.use(async (d) => (await d.all(`SELECT 1 FROM ((${auto} EXCEPT ALL ${told}) UNION ALL (${told} EXCEPT ALL ${auto})) LIMIT 1`).catch(() => [1])).length === 0);
  };
  // All columns in one pass each way; only when they differ, each on its own (one that fails told its type must not take the others with it).
  if (await readSame(temporal)) return undefined;
  const differs: { name: string; type: string }[] = [];
  for (const c of temporal) if (!(await readSame([c]))) differs.push(c);
  if (differs.length === 0) return undefined;
  const named = differs.map((c) => `${c.name} (${c.type})`).join(", ");
  const many = differs.length > 1;
  return { columns: differs.map((c) => c.name), reason: `${where}: DuckDB reads the column${many ? "s" : ""} ${named} otherwise when told ${many ? "their types" : "its type"}, as each task is, than when it detects ${many ? "them" : "it"} over the whole table (UTC offsets, non-ISO dates, words such as 'epoch'). Pass --schema with ${many ? "those columns" : "it"} as VARCHAR and convert in the query (strptime, ::TIMESTAMPTZ)` };
}

/**
 * The hive partition columns DuckDB alone reads from the objects' directories (`year=2024/`: see
 * splits/hive.ts), with DuckDB's own types: DuckDB reads one placeholder CSV file per directory,
 * at the same path under a temp dir, and says which columns its hive partitioning adds and how it
 * reads each directory's values. Every directory's values are then compared with what the tasks
 * add ({@link hiveValueSql}); one read otherwise is refused, named. Undefined: no hive columns.
 */
async function hiveColumns(r: TableRequest, urls: string[], db: CatalogDb): Promise<HiveColumn[] | undefined> {
  if (!urls.some((u) => hivePairs(u).size > 0)) return undefined;
  // One placeholder per directory (the file name is never a partition), directories without keys too (DuckDB then reads none),
  // in the order of DuckDB alone's glob (sorted paths): its first path decides the columns' order.
  const dirs = new Set([...urls].sort().map(hiveDirectory));
  const dots = [...dirs].find((d) => d.split("/").some((x) => x === "." || x === ".."));
  if (dots) throw new ConfigError(`[smelter] [sql] table ${r.name}: an object's path ${dots} has a . or .. directory, so its hive partition columns cannot be read as DuckDB reads them: pass --table-option ${r.name}.hive=false to read the objects' own columns only`);
  // In memory where Linux offers it: a directory a placeholder on ext4 cost ~0.5 ms, on /dev/shm ~0.08 (2,000 directories).
  const root = await mkdtemp(join(await scratchDir(), "smelter-hive-"));
  try {
    const list = [...dirs];
    const paths = list.map((dir) => join(root, "p", dir, "__smelter.csv"));
    for (let k = 0; k < paths.length; k += 64) {
      await Promise.all(
        paths.slice(k, k + 64).map(async (file, n) => {
          try {
            await mkdir(dirname(file), { recursive: true });
            await writeFile(file, `__smelter_dir\n${k + n}\n`);
          } catch (err) {
            // A directory name over 255 bytes (an S3 key may hold one), a full disk.
            throw new ConfigError(`[smelter] [sql] table ${r.name}: cannot write the local placeholder that tells its hive partition columns for ${list[k + n]} under ${root} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): free space there (or set TMPDIR), or pass --table-option ${r.name}.hive=false to read the objects' own columns only`, { cause: err });
          }
        }),
      );
    }
    const read = `read_csv([${paths.map(sqlString).join(", ")}], header = true, columns = {'__smelter_dir': 'BIGINT'}, auto_detect = false)`;
    // e.g. a %FF in a directory's value: DuckDB alone fails the same way on the table.
    const cannot = (err: unknown): never => {
      throw new ConfigError(`[smelter] [sql] table ${r.name}: DuckDB cannot read its objects' hive partition directories (${duckdbText(((err as Error).cause as Error | undefined)?.message ?? (err as Error).message).split("\n")[0]}): pass --table-option ${r.name}.hive=false to read the objects' own columns only`, { cause: err });
    };
    const described = await db.use((d) => d.all(`DESCRIBE SELECT * FROM ${read}`)).catch(cannot);
    const columns = described.slice(1).map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
    if (columns.length === 0) return undefined;
    // What the tasks add, for every directory, against what DuckDB read.
    const mine = [...dirs].map((dir, n) => `(${n}, ${hiveValuesSql(columns, dir).join(", ")})`);
    const names = columns.map((_, n) => `c${n}`);
    const differ = await db.use((d) =>
      d.all(
        `SELECT coalesce(d.__smelter_dir, t.n) AS n FROM (SELECT * FROM ${read}) d FULL JOIN (VALUES ${mine.join(", ")}) t(n, ${names.join(", ")}) ON d.__smelter_dir = t.n ` +
          `WHERE d.__smelter_dir IS NULL OR t.n IS NULL OR ${columns.map((c, n) => `d.${sqlIdentifier(c.name)} IS DISTINCT FROM t.c${n}`).join(" OR ")} ORDER BY 1 LIMIT 1`,
      ),
    ).catch(cannot);
    if (differ.length > 0) {
      const dir = [...dirs][Number(differ[0]!.n)];
      throw new ConfigError(`[smelter] [sql] table ${r.name}: DuckDB alone reads the hive partition values of ${dir} (${columns.map((c) => c.name).join(", ")}) otherwise than Smelter's tasks would: pass --table-option ${r.name}.hive=false to read the objects' own columns only, and take the values from the file names in the query if needed`);
    }
    return columns;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** /dev/shm when it is a writable directory (Linux), else the temp directory. */
async function scratchDir(): Promise<string> {
  try {
    await access("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/** A table's own columns with its hive partition columns after them, as DuckDB alone orders them. */
function withHive(r: TableRequest, table: SqlTableInput, hive: HiveColumn[]): SqlTableInput {
  const own = new Set(table.columns.map((c) => asciiLower(c.name)));
  const clash = hive.find((h) => own.has(asciiLower(h.name)));
  // DuckDB alone puts the directory's value in the file's column (its type, its place): not done here.
  if (clash) throw new ConfigError(`[smelter] [sql] table ${r.name}: its objects have a column ${clash.name} and are also in ${clash.name}=... directories, which DuckDB alone reads as that column's values; Smelter does not. Pass --table-option ${r.name}.hive=false to read the column from the files`);
  return { ...table, columns: [...table.columns, ...hive], hive };
}

/** DuckDB's read_json defaults: records and files sampled to detect columns. */
const JSON_SAMPLE_RECORDS = 20_480;
const JSON_SAMPLE_FILES = 32;
/** Objects looked at for a CSV sample holding data. */
const CSV_SAMPLE_FILES = 32;
/** Objects of a glob DuckDB alone sniffs (`files_to_sniff`). */
const CSV_SNIFF_FILES = 10;

/**
 * The object a CSV table's dialect and columns are sniffed from, and its sample: the first object
 * (in listing order) whose sample holds two lines or more, so that an empty object (a gzip of
 * nothing) or a header-only one first does not decide the dialect; failing that the first
 * non-empty one, failing that the first.
 */
async function csvSampleObject(store: ObjectStore, splits: Split[], whereOf: (s: Split) => string): Promise<{ split: Split; sample: Sample }> {
  let fallback: { split: Split; sample: Sample } | undefined;
  for (const split of splits.slice(0, CSV_SAMPLE_FILES)) {
    const s = { split, sample: await sample(store, split, whereOf(split)) };
    if (s.sample.suffix || lineCount(s.sample.bytes) >= 2) return s;
    if (!fallback || (fallback.sample.bytes.byteLength === 0 && s.sample.bytes.byteLength > 0)) fallback = s;
  }
  return fallback!;
}

async function describe(catalogDb: CatalogDb, sql: string): Promise<{ name: string; type: string }[]> {
  const rows = await catalogDb.use((db) => db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`));
  return rows.map((c) => ({ name: c.column_name, type: c.column_type }));
}

