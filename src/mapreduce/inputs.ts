/**
 * Map task inputs from a stream of splits: Parquet row-group splits of one object merged back
 * into one whole-object split (a task reads a Parquet object whole: see materialize.ts), then
 * packed into tasks of about `targetBytesPerTask` (small files together, big ranges alone).
 * Streams: tasks are yielded while discovery still lists. Also what every driver needs first:
 * the input's size, the bytes per map task, and where intermediate data goes.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isInputKey } from "../splits/discover.js";
import { parseKeyPattern } from "../splits/glob.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import { packSplitStream, type TaskInput } from "../splits/pack.js";

export async function* wholeParquetFiles(splits: AsyncIterable<Split>): AsyncGenerator<Split> {
  let pending: Split | undefined;
  for await (const s of splits) {
    if (s.format !== "parquet") {
      if (pending) yield pending;
      pending = undefined;
      yield s;
      continue;
    }
    if (pending && pending.key === s.key) {
      pending = mergeParquet(pending, s);
      continue;
    }
    if (pending) yield pending;
    pending = { ...s, range: { ...s.range }, rowGroups: [...(s.rowGroups ?? [])] };
  }
  if (pending) yield pending;
}

function mergeParquet(a: Split, b: Split): Split {
  return {
    ...a,
    range: { start: Math.min(a.range.start, b.range.start), end: Math.max(a.range.end, b.range.end) },
    rowGroups: [...(a.rowGroups ?? []), ...(b.rowGroups ?? [])],
    ...(a.rows !== undefined || b.rows !== undefined ? { rows: (a.rows ?? 0) + (b.rows ?? 0) } : {}),
  };
}

/** Packed map task inputs, streamed. */
export function mapTaskInputs(splits: AsyncIterable<Split>, targetBytesPerTask: number): AsyncIterable<TaskInput> {
  return packSplitStream(wholeParquetFiles(splits), { targetBytesPerTask });
}

/**
 * At least two map tasks per worker, each between 4 and 64 MiB of input. A local-directory input
 * with at least two objects per worker, none over 1 GiB, is read a whole object per task instead:
 * a whole local object is read in place by DuckDB, a byte range of it must be copied first
 * (materialize.ts).
 */
export function defaultTaskBytes(inputBytes: number, workers: number, local?: { objects: number; largest: number }): number {
  const MiB = 1024 * 1024;
  if (local && local.objects >= 2 * workers && local.largest <= 1024 * MiB) return Math.max(4 * MiB, local.largest);
  return Math.round(Math.min(64 * MiB, Math.max(4 * MiB, inputBytes / (2 * workers))));
}
/** Bytes, count and largest size of the input objects under `pattern` (the objects discovery would read, empty ones counted too). */
export async function inputSizes(store: ObjectStore, pattern: string): Promise<{ bytes: number; objects: number; largest: number }> {
  const p = parseKeyPattern(pattern);
  let bytes = 0;
  let objects = 0;
  let largest = 0;
  for await (const info of store.list(p.listPrefix)) {
    if (!isInputKey(info.key, p)) continue;
    bytes += info.size;
    objects++;
    largest = Math.max(largest, info.size);
  }
  return { bytes, objects, largest };
}

/**
 * The job's work store (shuffle segments, split lists, results; deleted when the job ends): `url`
 * when given (`--work`: an `s3://bucket/prefix` when workers are remote, a local directory, ...),
 * else a local temp directory when the input's objects are local files, else the input's own
 * store under `_smelter/jobs/`. Workers open it by its URL.
 */
export async function workStore(url: string | undefined, inputStore: ObjectStore): Promise<{ store: ObjectStore; prefix: string }> {
  if (url) {
    const w = await openStore(url);
    return { store: w.store, prefix: w.key ? `${w.key.replace(/\/?$/, "/")}` : "_smelter/jobs/" };
  }
  if (inputStore.localPath) {
    const w = await openStore(pathToFileURL(join(tmpdir(), "smelter-work")).href + "/");
    return { store: w.store, prefix: "jobs/" };
  }
  return { store: inputStore, prefix: "_smelter/jobs/" };
}
