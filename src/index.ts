/**
 * Smelter's public API. The core (jobs, scheduler, worker runtime, local backends) loads no
 * cloud SDK and no DuckDB; stores and remote backends have their own modules.
 */
export { Manager, type ManagerOptions } from "./scheduler/manager.js";
export { Job, type JobOptions, type StageOptions } from "./scheduler/job.js";
export { Stage } from "./scheduler/stage.js";
export type { TaskResult } from "./scheduler/types.js";
export { VirtualClock, systemClock, type Clock } from "./scheduler/clock.js";
export { createRuntimeContext, systemContext, type RuntimeContext, type RuntimeContextOptions, type IdSource } from "./job/runtime-context.js";

export { defineWorker, getWorker, workerNames } from "./task-runtime/registry.js";
export type { TaskContext, WorkerFn, WorkerDefinition } from "./task-runtime/context.js";
export { runMain, isWorkerProcess } from "./task-runtime/main.js";
export { closeAtWorkerEnd, type WarmResourceCloser } from "./job/warm-resources.js";

export { createBackend, inlineBackend, threadsBackend, processesBackend, LOCAL_BACKENDS } from "./backends/index.js";
export type { Backend, BackendHost, AttemptHandle, AttemptListener, AttemptOutcome, KillOutcome, ResultStore, RunningInfo, TaskEnvelope } from "./backends/contract.js";

export * from "./job/errors.js";
export { EventBus, type SmelterEvent, type SmelterEventType, type StageCounts, type LaunchCause, type SpeculationRule } from "./job/events.js";
export { parseDuration, resolveStagePolicy, retryDelay, type RetryPolicy, type SpeculationPolicy, type TimeoutPolicy, type StagePolicy, type StagePolicyInput } from "./job/policy.js";
export { attemptId, taskId, stageId, parseAttemptId, type AttemptIds } from "./job/ids.js";
export type { AttemptStats } from "./job/stats.js";
export { EVENTS_VERSION, parseEvents, smelterEventSchema } from "./job/event-schema.js";
export { JobStats, formatStageTotals, type StageTotals } from "./report/job-stats.js";
export { AttemptLog, type AttemptRow } from "./report/attempts.js";
export { readEventsFile, writeEventsFile } from "./report/events-file.js";
