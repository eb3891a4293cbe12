/**
 * Map task inputs from a stream of splits: Parquet row-group splits of one object merged back
 * into one whole-object split (a task reads a Parquet object whole: see materialize.ts), then
 * packed into tasks of about `targetBytesPerTask` (small files together, big ranges alone).
 * Streams: tasks are yielded as splits arrive. Also what every driver needs first: the bytes per
 * map task, and where intermediate data goes (the input's size comes from its one listing,
 * src/splits/listing.ts).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { wholeParquetFiles } from "../splits/listing.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import type { RuntimeContext } from "../job/runtime-context.js";
import { packSplitStream, type TaskInput } from "../splits/pack.js";

/** Packed map task inputs, streamed. */
export function mapTaskInputs(splits: AsyncIterable<Split> | Iterable<Split>, targetBytesPerTask: number): AsyncIterable<TaskInput> {
  return packSplitStream(wholeParquetFiles(splits), { targetBytesPerTask });
}

/**
 * At least two map tasks per worker, each between 4 and 64 MiB of input, unless the input has at
 * least two objects per worker and none too large:
 * - local files up to 1 GiB: whole objects, packed about two tasks per worker (a task holds up
 *   to count / (2 x workers) of the largest, at most 1 GiB unless one object is larger). A whole
 *   local object is read in place by DuckDB, where a byte range of it must be copied first
 *   (materialize.ts). Fewer, larger tasks leave fewer partial rows for the final merge (Query 2A
 *   over 5M rows: 3.1M from 8 tasks, 2.3M from 4) and measured faster for every Query 2 variant
 *   (8 objects on 2 workers, one object a task -> two: CSV 2A 1.20 -> 1.13x DuckDB alone, 2B 1.24
 *   -> 1.20, 2C 1.23 -> 1.17; Parquet 1.57 -> 1.48, 1.42 -> 1.35, 1.38 -> 1.37; docs/performance.md);
 * - objects of any other store up to 128 MiB are not cut, and are packed the same way, about two
 *   tasks per worker, at most 256 MiB a task (and at least the largest object, or the range size
 *   when that is larger). Each task copies its bytes either way, and fewer, larger tasks measured
 *   faster (5M rows of CSV in 8 objects of 100 MiB through versitygw, 2 workers: 16 ranges -> 8
 *   objects, Query 2A 2.13 -> 1.98x DuckDB alone, 2C 2.18 -> 1.98x; then, with a GET's bytes read
 *   into kept buffers, 8 tasks -> 4: 2A 2.29 -> 1.89x; docs/performance.md). The cap keeps a
 *   task's temp files within half of Lambda's 512 MB of /tmp.
 */
export function defaultTaskBytes(inputBytes: number, workers: number, objects?: { count: number; largest: number; local: boolean }): number {
  const MiB = 1024 * 1024;
  const ranges = Math.round(Math.min(64 * MiB, Math.max(4 * MiB, inputBytes / (2 * workers))));
  if (!objects || objects.count < 2 * workers) return ranges;
  if (objects.local) {
    if (objects.largest > 1024 * MiB) return ranges;
    const perTask = Math.floor(objects.count / (2 * workers));
    return Math.max(4 * MiB, Math.min(perTask * objects.largest, Math.max(objects.largest, 1024 * MiB)));
  }
  if (objects.largest > 128 * MiB) return ranges;
  const perTask = Math.floor(objects.count / (2 * workers));
  return Math.max(ranges, objects.largest, Math.min(perTask * objects.largest, 256 * MiB));
}
/**
 * The job's work store (shuffle segments, split lists, results; deleted when the job ends): `url`
 * when given (`--work`: an `s3://bucket/prefix` when workers are remote, a local directory, ...),
 * else a local temp directory when the input's objects are local files, else the input's own
 * store under `_smelter/jobs/`. Workers open it by its URL.
 */
export async function workStore(url: string | undefined, inputStore: ObjectStore, context?: RuntimeContext): Promise<{ store: ObjectStore; prefix: string }> {
  const options = context ? { context } : {};
  if (url) {
    const w = await openStore(url, options);
    return { store: w.store, prefix: w.key ? `${w.key.replace(/\/?$/, "/")}` : "_smelter/jobs/" };
  }
  if (inputStore.localPath) {
    const w = await openStore(pathToFileURL(join(tmpdir(), "smelter-work")).href + "/", options);
    return { store: w.store, prefix: "jobs/" };
  }
  return { store: inputStore, prefix: "_smelter/jobs/" };
}
