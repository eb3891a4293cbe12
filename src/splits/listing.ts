/**
 * One listing of an input (a prefix or a glob): every object as one split (a CSV/NDJSON object
 * whole, cut into ranges later by the task packer; a Parquet object whole, its row groups merged;
 * a compressed object whole), with the totals every driver sizes its job from. A query lists each
 * table once and hands this listing to execution (src/query/), so `explain` and the run see the
 * same objects and the store is not listed twice.
 */
import { discoverSplits, type DiscoverOptions } from "./discover.js";
import type { Split } from "./split.js";
import type { ObjectStore } from "../storage/contract.js";

export interface InputListing {
  /** The store's root URL. */
  storeUrl: string;
  /** The prefix or glob listed. */
  pattern: string;
  /** One split per non-empty object (per row group with `rowGroups`), in listing order. */
  splits: Split[];
  /** Bytes of those objects. */
  bytes: number;
  /** Non-empty objects. */
  objects: number;
  /** The largest object's bytes. */
  largest: number;
  /** The store's objects are local files (it has the `localPath` capability): a task may read them in place. */
  localFiles: boolean;
  /** Matching objects of no bytes, skipped (no rows), in listing order: their directories still count for hive partitioning (DuckDB alone's glob holds them). */
  emptyKeys?: string[];
}

/**
 * Lists the objects under `pattern` once (see the header). `rowGroups`: a Parquet object's row
 * groups stay separate splits (a reader that can read one row group, as the functions API's).
 */
export async function listInput(store: ObjectStore, pattern: string, options: Pick<DiscoverOptions, "format" | "signal" | "whole"> & { rowGroups?: boolean } = {}): Promise<InputListing> {
  const { rowGroups, ...discover } = options;
  const emptyKeys: string[] = [];
  const found = discoverSplits(store, pattern, { ...discover, targetSplitBytes: Number.MAX_SAFE_INTEGER, onEmpty: (key) => emptyKeys.push(key) });
  const splits: Split[] = [];
  for await (const s of rowGroups ? found : wholeParquetFiles(found)) splits.push(s);
  let bytes = 0;
  let largest = 0;
  const objects = new Set<string>();
  for (const s of splits) {
    if (objects.has(s.key)) continue;
    objects.add(s.key);
    bytes += s.fileSize;
    largest = Math.max(largest, s.fileSize);
  }
  return { storeUrl: store.url, pattern, splits, bytes, objects: objects.size, largest, localFiles: store.localPath !== undefined, ...(emptyKeys.length ? { emptyKeys } : {}) };
}

/** Parquet row-group splits of one object merged back into one whole-object split (a task reads a Parquet object whole). */
export async function* wholeParquetFiles(splits: AsyncIterable<Split> | Iterable<Split>): AsyncGenerator<Split> {
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
