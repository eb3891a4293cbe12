/**
 * Runs a whole parallel upload as one stage of tasks: begin, one task per partition (your worker
 * calls `uploadPartitionTask` / `uploadPartition`, or use the built-in `smelter.upload-partition`),
 * then complete; on any failure or cancel (a task failing for good, `job.cancel()`, Ctrl-C, the
 * `signal`), wait until every attempt is stopped, then abort the upload and delete the staging.
 */
import { SmelterError } from "../job/errors.js";
import type { StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import { Manager } from "../scheduler/manager.js";
import type { ObjectStore } from "../storage/contract.js";
import { abortParallelUpload, beginParallelUpload, completeParallelUpload, type ParallelUploadSummary } from "./parallel-upload.js";
import type { PartitionTaskInput } from "./upload-partition.js";
import type { ParallelUploadHandle, PartitionResult } from "./upload-protocol.js";

export interface ParallelUploadJobOptions {
  /** The stage's policy (retries, speculation, timeouts). */
  policy?: StagePolicyInput;
  /** The stage's name. @default `upload <key>` */
  name?: string;
  stagingPrefix?: string;
  /** See beginParallelUpload. @default 5 MiB */
  partSize?: number;
  contentType?: string;
  /** Aborting it cancels the job and aborts the upload. */
  signal?: AbortSignal;
  /** Called once the upload exists (before any task runs). */
  onBegin?: (handle: ParallelUploadHandle) => void;
}

export interface ParallelUploadJobResult extends ParallelUploadSummary {
  jobId: string;
  /** Attempts launched, retries and speculative duplicates included. */
  attempts: number;
  /** Time from the first task pushed to the last attempt stopped. */
  tasksMs: number;
  /** Bytes and requests the winning attempts wrote (parts and staged objects). */
  taskBytesWritten: number;
  taskWriteRequests: number;
}

/**
 * Uploads one object from `sources.length` partitions: task i gets `{ storeUrl: store.url,
 * handle, partition: i, source: sources[i] }` and must return `uploadPartition`'s result. Given
 * a Manager, runs its own job; given a Job, adds a stage to it.
 */
export async function parallelUploadJob<S>(
  target: Manager | Job,
  store: ObjectStore,
  key: string,
  sources: readonly S[],
  worker: string | { name: string },
  options: ParallelUploadJobOptions = {},
): Promise<ParallelUploadJobResult> {
  options.signal?.throwIfAborted();
  const handle = await beginParallelUpload(store, key, {
    partitions: sources.length,
    stagingPrefix: options.stagingPrefix,
    partSize: options.partSize,
    contentType: options.contentType,
    signal: options.signal,
  });
  options.onBegin?.(handle);
  const ownJob = target instanceof Manager;
  const job = target instanceof Manager ? target.job({ name: `upload ${key}`, policy: options.policy }) : target;
  const onAbort = (): void => void job.cancel(`the upload of "${key}" was cancelled`);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const clock = job.context.clock;
  const started = clock.now();
  let outputs: PartitionResult[];
  let attempts = 0;
  let taskBytesWritten = 0;
  let taskWriteRequests = 0;
  try {
    const stage = job.stage<PartitionTaskInput<S>, PartitionResult>({ worker, name: options.name ?? `upload ${key}`, ...(ownJob ? {} : { policy: options.policy }) });
    void stage.pushAll(sources.map((source, partition) => ({ storeUrl: store.url, handle, partition, source })));
    if (options.signal?.aborted) onAbort();
    const results = await stage.collect();
    // Losing duplicates are still being killed: wait until none can write any more.
    await stage.whenSettled();
    if (ownJob) await job.wait();
    outputs = results.map((r) => r.output);
    for (const r of results) {
      attempts += r.attempts;
      taskBytesWritten += r.stats.counters.bytesWritten ?? 0;
      taskWriteRequests += r.stats.counters.writeRequests ?? 0;
    }
  } catch (err) {
    // A failed or cancelled job is stopping: wait until every attempt is confirmed stopped
    // (bounded by cancelTimeout). A job still running failed before any task (the stage could not be created).
    if (job.state !== "running") await job.wait().catch(() => undefined);
    else if (ownJob) await job.cancel(`the upload of "${key}" failed: ${(err as Error).message}`);
    try {
      await abortParallelUpload(store, handle);
    } catch (abortErr) {
      throw new SmelterError(`${(err as Error).message}; aborting the upload also failed: ${(abortErr as Error).message}`, { type: (err as { type?: string }).type ?? "ParallelUploadFailed", nonRetryable: true, cause: err });
    }
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  const tasksMs = clock.now() - started;
  const summary = await completeParallelUpload(store, handle, outputs, { signal: options.signal });
  return { ...summary, jobId: job.id, attempts, tasksMs, taskBytesWritten, taskWriteRequests };
}
