/**
 * Streaming split discovery (seed 001; Trino's ConnectorSplitSource): the listing runs page by page
 * and each listed object is cut into splits that go through a bounded queue, so tasks start on the
 * first splits while listing continues. The consumer pulls (`nextBatch`, or `for await`); when
 * nobody pulls and the queue is full, listing waits (back-pressure). Nothing runs before the first
 * pull; `close()` (or leaving a `for await` early) stops the listing.
 */
import { z } from "zod";
import { SmelterError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import type { ObjectInfo, ObjectStore } from "../storage/contract.js";
import { parseKeyPattern, type KeyPattern } from "./glob.js";
import { readParquetFooter, rowGroupUnits } from "./parquet.js";
import { BoundedQueue } from "./queue.js";
import { cutRanges, detectFormat, splitFormats } from "./split.js";
import type { Split, SplitFormat } from "./split.js";

/** Options of {@link discoverSplits}. */
export interface DiscoverOptions {
  /** Target bytes of a CSV/NDJSON split; objects are cut into ceil(size / target) near-equal ranges. @default 64 MiB */
  targetSplitBytes?: number;
  /** The objects' format; `auto` goes by extension (none or unknown: csv; `.gz`/`.deflate`/`.zst` is stripped first). @default "auto" */
  format?: SplitFormat | "auto";
  /** Splits held in the queue before listing waits for the consumer. @default 1000 */
  queueCapacity?: number;
  /** Objects per listing page asked of the store. @default the store's own */
  pageSize?: number;
  /** Parquet footers read at once. @default 8 */
  footerConcurrency?: number;
  /** Skip keys with a path segment starting with `_` or `.` (`_SUCCESS`, `.crc`, Smelter's `_smelter/` work prefix). @default true */
  skipHidden?: boolean;
  /** Bytes read before a Parquet footer's trailer in its first GET. @default 64 KiB */
  footerPrefetchBytes?: number;
  /** CSV/NDJSON objects are one split each, never cut into byte ranges (see dialect.ts). @default false */
  whole?: boolean;
  /** Stops the listing. */
  signal?: AbortSignal;
  /** Called with each matching object of no bytes (skipped: it holds no rows, but its path may matter, as for hive directories). */
  onEmpty?: (key: string) => void;
}

const optionsSchema = z.strictObject({
  targetSplitBytes: z.number().int().min(1).default(64 * 1024 * 1024),
  format: z.enum([...splitFormats, "auto"]).default("auto"),
  queueCapacity: z.number().int().min(1).default(1000),
  pageSize: z.number().int().min(1).optional(),
  footerConcurrency: z.number().int().min(1).default(8),
  skipHidden: z.boolean().default(true),
  footerPrefetchBytes: z.number().int().min(0).default(64 * 1024),
  whole: z.boolean().default(false),
  signal: z.instanceof(AbortSignal).optional(),
  onEmpty: z.custom<(key: string) => void>((f) => typeof f === "function", "must be a function").optional(),
});

/** What discovery has done so far. */
export interface DiscoveryStats {
  /** Listing pages received. */
  pages: number;
  /** Objects that matched the pattern. */
  files: number;
  /** Splits handed to the queue. */
  splits: number;
  /** Bytes of the matched objects. */
  bytes: number;
  /** True once the listing finished (every split is queued or taken). */
  listingDone: boolean;
}

/** A stream of splits: iterate it, or pull batches as Trino's getNextBatch does. */
export interface SplitSource extends AsyncIterable<Split> {
  /** Up to `max` splits (at least one; waits for the first), or undefined when discovery is over. */
  nextBatch(max: number): Promise<Split[] | undefined>;
  /** Stops listing; queued splits are dropped. */
  close(): void;
  readonly stats: Readonly<DiscoveryStats>;
}

/** Discovers the splits of the objects under `pattern` (a prefix or a glob) in `store`. */
export function discoverSplits(store: ObjectStore, pattern: string, options: DiscoverOptions = {}): SplitSource {
  const opts = parseOrThrow(optionsSchema, options, "discoverSplits options");
  const keyPattern = parseKeyPattern(pattern);
  const queue = new BoundedQueue<Split>(opts.queueCapacity);
  const stats: DiscoveryStats = { pages: 0, files: 0, splits: 0, bytes: 0, listingDone: false };
  const abort = new AbortController();
  const onAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let started = false;

  async function splitsOf(info: ObjectInfo): Promise<Split[]> {
    const detected = detectFormat(info.key);
    const format = opts.format === "auto" ? detected.format : opts.format;
    const base = { key: info.key, store: store.url, format, fileSize: info.size, ...(info.version !== undefined ? { version: info.version } : {}) };
    if (detected.compression) return [{ ...base, range: { start: 0, end: info.size }, compression: detected.compression }];
    if (opts.whole && format !== "parquet") return [{ ...base, range: { start: 0, end: info.size }, whole: true }];
    if (format === "parquet") {
      const footer = await readParquetFooter(store, info.key, { fileSize: info.size, footerPrefetchBytes: opts.footerPrefetchBytes, signal: abort.signal, version: info.version });
      const units = rowGroupUnits(footer.metadata);
      // A Parquet object of no rows (no row groups) is still a split: its footer gives the columns, and a table of only such objects is 0 rows, not "no objects".
      if (units.length === 0) return [{ ...base, range: { start: 0, end: 0 }, rowGroups: [], rows: 0 }];
      return units.map((rg) => ({ ...base, range: { start: rg.start, end: rg.end }, rowGroups: [rg.index], rows: rg.rows }));
    }
    return cutRanges(0, info.size, opts.targetSplitBytes).map((range) => ({ ...base, range }));
  }

  async function produce(): Promise<void> {
    try {
      const listOptions = opts.pageSize === undefined ? { signal: abort.signal } : { signal: abort.signal, pageSize: opts.pageSize };
      for await (const page of store.listPages(keyPattern.listPrefix, listOptions)) {
        if (abort.signal.aborted) break;
        stats.pages++;
        const inputs = page.filter((o) => isInputKey(o.key, keyPattern, opts.skipHidden));
        if (opts.onEmpty) for (const o of inputs) if (o.size === 0) opts.onEmpty(o.key);
        const files = inputs.filter((o) => o.size > 0);
        for (let i = 0; i < files.length; i += opts.footerConcurrency) {
          const group = files.slice(i, i + opts.footerConcurrency);
          const cut = await Promise.all(group.map(splitsOf));
          for (const [j, splits] of cut.entries()) {
            stats.files++;
            stats.bytes += group[j]?.size ?? 0;
            for (const s of splits) {
              await queue.push(s);
              if (abort.signal.aborted) return;
              stats.splits++;
            }
          }
        }
      }
      stats.listingDone = true;
      queue.end();
    } catch (err) {
      queue.fail(abort.signal.aborted ? err : wrapListingError(err, store, pattern));
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  function start(): void {
    if (started) return;
    started = true;
    void produce();
  }

  const source: SplitSource = {
    stats,
    async nextBatch(max: number) {
      start();
      return queue.take(Math.max(1, Math.floor(max)));
    },
    close() {
      abort.abort();
      queue.end();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const batch = await source.nextBatch(64);
          if (!batch) return;
          yield* batch;
        }
      } finally {
        if (!stats.listingDone) source.close();
      }
    },
  };
  return source;
}

/** Collects every split (for small inputs and tests). */
export async function listSplits(store: ObjectStore, pattern: string, options: DiscoverOptions = {}): Promise<Split[]> {
  const out: Split[] = [];
  for await (const s of discoverSplits(store, pattern, options)) out.push(s);
  return out;
}

/** Whether a listed key is one of the pattern's input objects (matching, and not hidden unless `skipHidden` is false). */
export function isInputKey(key: string, pattern: KeyPattern, skipHidden = true): boolean {
  return pattern.matches(key) && !(skipHidden && isHidden(key, pattern.listPrefix));
}

/**
 * Hidden as Hadoop/Spark/Hive have it: a path segment below the listed prefix starting with `_`
 * or `.` (`_SUCCESS`, `.crc`, Smelter's `_smelter/` work prefix). The user's own prefix may be
 * named anything.
 */
function isHidden(key: string, listPrefix = ""): boolean {
  const below = key.startsWith(listPrefix) ? key.slice(listPrefix.lastIndexOf("/") + 1) : key;
  return below.split("/").some((segment) => segment.startsWith("_") || segment.startsWith("."));
}

function wrapListingError(err: unknown, store: ObjectStore, pattern: string): unknown {
  if (err instanceof SmelterError) return err; // already says what went wrong and what to do
  const message = err instanceof Error ? err.message : String(err);
  return new SmelterError(`split discovery of "${pattern}" in ${store.url} failed: ${message}`, { type: "SplitDiscoveryFailed", cause: err });
}
