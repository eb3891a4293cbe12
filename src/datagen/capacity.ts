/**
 * Refuses a data set the target cannot hold, before writing a byte: a local directory (and the
 * temp directory Parquet's CSV goes through) without the free space, one S3 object larger than
 * a multipart upload of the store's parts can make, more than the free memory for `memory://`.
 * Sizes are estimated from a sample of the generated rows (the same generator, the same seed).
 */
import { statfs } from "node:fs/promises";
import { freemem, tmpdir } from "node:os";
import * as path from "node:path";
import { ConfigError } from "../job/errors.js";
import type { ObjectStore } from "../storage/contract.js";
import { localFileWriter } from "../storage/local.js";
import { MAX_PARTS } from "../storage/util.js";
import { generateChunks } from "./row-source.js";
import { openSource } from "./source.js";
import type { WriteDatasetOptions } from "./write.js";

/** Bytes per part of a streamed S3 upload (the store's putStream). */
const S3_PART_BYTES = 8 * 1024 * 1024;
/** Parquet (zstd) is well under this share of the CSV's size for these tables (about 1/4 measured); a bound, not a promise. */
const PARQUET_SHARE = 0.5;
const SAMPLE_ROWS = 4096;

export type CapacityRequest = Pick<WriteDatasetOptions, "table" | "rows" | "files" | "format" | "seed" | "pages"> & {
  /** Files written at once (Parquet's temp CSVs). */
  concurrency: number;
};

/** Average CSV bytes per row, from the first rows of the data set. */
export function csvBytesPerRow(r: Pick<CapacityRequest, "table" | "seed" | "pages" | "rows">): number {
  const rows = Math.min(SAMPLE_ROWS, Math.max(1, r.rows));
  let bytes = 0;
  for (const c of generateChunks(openSource({ table: r.table, seed: r.seed, pages: r.pages, startRow: 0, rows }))) bytes += c.byteLength;
  return bytes / rows;
}

export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

/** Free bytes of the file system holding `dir` (or its nearest existing parent). */
async function freeBytes(dir: string): Promise<number | undefined> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await statfs(d).catch(() => undefined);
    if (st) return st.bavail * st.bsize;
    if (path.dirname(d) === d) return undefined;
  }
}

/** Throws a ConfigError when the data set cannot fit where it goes; returns the estimated bytes. */
export async function checkCapacity(store: ObjectStore, r: CapacityRequest): Promise<number> {
  const perRow = csvBytesPerRow(r);
  const csvBytes = perRow * r.rows;
  const outBytes = r.format === "csv" ? csvBytes : csvBytes * PARQUET_SHARE;
  const largestFile = (perRow * Math.ceil(r.rows / r.files)) * (r.format === "csv" ? 1 : PARQUET_SHARE);
  const what = `${r.rows.toLocaleString("en-US")} ${r.table} rows are about ${formatBytes(outBytes)} as ${r.format}`;
  const writer = localFileWriter(store);
  if (writer) {
    const free = await freeBytes(writer.root);
    if (free !== undefined && outBytes > free)
      throw new ConfigError(`[smelter] datagen: ${what}, but ${writer.root} has ${formatBytes(free)} free: generate fewer --rows, or write to a disk with room (--out)`);
  } else if (store.kind === "s3") {
    const limit = MAX_PARTS * S3_PART_BYTES;
    if (largestFile > limit)
      throw new ConfigError(
        `[smelter] datagen: ${what}, about ${formatBytes(largestFile)} per file, more than one S3 upload of ${MAX_PARTS.toLocaleString("en-US")} parts of 8 MiB holds (${formatBytes(limit)}): ` +
          `pass --files ${Math.ceil(outBytes / (limit * 0.9))} or more`,
      );
  } else if (store.kind === "memory") {
    if (outBytes > freemem()) throw new ConfigError(`[smelter] datagen: ${what}, more than the ${formatBytes(freemem())} of free memory a memory:// store lives in: generate fewer --rows, or write to a directory or S3`);
  }
  if (r.format === "parquet") {
    // Each file's CSV goes through the temp directory before DuckDB turns it into Parquet.
    const temp = perRow * Math.ceil(r.rows / r.files) * Math.min(r.files, r.concurrency);
    const free = await freeBytes(tmpdir());
    if (free !== undefined && temp > free)
      throw new ConfigError(`[smelter] datagen: Parquet goes through temp CSV files of about ${formatBytes(temp)} in ${tmpdir()}, which has ${formatBytes(free)} free: pass more --files, or set TMPDIR to a disk with room`);
  }
  return outBytes;
}
