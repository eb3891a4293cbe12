/**
 * What a STOPPED ECS task means for its attempt when no reply says otherwise, and how the ECS API's
 * own errors map to Smelter's kinds (on the shared AWS classification, src/job/aws-errors.ts). Pure functions of the task's description (stopCode,
 * stoppedReason, the container's exit code and reason), so each rule is testable alone.
 */
import type { Container, Task } from "@aws-sdk/client-ecs";
import type { AttemptCapacity } from "../../job/attempt.js";
import { awsCallError, awsErrorFacts } from "../../job/aws-errors.js";
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

/** A RunTask `failures[].reason` that means "no room now, try later" (not a configuration problem). */
export function isCapacityFailure(reason: string): boolean {
  return /capacity is unavailable|insufficient|RESOURCE:|no container instances|AGENT|ResourceInitializationError: .*capacity/i.test(reason);
}

/** An ECS call that failed before any task ran: configuration (not retried) or the network / service (retried). */
export function ecsCallError(err: unknown, where: string, call: string): SmelterError {
  const f = awsErrorFacts(err);
  if (f.name === "InvalidParameterException" || f.name === "ClientException") return new ConfigError(`${where} refused ${call} (${f.name}: ${f.message}): check the task definition, container name, subnets and security groups`, { cause: err });
  return awsCallError(err, {
    where,
    call,
    notFound: "create it or fix the cluster name and region",
    credentials: `the manager's AWS credentials need ecs:${call} (see the manager policy in docs/backends/fargate.md)`,
    unreachableType: "EcsUnreachable",
    errorType: "EcsError",
  });
}
