/**
 * Map task inputs from a stream of splits: Parquet row-group splits of one object merged back
 * into one whole-object split (a task reads a Parquet object whole: see materialize.ts), then
 * packed into tasks of about `targetBytesPerTask` (small files together, big ranges alone).
 * Streams: tasks are yielded while discovery still lists.
 */
import type { Split } from "../splits/split.js";
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
