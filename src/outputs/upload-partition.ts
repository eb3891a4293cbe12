/**
 * The task side of a parallel upload (docs/parallel-upload.md): a task uploads its own partition.
 * A partition of at least 2 x partSize (10 MiB) is sent as two parts, head (first 5 MiB, part 2i+1)
 * and body (the rest, part 2i+2), each with Content-MD5, and a copy of its head is staged as a
 * temporary object (the coordinator may need it to absorb small neighbours). A smaller partition
 * uploads no part: it is staged whole and the coordinator merges it.
 *
 * Memory with a stream: the first 10 MiB are buffered to decide small or large; after that the
 * body is buffered until the stream ends (one S3 part is one request whose Content-MD5 header
 * must be known before sending), so a large partition costs about its size in memory.
 */
import { createHash } from "node:crypto";
import { systemContext } from "../job/runtime-context.js";
import { z } from "zod";
import { ConfigError, ValidationError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import type { MultipartOps, ObjectStore } from "../storage/contract.js";
import { cachedStore } from "../storage/cache.js";
import { openRootStore as openTaskStore } from "../storage/url.js";
import type { TaskContext } from "../task-runtime/context.js";
import {
  bodyPart,
  checkPartitionIndex,
  checkPartitionSize,
  handleSchema,
  headPart,
  isLarge,
  parseHandle,
  type ParallelUploadHandle,
  type PartitionPart,
  type PartitionResult,
} from "./upload-protocol.js";

/** What `uploadPartition` uses of a task's context (all optional: it also runs outside tasks). */
export type UploadContext = Partial<Pick<TaskContext, "signal" | "attemptId" | "count" | "heartbeat">>;

/**
 * Uploads partition `partition` of a parallel upload and returns what the coordinator needs.
 * Adds `bytesWritten` and `writeRequests` to `ctx`'s counters. Safe to run twice (a retry or a
 * speculative duplicate): parts are overwritten under the same numbers and each attempt stages
 * under its own key; the coordinator uses the winner's result only.
 */
export async function uploadPartition(
  store: ObjectStore,
  handleInput: ParallelUploadHandle,
  partition: number,
  bytes: Uint8Array | AsyncIterable<Uint8Array>,
  ctx: UploadContext = {},
): Promise<PartitionResult> {
  const handle = parseHandle(handleInput);
  checkPartitionIndex(handle, partition);
  const w = writer(store, handle, partition, ctx);
  const P = handle.partSize;

  if (bytes instanceof Uint8Array) {
    checkPartitionSize(handle, partition, bytes.byteLength);
    const md5 = digest(bytes).hex;
    if (!isLarge(bytes.byteLength, P)) return { partition, size: bytes.byteLength, md5, parts: [], staged: await w.stage("all", bytes) };
    const head = bytes.subarray(0, P);
    const [h, staged, b] = await settleAll<[PartitionPart, Staged, PartitionPart]>(w.part(headPart(partition), head), w.stage("head", head), w.part(bodyPart(partition), bytes.subarray(P)));
    return { partition, size: bytes.byteLength, md5, parts: [h, b], staged };
  }

  const hash = createHash("md5");
  let size = 0;
  let chunks: Uint8Array[] = [];
  let buffered = 0;
  let headDone: Promise<[PartitionPart, Staged]> | undefined;
  let headError: { error: unknown } | undefined;
  try {
    for await (const chunk of bytes) {
      if (headError) throw headError.error;
      ctx.signal?.throwIfAborted();
      hash.update(chunk);
      size += chunk.byteLength;
      checkPartitionSize(handle, partition, size);
      chunks.push(chunk);
      buffered += chunk.byteLength;
      if (headDone === undefined && buffered >= 2 * P) {
        const all = Buffer.concat(chunks, buffered);
        const head = all.subarray(0, P);
        chunks = [all.subarray(P)];
        buffered -= P;
        headDone = settleAll<[PartitionPart, Staged]>(w.part(headPart(partition), head), w.stage("head", head));
        headDone.catch((error: unknown) => (headError = { error })); // stops reading the source early
      }
    }
  } catch (err) {
    await headDone?.catch(() => undefined);
    throw headError ? headError.error : err;
  }
  const rest = Buffer.concat(chunks, buffered);
  chunks = [];
  const md5 = hash.digest("hex");
  if (headDone === undefined) return { partition, size, md5, parts: [], staged: await w.stage("all", rest) };
  const [[h, staged], b] = await settleAll<[[PartitionPart, Staged], PartitionPart]>(headDone, w.part(bodyPart(partition), rest));
  return { partition, size, md5, parts: [h, b], staged };
}

type Staged = { key: string; size: number };

/**
 * Like Promise.all, but on a failure waits for the other writes to settle before throwing the
 * first error: a failed attempt leaves no write in flight behind it that could land after the
 * coordinator's cleanup. (Writes are not cancelled on a sibling's failure: a request cancelled
 * after its body was sent may still land. A cancel through ctx.signal does cancel them; the
 * coordinator sweeps the staging prefix twice for that reason, see abortParallelUpload.)
 */
async function settleAll<T extends unknown[]>(...ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  let first: { error: unknown } | undefined;
  const all = (ps as Promise<unknown>[]).map((p) =>
    p.catch((error: unknown) => {
      first ??= { error };
      throw error;
    }),
  );
  const settled = await Promise.allSettled(all);
  if (first) throw first.error;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

function writer(store: ObjectStore, handle: ParallelUploadHandle, partition: number, ctx: UploadContext) {
  const signal = ctx.signal;
  const tag = (ctx.attemptId ?? systemContext().ids.hex(8)).replace(/[^\w.-]/g, "_");
  const counted = (n: number): void => {
    ctx.count?.("bytesWritten", n);
    ctx.count?.("writeRequests", 1);
    ctx.heartbeat?.();
  };
  let mp: MultipartOps | undefined;
  return {
    async part(partNumber: number, data: Uint8Array): Promise<PartitionPart> {
      mp ??= requireMultipart(store, handle.key);
      const d = digest(data);
      const up = await mp.uploadPart(handle.key, handle.uploadId, partNumber, data, { contentMd5: d.base64, signal });
      counted(data.byteLength);
      return { partNumber, etag: up.etag, size: data.byteLength, md5: d.hex };
    },
    async stage(kind: "all" | "head", data: Uint8Array): Promise<{ key: string; size: number }> {
      const key = stagingKey(handle, partition, kind, tag);
      await store.put(key, data, { signal });
      counted(data.byteLength);
      return { key, size: data.byteLength };
    },
  };
}

/** `<stagingPrefix>p00042-head-<attempt>`: every attempt stages under its own key. */
export function stagingKey(handle: ParallelUploadHandle, partition: number, kind: "all" | "head", tag: string): string {
  return `${handle.stagingPrefix}p${String(partition).padStart(5, "0")}-${kind}-${tag}`;
}

export function requireMultipart(store: ObjectStore, key: string): MultipartOps {
  if (!store.multipart) throw new ConfigError(`store ${store.url} has no multipart upload, so "${key}" cannot be assembled in parallel: use an s3://, file:// or memory:// store`);
  return store.multipart;
}

function digest(data: Uint8Array): { hex: string; base64: string } {
  const d = createHash("md5").update(data).digest();
  return { hex: d.toString("hex"), base64: d.toString("base64") };
}

// ---- running inside a task -----------------------------------------------------------------

/** The input of a task of a parallel upload: where to write, which partition, and your own `source`. */
export interface PartitionTaskInput<S = unknown> {
  /** The store's URL (`store.url`); the task opens it once per worker (`cachedStore`). */
  storeUrl: string;
  handle: ParallelUploadHandle;
  partition: number;
  /** What the task turns into bytes (yours to define). */
  source: S;
}

export const partitionTaskInputSchema = z.strictObject({
  storeUrl: z.string().min(1),
  handle: handleSchema,
  partition: z.number().int().nonnegative(),
  source: z.unknown(),
});

export { openTaskStore };

export function parsePartitionTaskInput(value: unknown): PartitionTaskInput {
  const r = partitionTaskInputSchema.safeParse(value);
  if (!r.success) throw new ValidationError(`invalid parallel-upload task input: ${formatZodIssues(r.error)}`);
  return r.data as PartitionTaskInput;
}

/** Opens the task's store, uploads its partition, closes the store: the body of most upload workers. */
export async function uploadPartitionTask(input: PartitionTaskInput, bytes: Uint8Array | AsyncIterable<Uint8Array>, ctx: UploadContext = {}): Promise<PartitionResult> {
  const task = parsePartitionTaskInput(input);
  // One store per URL for the worker's life (storage/cache.ts): a warm worker's next task reuses its connections.
  return uploadPartition(await cachedStore(task.storeUrl), task.handle, task.partition, bytes, ctx);
}
