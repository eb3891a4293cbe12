/**
 * The backend contract: where attempts run. A backend needs one method, `launch`; the scheduler
 * does the rest (limits, retries, timeouts, speculation, capacity backoff). The shape fits local
 * backends (inline, threads, processes) and remote ones (Lambda, Fargate, Kubernetes Jobs) alike:
 * - `launch` returns at once with a handle; the attempt may be pending for a while (a container
 *   being placed) and reports `onRunning({ runtimeId, cold })` when the worker function starts;
 * - `result` always resolves (never rejects): failures are outcomes, as data, and every outcome
 *   carries stats (a killed attempt's too, with what the backend knows);
 * - a launch the backend has no room for ends as `{ status: "no-capacity" }` (Lambda 429, an ECS
 *   capacity error, an unschedulable pod): the scheduler relaunches it later without using the
 *   task's retry budget; a throttled backend may also lower `maxConcurrency` (a getter) and call
 *   `host.capacityChanged()` when it changes;
 * - the output comes back through the channel (a pipe), or, when large or when the channel is no
 *   pipe, is written by the attempt to `envelope.resultUrl` (attempt-scoped, in the job's work
 *   store) and the outcome carries `outputUrl` instead; the scheduler reads it only for the
 *   attempt that wins, so a late or abandoned attempt's output is never taken;
 * - `kill` may take seconds to confirm; it resolves `"stopped"` once the attempt is stopped, or
 *   `"abandoned"` when the backend cannot stop it (a Lambda invocation runs to its end): the
 *   scheduler frees its slot and ignores whatever it reports later.
 */
import type { RuntimeContext } from "../job/runtime-context.js";
import type { AttemptListener, AttemptOutcome, TaskEnvelope } from "../job/attempt.js";

// What an attempt carries and returns is data of the job layer (src/job/attempt.ts), shared with
// the task runtime; re-exported here so a backend needs one import.
export { attemptOutcomeSchema, taskEnvelopeSchema, type AttemptListener, type AttemptOutcome, type RunningInfo, type TaskEnvelope } from "../job/attempt.js";

/** How a kill ended: the attempt is stopped, or it cannot be stopped and was left to run. */
export type KillOutcome = "stopped" | "abandoned";

export interface AttemptHandle {
  /** The backend's id at launch (may be a placeholder: the final one comes with `onRunning`). Never changes. */
  readonly runtimeId: string;
  /** Resolves once with the outcome; never rejects. After `kill`, resolves with a `Cancelled` failure. */
  readonly result: Promise<AttemptOutcome>;
  /** Stops the attempt; resolves when it is confirmed stopped, or `"abandoned"` when it cannot be. */
  kill(reason: string): Promise<KillOutcome>;
}

/**
 * The job's work store as the manager sees it for results: attempts whose output is too large
 * for their channel write it under `url` (the envelope's `resultUrl`), and the manager reads the
 * winner's back. The caller adapts an object store to this (the scheduler imports no store).
 */
export interface ResultStore {
  /** URL prefix ending in `/`: an attempt's output goes to `<url><jobId>/results/<attemptId>.json`. */
  readonly url: string;
  /** Reads back what an attempt wrote at `url` (JSON text). */
  read(url: string): Promise<string>;
}

/** What the manager gives a backend when it starts using it. */
export interface BackendHost {
  /** Clock, timers, random and ids: a backend reads time only from here. */
  readonly context: RuntimeContext;
  /** Tells the manager that `maxConcurrency` changed (a throttled backend lowering or raising it). */
  capacityChanged(): void;
}

export interface Backend {
  /** `inline`, `threads`, `processes`, `lambda`, ... */
  readonly name: string;
  /** Starts one attempt. Must not throw for task-level problems: report them through `result`. */
  launch(task: TaskEnvelope, listener: AttemptListener): AttemptHandle;
  /** Attempts this backend can run at once now (worker count; lowered while throttled); the scheduler never launches more. @default unlimited */
  readonly maxConcurrency?: number;
  /** Called once by the manager before the first launch: the runtime context and a way to report capacity changes. */
  attach?(host: BackendHost): void;
  /**
   * Starts the workers ahead of the first launch, so that their start (a process, a runtime, a
   * DuckDB) overlaps the caller's own work: loading, listing, planning. They keep the process
   * alive until `close()` stops them, as launched ones do. Optional: launch() starts workers anyway.
   */
  prestart?(): void;
  /** Releases workers, connections and servers. Idempotent. */
  close?(): Promise<void>;
}
