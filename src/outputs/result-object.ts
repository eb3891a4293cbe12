/**
 * A query's result as ONE object (CSV or Parquet) in any store with multipart upload (s3://, a
 * local path or file:// URL), always through the parallel upload protocol (parallel-upload.ts):
 * either tasks upload their own partitions (the caller passes them `beginParallelUpload`'s handle
 * and completes with their results), or the coordinator uploads a file it wrote, cut into byte
 * ranges sent as partitions at once ({@link uploadFileAsObject}). `smelter query2` and
 * `smelter sql` both check their `--output` with {@link resultObjectFormat}.
 */
import { open, stat } from "node:fs/promises";
import pLimit from "p-limit";
import { ConfigError } from "../job/errors.js";
import type { ObjectStore } from "../storage/contract.js";
import { localFilePath, openStore } from "../storage/url.js";
import { checkLocalTarget } from "./local-target.js";
import { abortParallelUpload, beginParallelUpload, completeParallelUpload, type ParallelUploadSummary } from "./parallel-upload.js";
import { uploadPartition } from "./upload-partition.js";
import { MAX_PARTITIONS, type PartitionResult } from "./upload-protocol.js";

export type ResultObjectFormat = "csv" | "parquet";

export const CONTENT_TYPES: Record<ResultObjectFormat, string> = { csv: "text/csv", parquet: "application/vnd.apache.parquet" };

/** What is wrong with `url` as a result object (a directory, another extension), or undefined. */
export function resultObjectProblem(url: string, formats: readonly ResultObjectFormat[]): string | undefined {
  const ext = /\.(\w+)$/.exec(url)?.[1]?.toLowerCase();
  if (url.endsWith("/")) return `--output ${url} names a directory, not an object: give the object's full key, e.g. ${example(formats)}`;
  if (!formats.includes(ext as ResultObjectFormat)) return `--output ${url}: write FILE.duckdb or an object URL ending in ${formats.map((f) => `.${f}`).join(" or ")} (e.g. ${example(formats)})`;
  return undefined;
}

/** The format of a result object from its name's extension; a ConfigError for a directory or another extension. */
export function resultObjectFormat(url: string, formats: readonly ResultObjectFormat[]): ResultObjectFormat {
  const problem = resultObjectProblem(url, formats);
  if (problem) throw new ConfigError(problem);
  return /\.(\w+)$/.exec(url)![1]!.toLowerCase() as ResultObjectFormat;
}

/**
 * Opens the store of a result object and checks, before any work, its key and format, that the
 * store answers (a missing bucket fails here), that a local directory exists and takes files
 * (local-target.ts), and that no object is there already unless `overwrite`.
 */
export async function openResultObject(url: string, formats: readonly ResultObjectFormat[], options: { overwrite?: boolean } = {}): Promise<{ url: string; store: ObjectStore; key: string; format: ResultObjectFormat }> {
  const format = resultObjectFormat(url, formats);
  const local = localFilePath(url);
  if (local !== undefined) await checkLocalTarget("--output", local, options);
  const { store, key } = await openStore(url);
  if (!key || key.endsWith("/")) throw new ConfigError(`--output ${url} names a bucket or directory, not an object: give the object's full key, e.g. ${example(formats)}`);
  const existing = await store.head(key);
  if (existing && !options.overwrite) throw new ConfigError(`--output ${url} already exists: pass --overwrite to replace it, or choose another name`);
  return { url, store, key, format };
}

export interface UploadFileOptions {
  contentType?: string;
  /** Bytes per partition (each one uploaded as one or two parts). @default 32 MiB */
  partitionBytes?: number;
  /** Partitions uploading at once (each holds its bytes in memory). @default 4 */
  concurrency?: number;
  signal?: AbortSignal;
}

/**
 * Uploads a local file as the object `key`, cut into byte ranges uploaded at once as the
 * partitions of one parallel upload (the coordinator's side, when no task holds the bytes).
 * On any failure, waits for the uploads in flight, aborts and rethrows.
 */
export async function uploadFileAsObject(store: ObjectStore, key: string, file: string, options: UploadFileOptions = {}): Promise<ParallelUploadSummary> {
  const size = (await stat(file)).size;
  const per = Math.max(1, options.partitionBytes ?? 32 * 1024 * 1024);
  const partitions = Math.max(1, Math.min(MAX_PARTITIONS, Math.ceil(size / per)));
  const chunk = Math.ceil(size / partitions);
  const handle = await beginParallelUpload(store, key, { partitions, ...(options.contentType ? { contentType: options.contentType } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const fh = await open(file, "r");
  let results: PartitionResult[];
  try {
    const limit = pLimit(options.concurrency ?? 4);
    const settled = await Promise.allSettled(
      Array.from({ length: partitions }, (_, i) =>
        limit(async (): Promise<PartitionResult> => {
          const start = i * chunk;
          const bytes = new Uint8Array(Math.max(0, Math.min(size, start + chunk) - start));
          if (bytes.byteLength > 0) await fh.read(bytes, 0, bytes.byteLength, start);
          return uploadPartition(store, handle, i, bytes, options.signal ? { signal: options.signal } : {});
        }),
      ),
    );
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    results = settled.map((s) => (s as PromiseFulfilledResult<PartitionResult>).value);
  } catch (err) {
    await abortParallelUpload(store, handle).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
  }
  // Aborts the upload itself on a failure.
  return completeParallelUpload(store, handle, results, options.signal ? { signal: options.signal } : {});
}

function example(formats: readonly ResultObjectFormat[]): string {
  return `s3://bucket/results/result.${formats[0] ?? "csv"}`;
}
