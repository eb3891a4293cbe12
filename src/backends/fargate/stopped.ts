/**
 * What a STOPPED ECS task means for its attempt when no reply says otherwise, and how the ECS API's
 * own errors map to Smelter's kinds. Pure functions of the task's description (stopCode,
 * stoppedReason, the container's exit code and reason), so each rule is testable alone.
 */
import type { Container, Task } from "@aws-sdk/client-ecs";
import type { AttemptCapacity } from "../../job/attempt.js";
import { ConfigError, OutOfMemoryError, SmelterError, TaskCrashedError, TaskPreemptedError } from "../../job/errors.js";

/** The container that ran the attempt: the one named in the settings, else the first. */
export function attemptContainer(task: Task, name: string): Container | undefined {
  return task.containers?.find((c) => c.name === name) ?? task.containers?.[0];
}

/** What the task runs on, as the cost estimate prices it: its size (`cpu` in 1/1024 vCPU, `memory` in MiB; when ECS gives them) and whether on Spot. */
export function taskCapacity(task: Task, spot: boolean): AttemptCapacity {
  const vcpu = Number(task.cpu) / 1024;
  const memoryGb = Number(task.memory) / 1024;
  return { ...(vcpu > 0 ? { vcpu } : {}), ...(memoryGb > 0 ? { memoryGb } : {}), spot };
}

/** True when Fargate Spot took the task's capacity back. */
export function wasPreempted(task: Task): boolean {
  return task.stopCode === "SpotInterruption";
}

/**
 * The failure a stopped task stands for when its reply is missing (or the reply is a success but
 * the container says it was killed): preempted, out of memory, failed to start, or crashed with
 * its exit code. `undefined`: it exited 0 and nothing is known to be wrong.
 */
export function stoppedFailure(task: Task, container: string, what: string): SmelterError | undefined {
  const c = attemptContainer(task, container);
  const code = c?.exitCode;
  const reasons = [task.stoppedReason, c?.reason].filter((r): r is string => Boolean(r));
  const why = reasons.length ? ` (${reasons.join("; ")})` : "";
  const details = { taskArn: task.taskArn, stopCode: task.stopCode, exitCode: code, capacityProvider: task.capacityProviderName };
  if (wasPreempted(task)) return new TaskPreemptedError(`${what} was interrupted by Fargate Spot${why}: it is run again`, { details });
  if (/OutOfMemoryError/i.test(c?.reason ?? "") || code === 137) {
    return new OutOfMemoryError(`${what} ran out of memory: the container was killed with exit code ${code ?? "unknown"}${why}; give the task definition more memory or make tasks smaller`, { details });
  }
  if (task.stopCode === "TaskFailedToStart" || (code === undefined && !task.startedAt)) {
    return new SmelterError(`${what} failed to start${why}: check the task definition's image, its execution role and the subnets' route to the registry`, { type: "TaskFailedToStart", details });
  }
  if (code !== undefined && code !== 0) return new TaskCrashedError(`${what} exited with code ${code}${why}`, { details });
  if (code === undefined) return new TaskCrashedError(`${what} stopped without an exit code${why}`, { details });
  return undefined;
}

type AwsError = Error & { name: string; $fault?: string; code?: string; $metadata?: { httpStatusCode?: number } };

/** ECS refused a call for its rate (ThrottlingException, 429, or "Rate exceeded"). */
export function isThrottle(err: unknown): boolean {
  const e = err as AwsError;
  return e?.name === "ThrottlingException" || e?.name === "TooManyRequestsException" || e?.$metadata?.httpStatusCode === 429 || /rate exceeded/i.test(e?.message ?? "");
}

/** A RunTask `failures[].reason` that means "no room now, try later" (not a configuration problem). */
export function isCapacityFailure(reason: string): boolean {
  return /capacity is unavailable|insufficient|RESOURCE:|no container instances|AGENT|ResourceInitializationError: .*capacity/i.test(reason);
}

/** An ECS call that failed before any task ran: configuration (not retried) or the network / service (retried). */
export function ecsCallError(err: unknown, where: string, call: string): SmelterError {
  const e = err as AwsError;
  if (["ClusterNotFoundException"].includes(e.name)) return new ConfigError(`${where}: the cluster does not exist (${e.message}): create it or fix the cluster name and region`, { cause: err });
  if (["AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "CredentialsProviderError"].includes(e.name)) {
    return new ConfigError(`${where} refused the credentials (${e.name}: ${e.message}): the manager's AWS credentials need ecs:${call} (see the manager policy in docs/backends/fargate.md)`, { cause: err });
  }
  if (e.name === "InvalidParameterException" || e.name === "ClientException") return new ConfigError(`${where} refused ${call} (${e.name}: ${e.message}): check the task definition, container name, subnets and security groups`, { cause: err });
  if (e.$metadata?.httpStatusCode === undefined && (e.code !== undefined || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket/i.test(e.message))) {
    return new SmelterError(`could not reach ${where} (${e.code ?? e.name}: ${e.message}): check the endpoint and region, and that the network allows it`, { cause: err, type: "EcsUnreachable" });
  }
  const nonRetryable = e.$fault === "client" && e.$metadata?.httpStatusCode !== 429;
  return new SmelterError(`${call} on ${where} failed (${e.name}: ${e.message})`, { cause: err, type: e.name || "EcsError", nonRetryable });
}
