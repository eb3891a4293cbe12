/**
 * The coordinator of a parallel upload: one object assembled from many tasks' partitions, in
 * partition order (seed 002; docs/parallel-upload.md). `beginParallelUpload` creates the multipart
 * upload, each task runs `uploadPartition` (upload-partition.ts), `completeParallelUpload` merges
 * small partitions into parts of at least 5 MiB and completes, `abortParallelUpload` cleans up.
 */
import { systemContext } from "../job/runtime-context.js";
import pLimit from "p-limit";
import { ConfigError, SmelterError } from "../job/errors.js";
import type { ObjectStore } from "../storage/contract.js";
import { StoreError } from "../storage/errors.js";
import { temporaries } from "../job/temporaries.js";
import { assembleParts, checkResults } from "./upload-assemble.js";
import { requireMultipart } from "./upload-partition.js";
import { checkPartitionCount, DEFAULT_PART_SIZE, parseHandle, type ParallelUploadHandle } from "./upload-protocol.js";

export interface BeginParallelUploadOptions {
  /** How many partitions (tasks); at most 5000 (part numbers 2i+1, 2i+2 <= 10,000). */
  partitions: number;
  /** Where temporary objects go. @default `<key>.smelter-staging-<random>/` */
  stagingPrefix?: string;
  /** Head size and smallest part. Lower it only for stores that allow smaller parts (memory/local with `minPartSize`). @default 5 MiB */
  partSize?: number;
  contentType?: string;
  signal?: AbortSignal;
}

/** Creates the multipart upload; the handle (small JSON) goes into every task's input. */
export async function beginParallelUpload(store: ObjectStore, key: string, options: BeginParallelUploadOptions): Promise<ParallelUploadHandle> {
  checkPartitionCount(options.partitions);
  const mp = requireMultipart(store, key);
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isInteger(partSize) || partSize < 1 || (store.kind === "s3" && partSize < DEFAULT_PART_SIZE))
    throw new ConfigError(`partSize ${partSize} is invalid for ${store.url}: S3 needs parts of at least ${DEFAULT_PART_SIZE} bytes (leave partSize unset)`);
  let stagingPrefix = options.stagingPrefix ?? `${key}.smelter-staging-${systemContext().ids.hex(12)}/`;
  if (!stagingPrefix.endsWith("/")) stagingPrefix += "/";
  if (key.startsWith(stagingPrefix) || stagingPrefix === "/")
    throw new ConfigError(`staging prefix "${stagingPrefix}" would contain the object "${key}" (staging is deleted at the end): pick a prefix beside it`);
  const uploadId = await mp.create(key, { contentType: options.contentType, signal: options.signal });
  // Registered until completed or aborted: an upload the process could not end is reported (src/job/temporaries.ts).
  open.set(uploadId, temporaries.add({ kind: "upload", store: store.url, key, uploadId, staging: stagingPrefix }));
  return { key, uploadId, stagingPrefix, partitions: options.partitions, partSize };
}

/** Releases of the uploads this process began and has not yet ended, by upload id. */
const open = new Map<string, () => void>();

function ended(uploadId: string): void {
  open.get(uploadId)?.();
  open.delete(uploadId);
}

export interface ParallelUploadSummary {
  key: string;
  /** Bytes in the object (the sum of the partitions). */
  size: number;
  etag?: string;
  partitions: number;
  /** Parts in the completed upload. */
  parts: number;
  /** Parts the coordinator uploaded itself (merged small partitions). */
  coordinatorParts: number;
  /** Bytes that went through the coordinator (read from staging and uploaded again). */
  coordinatorBytes: number;
  /** Temporary objects deleted. */
  stagingDeleted: number;
  /** Time spent in completeParallelUpload. */
  completeMs: number;
}

export interface CompleteOptions {
  signal?: AbortSignal;
  /** Coordinator part uploads in flight at once (each holds up to ~15 MiB). @default 4 */
  concurrency?: number;
}

/**
 * Checks every task result (zod), uploads the merged parts, completes in part order, checks the
 * object's size, deletes the staging objects. Any failure aborts the upload and rethrows.
 */
export async function completeParallelUpload(store: ObjectStore, handleInput: ParallelUploadHandle, results: readonly unknown[], options: CompleteOptions = {}): Promise<ParallelUploadSummary> {
  const clock = systemContext().clock;
  const started = clock.now();
  const h = parseHandle(handleInput);
  const mp = requireMultipart(store, h.key);
  let completed = false;
  try {
    const checked = checkResults(h, results);
    const size = checked.reduce((n, r) => n + r.size, 0);
    let etag: string | undefined;
    let plan = { parts: [] as { partNumber: number; etag: string; size: number }[], coordinatorParts: 0, coordinatorBytes: 0 };
    if (size === 0) {
      // S3 cannot complete an upload with no bytes in a useful way: write the empty object.
      await abortQuietly(store, h);
      etag = (await store.put(h.key, new Uint8Array(0), { signal: options.signal })).etag;
    } else {
      plan = await assembleParts(store, h, checked, pLimit(options.concurrency ?? 4), options.signal);
      etag = (await mp.complete(h.key, h.uploadId, plan.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })))).etag;
    }
    completed = true;
    const info = await store.head(h.key);
    if (info?.size !== size) {
      await store.delete(h.key).catch(() => undefined);
      throw new StoreError(`[smelter] parallel upload of "${h.key}" in ${store.url} produced ${info ? `${info.size} bytes` : "no object"} instead of ${size}: the object was deleted; run the job again`);
    }
    const stagingDeleted = await store.deletePrefix(h.stagingPrefix);
    ended(h.uploadId);
    return { key: h.key, size, etag, partitions: h.partitions, parts: plan.parts.length, coordinatorParts: plan.coordinatorParts, coordinatorBytes: plan.coordinatorBytes, stagingDeleted, completeMs: clock.now() - started };
  } catch (err) {
    if (completed) {
      await store.deletePrefix(h.stagingPrefix).then(
        () => ended(h.uploadId),
        () => undefined,
      );
      throw err;
    }
    throw await withAbort(store, h, err);
  }
}

