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
import { z } from "zod";
import { serializedErrorSchema, type SerializedError } from "../job/errors.js";
import type { RuntimeContext } from "../job/runtime-context.js";
import { attemptStatsSchema, type AttemptStats } from "../job/stats.js";

/** What an attempt needs to run: small JSON, validated at every boundary. */
export const taskEnvelopeSchema = z.object({
  /** `j7f3a-s01-t00042-a2` */
  attemptId: z.string().min(1),
  jobId: z.string().min(1),
  stage: z.number().int().min(1),
  task: z.number().int().min(0),
  attempt: z.number().int().min(1),
  /** The registered worker function to run. */
  worker: z.string().min(1),
  /** The task's input (JSON). */
  input: z.unknown(),
  /** Epoch ms on the scheduler's clock after which the attempt is killed (launch + attemptTimeout): a remote worker stops on its own by then. */
  deadline: z.number().optional(),
  /** Largest output the attempt may return, in bytes of JSON; beyond it the attempt fails with `OutputTooLarge` naming the limit. */
  maxOutputBytes: z.number().int().min(1).optional(),
  /** Where this attempt writes its output when it is too large for the channel (an object URL in the job's work store, unique to the attempt). */
  resultUrl: z.string().min(1).optional(),
  /** The last heartbeat details of the task's previous attempt (a resume point, as Temporal's `heartbeatDetails`). */
  resume: z.object({ attemptId: z.string(), details: z.unknown() }).optional(),
});
export type TaskEnvelope = z.infer<typeof taskEnvelopeSchema>;

/** What `onRunning` says: where the attempt finally runs, and whether it paid a cold start. */
export interface RunningInfo {
  /** The backend's final id: `thread-3`, `pid-4242`, a Lambda request id, an ECS task ARN. */
  runtimeId: string;
  /** True when a worker (thread, process, container, function instance) was started for it. */
  cold: boolean;
}

/** Callbacks a backend calls while an attempt runs. All optional to call; cheap to call often. */
export interface AttemptListener {
  /** The attempt went from pending to running (the worker function started). */
  onRunning(info: RunningInfo): void;
  /** A log line: from `ctx.log`, or a line of the worker's stdout/stderr. */
  onLog(stream: "stdout" | "stderr" | "log", message: string): void;
  /** `ctx.heartbeat(details)` was called. */
  onHeartbeat(details?: unknown): void;
}

export const attemptOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("succeeded"), output: z.unknown(), outputUrl: z.string().optional(), stats: attemptStatsSchema }),
  z.object({ status: z.literal("failed"), error: serializedErrorSchema, stats: attemptStatsSchema }),
  z.object({ status: z.literal("no-capacity"), reason: z.string(), retryAfterMs: z.number().min(0).optional(), stats: attemptStatsSchema.optional() }),
]);

export type AttemptOutcome =
  /** `outputUrl` set: the output was written there (`output` is then undefined). */
  | { status: "succeeded"; output: unknown; outputUrl?: string; stats: AttemptStats }
  | { status: "failed"; error: SerializedError; stats: AttemptStats }
  /** The backend had no room: nothing ran. `retryAfterMs` is the backend's hint. */
  | { status: "no-capacity"; reason: string; retryAfterMs?: number; stats?: AttemptStats };

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
  /** Releases workers, connections and servers. Idempotent. */
  close?(): Promise<void>;
}
