/**
 * From splits to tasks, by bytes (Corral's bins): a task input is a list of splits of about
 * `targetBytesPerTask`. Small objects are packed together; splits larger than the target are cut
 * into ranges first (CSV/NDJSON only; a Parquet row group or a compressed object stays whole).
 * `packSplits` is first-fit decreasing over a known list; `packSplitStream` is a streaming greedy
 * packer that emits a task as soon as it is full, so tasks start while discovery continues.
 */
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import { cutRanges, isSplittable, splitBytes } from "./split.js";
import type { Split } from "./split.js";

/** Options of the packers. */
export interface PackOptions {
  /** Bytes a task should read. @default 128 MiB */
  targetBytesPerTask?: number;
  /** Most splits in one task (bounds the payload). @default 1000 */
  maxSplitsPerTask?: number;
  /** Streaming packer: how many partly filled tasks stay open for small splits to land in. @default 4 */
  openBins?: number;
}

const optionsSchema = z.strictObject({
  targetBytesPerTask: z.number().int().min(1).default(128 * 1024 * 1024),
  maxSplitsPerTask: z.number().int().min(1).default(1000),
  openBins: z.number().int().min(1).default(4),
});

/** A task's input. */
export interface TaskInput {
  splits: Split[];
  bytes: number;
}

/** Cuts a splittable split bigger than `maxBytes` into ranges of at most about `maxBytes`. */
export function cutSplit(split: Split, maxBytes: number): Split[] {
  if (!isSplittable(split) || splitBytes(split) <= maxBytes) return [split];
  return cutRanges(split.range.start, split.range.end, maxBytes).map((range) => ({ ...split, range }));
}

/** How many tasks `totalBytes` of input make at `targetBytesPerTask` (at least 1). */
export function taskCountForBytes(totalBytes: number, targetBytesPerTask: number): number {
  return Math.max(1, Math.ceil(totalBytes / targetBytesPerTask));
}

/** First-fit decreasing over a known list of splits. */
export function packSplits(splits: Iterable<Split>, options: PackOptions = {}): TaskInput[] {
  const opts = parseOrThrow(optionsSchema, options, "pack options");
  const pieces = [...splits].flatMap((s) => cutSplit(s, opts.targetBytesPerTask));
  pieces.sort((a, b) => splitBytes(b) - splitBytes(a));
  const bins: TaskInput[] = [];
  for (const piece of pieces) {
    const size = splitBytes(piece);
    const bin = bins.find((b) => b.bytes + size <= opts.targetBytesPerTask && b.splits.length < opts.maxSplitsPerTask);
    if (bin) {
      bin.splits.push(piece);
      bin.bytes += size;
    } else bins.push({ splits: [piece], bytes: size });
  }
  return bins;
}

/**
 * Streaming greedy packing: each split goes to the first of up to `openBins` open tasks it fits
 * in; a task is emitted when it is full (within 1/16 of the target, or `maxSplitsPerTask`), or,
 * when all bins are open and none fits, the fullest is emitted to make room. The rest come at the end.
 */
export async function* packSplitStream(splits: AsyncIterable<Split> | Iterable<Split>, options: PackOptions = {}): AsyncIterable<TaskInput> {
  const opts = parseOrThrow(optionsSchema, options, "pack options");
  const target = opts.targetBytesPerTask;
  const nearlyFull = target - Math.floor(target / 16);
  const open: TaskInput[] = [];
  for await (const split of splits) {
    for (const piece of cutSplit(split, target)) {
      const size = splitBytes(piece);
      let bin = open.find((b) => b.bytes + size <= target);
      if (!bin) {
        if (open.length >= opts.openBins) {
          let fullest = 0;
          for (let i = 1; i < open.length; i++) if ((open[i]?.bytes ?? 0) > (open[fullest]?.bytes ?? 0)) fullest = i;
          const [done] = open.splice(fullest, 1);
          if (done) yield done;
        }
        bin = { splits: [], bytes: 0 };
        open.push(bin);
      }
      bin.splits.push(piece);
      bin.bytes += size;
      if (bin.bytes >= nearlyFull || bin.splits.length >= opts.maxSplitsPerTask) {
        open.splice(open.indexOf(bin), 1);
        yield bin;
      }
    }
  }
  yield* open.filter((b) => b.splits.length > 0);
}
