/**
 * Map side: put R segments into one object and say where each is. Reduce side: read one
 * partition's segment of a map output with a single ranged GET.
 */
import { copyFile, open, readFile, rename, stat } from "node:fs/promises";
import { ValidationError } from "../job/errors.js";
import type { ObjectStore } from "../storage/contract.js";
import { localFileWriter } from "../storage/local.js";
import type { TaskContext } from "../task-runtime/context.js";
import { mapOutputKey, type MapOutput, type ShufflePlan } from "./layout.js";

/** Writes one map attempt's segments (index r = partition r) as one object. Empty segments cost nothing. */
export async function writeMapOutput(
  store: ObjectStore,
  plan: ShufflePlan,
  ids: { task: number; attempt: number },
  segments: Uint8Array[],
  options: { rows?: number[]; ctx?: Pick<TaskContext, "count" | "signal"> } = {},
): Promise<MapOutput> {
  if (segments.length !== plan.partitions) throw new Error(`[smelter] internal: ${segments.length} segments for ${plan.partitions} partitions`);
  const offsets = [0];
  for (const s of segments) offsets.push(offsets[offsets.length - 1]! + s.byteLength);
  const body = concatSegments(segments, offsets[offsets.length - 1]!);
  const key = mapOutputKey(plan, ids.task, ids.attempt);
  await store.put(key, body, options.ctx ? { signal: options.ctx.signal } : {});
  options.ctx?.count("bytesWritten", body.byteLength);
  options.ctx?.count("writeRequests", 1);
  return { task: ids.task, attempt: ids.attempt, key, offsets, ...(options.rows ? { rows: options.rows } : {}) };
}

/** The segments one after another; a lone segment with bytes (one partition, or the others empty) is the body as it is, not copied. */
function concatSegments(segments: Uint8Array[], total: number): Uint8Array {
  const nonEmpty = segments.filter((s) => s.byteLength > 0);
  return nonEmpty.length === 1 ? nonEmpty[0]! : Buffer.concat(segments, total);
}

/**
 * Like {@link writeMapOutput}, from segment files (`undefined`: an empty segment). On a local
 * directory store the files are concatenated straight into the object's file (no copy through
 * memory, no ETag hash), and a single one is moved there (renamed, on one file system: the files
 * are the caller's to give away); elsewhere they are read and put as one body.
 */
export async function writeMapOutputFiles(
  store: ObjectStore,
  plan: ShufflePlan,
  ids: { task: number; attempt: number },
  files: (string | undefined)[],
  options: { ctx?: Pick<TaskContext, "count" | "signal"> } = {},
): Promise<MapOutput> {
  if (files.length !== plan.partitions) throw new Error(`[smelter] internal: ${files.length} segments for ${plan.partitions} partitions`);
  const writer = localFileWriter(store);
  if (!writer) return writeMapOutput(store, plan, ids, await Promise.all(files.map((f) => (f ? readFile(f) : new Uint8Array(0)))), options);
  const sizes = await Promise.all(files.map(async (f) => (f ? (await stat(f)).size : 0)));
  const offsets = [0];
  for (const n of sizes) offsets.push(offsets[offsets.length - 1]! + n);
  const key = mapOutputKey(plan, ids.task, ids.attempt);
  const present = files.filter((f): f is string => !!f);
  await writer.put(key, async (tmp) => {
    if (present.length === 1) return moveFile(present[0]!, tmp);
    const out = await open(tmp, "w");
    try {
      for (const f of present) {
        options.ctx?.signal.throwIfAborted();
        const bytes = await readFile(f);
        await out.write(bytes, 0, bytes.byteLength);
      }
    } finally {
      await out.close();
    }
  });
  options.ctx?.count("bytesWritten", offsets[offsets.length - 1]!);
  options.ctx?.count("writeRequests", 1);
  return { task: ids.task, attempt: ids.attempt, key, offsets };
}

/** The bytes of partition `r` in a map output; empty segments are not fetched. */
export async function readSegment(store: ObjectStore, output: MapOutput, r: number, options: { ctx?: Pick<TaskContext, "count" | "signal"> } = {}): Promise<Uint8Array> {
  const start = output.offsets[r];
  const end = output.offsets[r + 1];
  if (start === undefined || end === undefined) throw new ValidationError(`[smelter] map output ${output.key} has no partition ${r} (its manifest record lists ${Math.max(output.offsets.length - 1, 0)}): the work prefix was changed by something else; rerun the job`);
  if (end === start) return new Uint8Array(0);
  const bytes = await store.get(output.key, { range: { start, end }, ...(options.ctx ? { signal: options.ctx.signal } : {}) });
  options.ctx?.count("bytesRead", bytes.byteLength);
  options.ctx?.count("readRequests", 1);
  return bytes;
}

/** Moves a finished segment file into the store's temp path: a rename on one file system, else a copy (the attempt's directory is removed with the original). */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await copyFile(from, to);
  }
}