/** How long a late write of a cancelled request may take to land after the abort. */
const LATE_WRITE_GRACE_MS = 300;

export interface AbortReport {
  /** The upload is known to be gone (aborted now, or already gone). */
  aborted: boolean;
  /** How the absence was checked: `listParts` (NoSuchUpload), `listUploads`, or `unverified` when the store supports neither. */
  verified: "listParts" | "listUploads" | "unverified";
  stagingDeleted: number;
  /** Why abort or its check failed (a store without AbortMultipartUpload, such as s3rver). */
  note?: string;
}

/**
 * Aborts the upload, deletes the staging objects, then checks that nothing is left: ListParts
 * must answer NoSuchUpload (S3 advises aborting again if parts still show, since a part upload in
 * flight during the abort may land after it), else ListMultipartUploads must not list it.
 * Throws only when the upload is known to remain after three aborts.
 */
export async function abortParallelUpload(store: ObjectStore, handleInput: ParallelUploadHandle): Promise<AbortReport> {
  const h = parseHandle(handleInput);
  const mp = requireMultipart(store, h.key);
  const notes: string[] = [];
  const tryAbort = async (): Promise<void> => {
    try {
      await mp.abort(h.key, h.uploadId);
    } catch (err) {
      if ((err as { type?: string }).type !== "NoSuchUpload") notes.push(`abort: ${(err as Error).message}`);
    }
  };
  await tryAbort();
  let stagingDeleted = await store.deletePrefix(h.stagingPrefix);
  let report: AbortReport | undefined;
  for (let round = 1; !report; round++) {
    const state = await uploadState(store, h, notes);
    if (state.open === false) report = { aborted: true, verified: state.how, stagingDeleted };
    else if (state.open === undefined) report = { aborted: notes.length === 0, verified: "unverified", stagingDeleted };
    else if (round === 3)
      throw new StoreError(`[smelter] multipart upload ${h.uploadId} of "${h.key}" in ${store.url} is still open after 3 aborts (${notes.join("; ") || "no error reported"}): abort it by hand or set a lifecycle rule that aborts incomplete uploads`);
    else await tryAbort();
  }
  // A second sweep: a part or staging write cancelled mid-request (Ctrl-C, a killed attempt) may
  // still land on the server after the abort and bring the upload back (seen with versitygw).
  await systemContext().clock.sleep(LATE_WRITE_GRACE_MS);
  for (let round = 1; report.verified !== "unverified" && round <= 3; round++) {
    if ((await uploadState(store, h, notes)).open !== true) break;
    await tryAbort();
    await systemContext().clock.sleep(LATE_WRITE_GRACE_MS);
  }
  stagingDeleted += await store.deletePrefix(h.stagingPrefix);
  ended(h.uploadId);
  return { ...report, stagingDeleted, ...(notes.length ? { note: notes.join("; ") } : {}) };
}

async function uploadState(store: ObjectStore, h: ParallelUploadHandle, notes: string[]): Promise<{ open: boolean | undefined; how: "listParts" | "listUploads" }> {
  const mp = requireMultipart(store, h.key);
  try {
    await mp.listParts(h.key, h.uploadId);
    return { open: true, how: "listParts" };
  } catch (err) {
    if ((err as { type?: string }).type === "NoSuchUpload") return { open: false, how: "listParts" };
    notes.push(`listParts: ${(err as Error).message}`);
  }
  try {
    const open = await mp.listUploads(h.key);
    return { open: open.some((u) => u.uploadId === h.uploadId), how: "listUploads" };
  } catch (err) {
    notes.push(`listUploads: ${(err as Error).message}`);
    return { open: undefined, how: "listUploads" };
  }
}

async function abortQuietly(store: ObjectStore, h: ParallelUploadHandle): Promise<void> {
  await requireMultipart(store, h.key)
    .abort(h.key, h.uploadId)
    .catch(() => undefined);
}

/** Aborts after a failure; returns the error to throw (the original, or one saying the cleanup failed too). */
async function withAbort(store: ObjectStore, h: ParallelUploadHandle, err: unknown): Promise<unknown> {
  try {
    await abortParallelUpload(store, h);
    return err;
  } catch (abortErr) {
    return new SmelterError(`${(err as Error)?.message ?? String(err)}; cleaning up also failed: ${(abortErr as Error).message}`, {
      type: (err as { type?: string })?.type ?? "ParallelUploadFailed",
      nonRetryable: true,
      cause: err,
    });
  }
}
