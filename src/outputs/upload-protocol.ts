/**
 * The data shared by the coordinator and the tasks of a parallel upload (docs/parallel-upload.md):
 * the handle passed to every task, the result each task returns, the part-numbering rule, the
 * limits. Everything here crosses a thread/process/network boundary, so it is validated with zod
 * on the side that receives it.
 */
import { z } from "zod";
import { ConfigError, ValidationError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";

/** S3's smallest part (all but the last) and the size of a large partition's head part. */
export const DEFAULT_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part; a large partition's body is one part, so a partition may not exceed this. */
export const MAX_PARTITION_BYTES = 5 * 1024 * 1024 * 1024;
/** Partition i owns part numbers 2i+1 and 2i+2; S3 allows part numbers up to 10,000. */
export const MAX_PARTITIONS = 5000;

/** What the coordinator hands every task (small JSON). */
export interface ParallelUploadHandle {
  /** The object being assembled, relative to the store's root. */
  key: string;
  uploadId: string;
  /** Temporary objects (small partitions, heads of large ones) live under this prefix. */
  stagingPrefix: string;
  /** How many partitions (tasks) the object is cut into. */
  partitions: number;
  /** Head size and smallest part; S3's 5 MiB unless the store allows less (memory/local tests). */
  partSize: number;
}

export const handleSchema = z.strictObject({
  key: z.string().min(1),
  uploadId: z.string().min(1),
  stagingPrefix: z.string().min(1),
  partitions: z.number().int().min(1).max(MAX_PARTITIONS),
  partSize: z.number().int().min(1),
});

/** One part a task uploaded. `md5` is the hex MD5 of the part's bytes. */
export interface PartitionPart {
  partNumber: number;
  etag: string;
  size: number;
  md5: string;
}

/** What a task returns for its partition (and what `uploadPartition` returns). */
export interface PartitionResult {
  partition: number;
  /** Bytes in the partition. */
  size: number;
  /** Hex MD5 of the whole partition. */
  md5: string;
  /** Large partition: head (2i+1) and body (2i+2). Small partition: none. */
  parts: PartitionPart[];
  /** Large partition: a copy of its head; small partition: all of it. */
  staged?: { key: string; size: number };
}

const md5Hex = z.string().regex(/^[0-9a-f]{32}$/, "a hex MD5 (32 lowercase hex digits)");
const partSchema = z.strictObject({ partNumber: z.number().int().min(1), etag: z.string().min(1), size: z.number().int().nonnegative(), md5: md5Hex });
export const partitionResultSchema = z.strictObject({
  partition: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  md5: md5Hex,
  parts: z.array(partSchema).max(2),
  staged: z.strictObject({ key: z.string().min(1), size: z.number().int().nonnegative() }).optional(),
});

export const headPart = (partition: number): number => 2 * partition + 1;
export const bodyPart = (partition: number): number => 2 * partition + 2;

/** A partition this big or bigger is uploaded by its task as head + body parts. */
export const isLarge = (size: number, partSize: number): boolean => size >= 2 * partSize;

/** Parses a handle received by a task; throws ValidationError naming the problems. */
export function parseHandle(value: unknown): ParallelUploadHandle {
  const r = handleSchema.safeParse(value);
  if (!r.success) throw new ValidationError(`invalid parallel-upload handle: ${formatZodIssues(r.error)}: pass the handle beginParallelUpload returned, unchanged`);
  return r.data;
}

export function checkPartitionCount(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS)
    throw new ConfigError(
      `a parallel upload needs 1 to ${MAX_PARTITIONS} partitions, got ${partitions}: partition i owns part numbers 2i+1 and 2i+2 and S3 allows at most 10,000 parts; merge partitions (fewer, larger tasks)`,
    );
}

export function checkPartitionIndex(handle: ParallelUploadHandle, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= handle.partitions)
    throw new ValidationError(`partition ${partition} is outside 0..${handle.partitions - 1} of the parallel upload of "${handle.key}": pass the task's own 0-based partition number`);
}

export function checkPartitionSize(handle: ParallelUploadHandle, partition: number, size: number): void {
  if (size > MAX_PARTITION_BYTES)
    throw new ConfigError(
      `partition ${partition} of "${handle.key}" is over ${MAX_PARTITION_BYTES} bytes (5 GiB, S3's largest part; splitting one partition into more parts is not supported): use more partitions`,
    );
}
