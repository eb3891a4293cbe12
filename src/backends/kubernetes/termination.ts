/**
 * What only Kubernetes knows about how a pod ended, mapped to Smelter's failure kinds before the
 * shared exit-code/reply mapping (src/backends/remote/outcome.ts) takes the rest:
 * - `OOMKilled` -> OutOfMemory, not retried by default: the next attempt gets the same memory
 *   limit, so it would most likely be killed again (raise `memory`, or set `retryOutOfMemory`);
 * - the Job's or pod's `DeadlineExceeded` -> TaskTimeout (retryable, as every backend's timeout),
 *   and so a container stopped by a signal (exit 137/143) after the attempt's deadline, seen before
 *   the Job's condition says why;
 * - a Job that failed before its container ended (its pod deleted, evicted) -> TaskCrashed.
 */
import type { V1ContainerStateTerminated, V1Job, V1Pod } from "@kubernetes/client-node";
import { OutOfMemoryError, SmelterError, TaskCrashedError, TaskTimeoutError } from "../../job/errors.js";

export interface TerminationInput {
  what: string;
  pod?: V1Pod;
  job?: V1Job;
  memory: string;
  retryOutOfMemory: boolean;
  /** The attempt's deadline had passed when the end was seen. */
  pastDeadline?: boolean;
}

/** Exit codes of a container stopped by a signal: SIGTERM (143) and SIGKILL (137). */
const SIGNALLED = new Set([137, 143]);

/** The container's terminated state, when the pod has one. */
export function terminatedState(pod: V1Pod | undefined): V1ContainerStateTerminated | undefined {
  return pod?.status?.containerStatuses?.[0]?.state?.terminated ?? pod?.status?.containerStatuses?.[0]?.lastState?.terminated;
}

/** The Job's Failed (or FailureTarget) condition's reason. */
export function jobFailure(job: V1Job | undefined): { reason: string; message: string } | undefined {
  const c = job?.status?.conditions?.find((x) => (x.type === "Failed" || x.type === "FailureTarget") && x.status === "True");
  return c ? { reason: c.reason ?? "", message: c.message ?? "" } : undefined;
}

/** The failure only Kubernetes can name, or undefined: then the exit code and the reply say it. */
export function kubernetesTermination(i: TerminationInput): SmelterError | undefined {
  const t = terminatedState(i.pod);
  const jobFailed = jobFailure(i.job);
  const details = { exitCode: t?.exitCode, reason: t?.reason ?? i.pod?.status?.reason, jobCondition: jobFailed?.reason, pod: i.pod?.metadata?.name };
  if (t?.reason === "OOMKilled") {
    return new OutOfMemoryError(`[smelter] ${i.what} was OOMKilled: it used more than its ${i.memory} memory limit (exit code ${t.exitCode}): raise the memory setting (--kube-memory) or make tasks smaller${i.retryOutOfMemory ? "" : "; not retried, as the next attempt would get the same limit"}`, { details, nonRetryable: !i.retryOutOfMemory });
  }
  if (jobFailed?.reason === "DeadlineExceeded" || i.pod?.status?.reason === "DeadlineExceeded") {
    return new TaskTimeoutError(`[smelter] ${i.what} reached its deadline (the Job's activeDeadlineSeconds, set from the attempt timeout): ${jobFailed?.message || i.pod?.status?.message || "DeadlineExceeded"}`);
  }
  // The Job controller stops the pod at activeDeadlineSeconds; its pod can be seen Failed (exit 143)
  // before the Job's DeadlineExceeded condition is: past the attempt's deadline, that is the deadline.
  if (t && i.pastDeadline && !jobFailed && SIGNALLED.has(t.exitCode)) {
    return new TaskTimeoutError(`[smelter] ${i.what} reached its deadline (the Job's activeDeadlineSeconds, set from the attempt timeout): its container was stopped with exit code ${t.exitCode} after the deadline`);
  }
  if (!t && jobFailed) return new TaskCrashedError(`[smelter] ${i.what}: the Job failed (${jobFailed.reason}: ${jobFailed.message}) before its container ended`, { details });
  return undefined;
}
