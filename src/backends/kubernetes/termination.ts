/**
 * What a pod's end says when the container left no reply: the container's termination (exit
 * code, reason) and the Job's conditions mapped to Smelter's failure kinds.
 * - `OOMKilled` -> OutOfMemory, not retried by default: the next attempt gets the same memory
 *   limit, so it would most likely be killed again (raise `memory`, or set `retryOutOfMemory`);
 * - the Job's or pod's `DeadlineExceeded` -> TaskTimeout (retryable, as every backend's timeout);
 * - any other non-zero exit -> TaskCrashed with the code, the reason and the log's last lines;
 * - exit 0 without a reply -> the reply's own error (ReplyMissing: retryable).
 */
import type { V1ContainerStateTerminated, V1Job, V1Pod } from "@kubernetes/client-node";
import { OutOfMemoryError, SmelterError, TaskCrashedError, TaskTimeoutError } from "../../job/errors.js";

export interface TerminationInput {
  what: string;
  pod?: V1Pod;
  job?: V1Job;
  /** The error reading the reply gave (ReplyMissing, ReplyInvalid...). */
  replyError: unknown;
  /** The pod log's last lines, or why it could not be read. */
  logTail: string;
  memory: string;
  retryOutOfMemory: boolean;
}

/** The container's terminated state, when the pod has one. */
export function terminatedState(pod: V1Pod | undefined): V1ContainerStateTerminated | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.terminated ?? pod?.status?.containerStatuses?.[0]?.lastState?.terminated;
}

/** The Job's Failed (or FailureTarget) condition's reason. */
export function jobFailure(job: V1Job | undefined): { reason: string; message: string } | undefined {
  const c = job?.status?.conditions?.find((x) => (x.type === "Failed" || x.type === "FailureTarget") && x.status === "True");
  return c ? { reason: c.reason ?? "", message: c.message ?? "" } : undefined;
}

export function terminationError(i: TerminationInput): SmelterError {
  const t = terminatedState(i.pod);
  const jobFailed = jobFailure(i.job);
  const details = { exitCode: t?.exitCode, reason: t?.reason ?? i.pod?.status?.reason, jobCondition: jobFailed?.reason, pod: i.pod?.metadata?.name };
  if (t?.reason === "OOMKilled") {
    return new OutOfMemoryError(`[smelter] ${i.what} was OOMKilled: it used more than its ${i.memory} memory limit (exit code ${t.exitCode}): raise the memory setting (--kube-memory) or make tasks smaller${i.retryOutOfMemory ? "" : "; not retried, as the next attempt would get the same limit"}${i.logTail}`, { details, nonRetryable: !i.retryOutOfMemory });
  }
  if (jobFailed?.reason === "DeadlineExceeded" || i.pod?.status?.reason === "DeadlineExceeded") {
    return new TaskTimeoutError(`[smelter] ${i.what} reached its deadline (the Job's activeDeadlineSeconds, set from the attempt timeout): ${jobFailed?.message || i.pod?.status?.message || "DeadlineExceeded"}`);
  }
  if (t && t.exitCode !== 0) {
    const signal = t.exitCode > 128 ? ` (signal ${t.exitCode - 128})` : "";
    return new TaskCrashedError(`[smelter] ${i.what}: the container exited with code ${t.exitCode}${signal}, reason ${t.reason ?? "unknown"}${t.message ? ` (${t.message})` : ""}${i.logTail}`, { details });
  }
  if (!t && jobFailed) {
    return new SmelterError(`[smelter] ${i.what}: the Job failed (${jobFailed.reason}: ${jobFailed.message}) before its container ended${i.logTail}`, { type: "TaskCrashed", details });
  }
  const cause = i.replyError as Error | undefined;
  return new SmelterError(`${cause?.message ?? `[smelter] ${i.what} ended without a reply`}${i.logTail}`, { cause, type: (cause as SmelterError | undefined)?.type ?? "ReplyMissing", details });
}
