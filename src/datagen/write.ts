/**
 * Writes a generated table to a store as files `part-00000`, `part-00001`, ... (CSV, no extension,
 * as the benchmark publishes it) or `part-00000.parquet`. Rows are spread evenly over the files;
 * files are generated in parallel worker threads (one per core) when large enough.
 *
 * Parquet goes through DuckDB: the CSV is written to a temp file, then `COPY ... TO (FORMAT
 * parquet)` with typed columns (adRevenue is FLOAT: the generator's values are exactly float32, so
 * FLOAT keeps them bit for bit; DuckDB sums FLOAT into a DOUBLE), then the file is put to the store.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import { openDuckDb, sqlString } from "../duckdb/index.js";
import type { ObjectStore } from "../storage/contract.js";
import { generateChunks, generateChunksInWorker } from "./chunks.js";
import type { ChunkSpec, Table } from "./chunks.js";

/** Column types of each table, in file order. */
export const SCHEMAS: Record<Table, Record<string, string>> = {
  uservisits: {
    sourceIP: "VARCHAR",
    destURL: "VARCHAR",
    visitDate: "DATE",
    adRevenue: "FLOAT",
    userAgent: "VARCHAR",
    countryCode: "VARCHAR",
    languageCode: "VARCHAR",
    searchWord: "VARCHAR",
    duration: "INTEGER",
  },
  rankings: { pageURL: "VARCHAR", pageRank: "INTEGER", avgDuration: "INTEGER" },
};

export interface WriteDatasetOptions {
  table: Table;
  rows: number;
  files: number;
  format: "csv" | "parquet";
  seed: number;
  /** uservisits: pages in the URL space (rankings rows to join with). */
  pages: number;
  /** Key prefix inside the store (`""` or ending in `/`). */
  prefix: string;
  /** Files generated at once. @default min(files, cores) */
  concurrency?: number;
  /** Parquet rows per row group. @default 262144 */
  rowGroupRows?: number;
  /** Called with the rows written so far. */
  onProgress?: (rowsWritten: number) => void;
  signal?: AbortSignal;
}

export interface WrittenFile {
  key: string;
  rows: number;
  bytes: number;
}

/** Rows at or above which a file is generated in a worker thread. */
const WORKER_MIN_ROWS = 100_000;

export function partName(index: number, format: "csv" | "parquet"): string {
  return `part-${String(index).padStart(5, "0")}${format === "parquet" ? ".parquet" : ""}`;
}

/** Generates and writes every file; resolves with what was written, in file order. */
export async function writeDataset(store: ObjectStore, options: WriteDatasetOptions): Promise<WrittenFile[]> {
  const concurrency = options.concurrency ?? Math.min(options.files, availableParallelism());
  const limit = pLimit(Math.max(1, concurrency));
  let written = 0;
  const progress = (rows: number) => {
    written += rows;
    options.onProgress?.(written);
  };
  const jobs = Array.from({ length: options.files }, (_, i) => {
    const startRow = Math.floor((options.rows * i) / options.files);
    const endRow = Math.floor((options.rows * (i + 1)) / options.files);
    const spec: ChunkSpec = { table: options.table, seed: options.seed, pages: options.pages, startRow, rows: endRow - startRow, chunkRows: 16_384 };
    const key = options.prefix + partName(i, options.format);
    return limit(() => writeFile(store, key, spec, options, progress, concurrency > 1));
  });
  return Promise.all(jobs);
}

async function* counted(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, spec: ChunkSpec, progress: (rows: number) => void, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  let rowsLeft = spec.rows;
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    const rows = Math.min(rowsLeft, spec.chunkRows);
    rowsLeft -= rows;
    yield chunk;
    progress(rows);
  }
}

async function writeFile(store: ObjectStore, key: string, spec: ChunkSpec, options: WriteDatasetOptions, progress: (rows: number) => void, parallel: boolean): Promise<WrittenFile> {
  const source = parallel && spec.rows >= WORKER_MIN_ROWS ? generateChunksInWorker(spec) : generateChunks(spec);
  const chunks = counted(source, spec, progress, options.signal);
  if (options.format === "csv") {
    let bytes = 0;
    const sized = (async function* () {
      for await (const c of chunks) {
        bytes += c.byteLength;
        yield c;
      }
    })();
    await store.putStream(key, sized, { contentType: "text/csv", signal: options.signal });
    return { key, rows: spec.rows, bytes };
  }
  const dir = await mkdtemp(join(tmpdir(), "smelter-datagen-"));
  try {
    const csvPath = join(dir, "rows.csv");
    const parquetPath = join(dir, "rows.parquet");
    const fh = await open(csvPath, "w");
    try {
      for await (const c of chunks) await fh.write(c);
    } finally {
      await fh.close();
    }
    await csvToParquet(options.table, csvPath, parquetPath, options.rowGroupRows ?? 262_144);
    const { size } = await stat(parquetPath);
    await store.putStream(key, createReadStream(parquetPath, { highWaterMark: 8 * 1024 * 1024 }), { contentType: "application/vnd.apache.parquet", signal: options.signal });
    return { key, rows: spec.rows, bytes: size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The `columns = {...}` argument of read_csv for a table. */
export function csvColumnsSql(table: Table): string {
  return `{${Object.entries(SCHEMAS[table])
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
    .join(", ")}}`;
}

/** `read_csv(...)` of a headerless benchmark CSV file with the table's typed columns. */
export function readCsvSql(table: Table, path: string): string {
  return `read_csv(${sqlString(path)}, header = false, delim = ',', quote = '', escape = '', columns = ${csvColumnsSql(table)})`;
}

async function csvToParquet(table: Table, csvPath: string, parquetPath: string, rowGroupRows: number): Promise<void> {
  const db = await openDuckDb();
  try {
    await db.run(`COPY (SELECT * FROM ${readCsvSql(table, csvPath)}) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroupRows})`);
  } finally {
    db.close();
  }
}
