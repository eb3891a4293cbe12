/**
 * Table definitions from `NAME=URL` and optional schemas: lists each table's objects (splits,
 * bytes, format by extension), and when no schema is given reads the columns from the data
 * (a Parquet footer; a CSV's header line, sniffed by DuckDB from the first 256 KiB). Each table
 * is listed ONCE: `resolveCatalog` hands the listing to execution (src/query/ packs the tasks from
 * it), so `explain` shows the tasks that run and nothing lists a table twice.
 */
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDuckDb } from "../duckdb/index.js";
import { sqlString } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import { listInput, type InputListing } from "../splits/listing.js";
import { cutSplit } from "../splits/pack.js";
import { readParquetFooter } from "../splits/parquet.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import type { SqlTableInput } from "./tables.js";

export interface TableRequest {
  name: string;
  url: string;
  /** Columns from --schema, if given. */
  columns?: { name: string; type: string }[];
}

/** Resolves tables: listing (splits, bytes), format, and columns when not given. */
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
  const tables = await Promise.all(requests.map((r) => resolveTable(r, options.targetSplitBytes ?? 64 * 1024 * 1024, (l) => listings.set(r.name, l))));
  return { tables, listings };
}

async function resolveTable(r: TableRequest, targetSplitBytes: number, onListing: (listing: InputListing) => void): Promise<SqlTableInput> {
  const { store, key } = await openStore(r.url);
  let splits: Split[];
  try {
    const listing = await listInput(store, key);
    onListing(listing);
    splits = listing.splits;
  } catch (err) {
    throw new ConfigError(`[smelter] [sql] cannot list table ${r.name} at ${r.url}: ${(err as Error).message.replace(/^\[smelter\] /, "")}`, { cause: err });
  }
  if (splits.length === 0) throw new ConfigError(`[smelter] [sql] no objects for table ${r.name} at ${r.url}: check the URL (a prefix like s3://bucket/uservisits/ or a glob like data/part-*)`);
  const format = splits[0]!.format === "parquet" ? "parquet" : "csv";
  if (splits.some((s) => (s.format === "parquet") !== (format === "parquet"))) throw new ConfigError(`[smelter] [sql] table ${r.name} mixes Parquet and CSV objects at ${r.url}: narrow the URL with a glob (*.parquet)`);
  // Objects whole in the listing; `splits` is the planner's size hint (splits of targetSplitBytes), tasks are packed at run time.
  const bytes = splits.reduce((s, x) => s + x.fileSize, 0);
  const base = { name: r.name, url: r.url, format, bytes, splits: splits.reduce((n, x) => n + cutSplit(x, targetSplitBytes).length, 0) } as const;
  const first = splits[0]!;
  if (format === "parquet") return { ...base, columns: r.columns ?? (await parquetColumns(store, first)) };
  const sniffed = await sniffCsv(store, first.key, first.fileSize);
  if (r.columns) return { ...base, columns: r.columns, header: sniffed.header };
  if (!sniffed.header) throw new ConfigError(`[smelter] [sql] table ${r.name}'s CSV at ${r.url} has no header line: pass --schema ${r.name}='col TYPE, ...' (or --schema ${r.name}=bdb:uservisits / bdb:rankings)`);
  return { ...base, columns: sniffed.columns, header: true };
}

/** Columns of a Parquet object from its footer, read by DuckDB from a sparse file holding only the footer. */
async function parquetColumns(store: ObjectStore, split: Split): Promise<{ name: string; type: string }[]> {
  const footer = await readParquetFooter(store, split.key, { fileSize: split.fileSize });
  const start = footer.fileSize - footer.footerBytes;
  const bytes = await store.get(split.key, { range: { start, end: footer.fileSize } });
  return withTempFile(async (file) => {
    const fh = await open(file, "w");
    try {
      await fh.write(new TextEncoder().encode("PAR1"), 0, 4, 0);
      await fh.write(bytes, 0, bytes.byteLength, start);
    } finally {
      await fh.close();
    }
    return describe(`SELECT * FROM read_parquet(${sqlString(file)})`);
  });
}

async function sniffCsv(store: ObjectStore, key: string, size: number): Promise<{ header: boolean; columns: { name: string; type: string }[] }> {
  const head = await store.get(key, { range: { start: 0, end: Math.min(size, 256 * 1024) } });
  const text = new TextDecoder().decode(head);
  const cut = size > head.byteLength ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
  return withTempFile(async (file) => {
    await writeFile(file, cut);
    const db = await openDuckDb({ threads: 1 });
    try {
      const [row] = await db.all<{ HasHeader: boolean }>(`SELECT HasHeader FROM sniff_csv(${sqlString(file)})`);
      const header = row?.HasHeader === true;
      const columns = header ? (await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_csv(${sqlString(file)}, header = true)`)).map((c) => ({ name: c.column_name, type: c.column_type })) : [];
      return { header, columns };
    } finally {
      db.close();
    }
  });
}

async function describe(sql: string): Promise<{ name: string; type: string }[]> {
  const db = await openDuckDb({ threads: 1 });
  try {
    return (await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`)).map((c) => ({ name: c.column_name, type: c.column_type }));
  } finally {
    db.close();
  }
}

async function withTempFile<T>(f: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-sql-"));
  try {
    return await f(join(dir, "sample"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
