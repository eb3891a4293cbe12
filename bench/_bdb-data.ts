/**
 * The Big Data Benchmark's tables for the benchmark programs (bench/query2.ts, bench/sql.ts):
 * generated once with `writeDataset` as `files` CSV objects (`part-NNNNN`) and the same rows as
 * Parquet (`part-NNNNN.parquet`), in `<root>/<table>-<rows>-s<seed>-f<files>/{csv,parquet}/`, and
 * reused while the marker file `dataset.json` there matches. uservisits' destURL joins rankings'
 * pageURL when both have the same seed and rankings has `pagesFor(uservisits rows)` rows.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Table } from "../src/datagen/source.js";
import { writeDataset } from "../src/datagen/write.js";
import { localStore } from "../src/storage/local.js";
import type { Query2Format } from "./_peers.js";

/** Where the benchmarks keep their data by default: `.smelter/bench/` of the repository (gitignored). */
export const BENCH_DATA_ROOT = fileURLToPath(new URL("../../.smelter/bench/", import.meta.url));

/** Pages of the URL space (= rankings rows) for `rows` uservisits: the benchmark's ratio, 12% (tiny: 1,200 / 10,000; 5nodes: 90M / 775M). */
export function pagesFor(rows: number): number {
  return Math.max(1, Math.round(rows * 0.12));
}

export interface BdbDataOptions {
  table: Table;
  rows: number;
  seed: number;
  files: number;
  /** uservisits: pages in the URL space. @default pagesFor(rows) */
  pages?: number;
  /** The directory holding the data sets (one subdirectory each). */
  root: string;
  log: (msg: string) => void;
}

/** What `dataset.json` records (the first fields are those bench/query2.ts has always written). */
export interface BdbDataset {
  rows: number;
  seed: number;
  files: number;
  csvBytes: number;
  parquetBytes: number;
  generatedS?: number;
  table?: Table;
  pages?: number;
}

export interface BdbData extends BdbDataset {
  dir: string;
  csvDir: string;
  parquetDir: string;
}

/** The marker's fields alone (what a result line records about the data). */
export function datasetOf(data: BdbData): BdbDataset {
  const { dir: _dir, csvDir: _csv, parquetDir: _parquet, ...d } = data;
  return d;
}

/** The directory of a format's files. */
export function formatDir(data: Pick<BdbData, "csvDir" | "parquetDir">, format: Query2Format): string {
  return format === "csv" ? data.csvDir : data.parquetDir;
}

/** The table as CSV and Parquet files under `root`: reused when its marker matches, else (re)generated. */
export async function bdbData(o: BdbDataOptions): Promise<BdbData> {
  const pages = o.pages ?? pagesFor(o.rows);
  const dir = join(o.root, `${o.table}-${o.rows}-s${o.seed}-f${o.files}`);
  const where = { dir, csvDir: join(dir, "csv"), parquetDir: join(dir, "parquet") };
  const marker = join(dir, "dataset.json");
  if (existsSync(marker)) {
    const d = JSON.parse(readFileSync(marker, "utf8")) as BdbDataset;
    if (d.rows === o.rows && d.seed === o.seed && d.files === o.files && (d.pages ?? pagesFor(d.rows)) === pages) {
      o.log(`data: reusing ${dir}`);
      return { ...d, ...where };
    }
  }
  await rm(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const sizes: Record<Query2Format, number> = { csv: 0, parquet: 0 };
  for (const format of ["csv", "parquet"] as const) {
    o.log(`data: generating ${o.rows.toLocaleString("en-US")} ${o.table} rows as ${o.files} ${format} files (seed ${o.seed})`);
    const written = await writeDataset(localStore(formatDir(where, format)), { table: o.table, rows: o.rows, files: o.files, format, seed: o.seed, pages, prefix: "" });
    sizes[format] = written.reduce((s, f) => s + f.bytes, 0);
  }
  const d: BdbDataset = { rows: o.rows, seed: o.seed, files: o.files, csvBytes: sizes.csv, parquetBytes: sizes.parquet, generatedS: +((performance.now() - t0) / 1000).toFixed(1), table: o.table, pages };
  writeFileSync(marker, `${JSON.stringify(d, null, 2)}\n`);
  return { ...d, ...where };
}
