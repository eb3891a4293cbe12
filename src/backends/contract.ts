/**
 * The backend contract: where attempts run. A backend needs one method, `launch`; the scheduler
 * does the rest (limits, retries, timeouts, speculation). The shape fits local backends (inline,
 * threads, processes) and remote ones (Lambda, Fargate, Kubernetes Jobs) alike:
 * - `launch` returns at once with a handle; the attempt may be pending for a while (a container
 *   being placed) and reports `onRunning` when the worker function starts;
 * - `result` always resolves (never rejects): failures are outcomes, as data;
 * - the result may come back through a pipe or through object storage; the backend hides which;
 * - `kill` may take seconds to confirm; it resolves only once the attempt is stopped.
 */
import { z } from "zod";
import { serializedErrorSchema, type SerializedError } from "../job/errors.js";
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
});
export type TaskEnvelope = z.infer<typeof taskEnvelopeSchema>;

/** Callbacks a backend calls while an attempt runs. All optional to call; cheap to call often. */
export interface AttemptListener {
  /** The attempt went from pending to running (the worker function started). */
  onRunning(): void;
  /** A log line: from `ctx.log`, or a line of the worker's stdout/stderr. */
  onLog(stream: "stdout" | "stderr" | "log", message: string): void;
  /** `ctx.heartbeat(details)` was called. */
  onHeartbeat(details?: unknown): void;
}

export const attemptOutcomeSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("succeeded"), output: z.unknown(), stats: attemptStatsSchema }),
  z.object({ status: z.literal("failed"), error: serializedErrorSchema, stats: attemptStatsSchema.optional() }),
]);

export type AttemptOutcome =
  | { status: "succeeded"; output: unknown; stats: AttemptStats }
  | { status: "failed"; error: SerializedError; stats?: AttemptStats };

export interface AttemptHandle {
  /**
   * The backend's own id for where it runs: `thread-3`, `pid-4242`, a Lambda request id, an ECS
   * task ARN. May be a placeholder until the attempt is running (read it again then).
   */
  readonly runtimeId: string;
  /** Resolves once with the outcome; never rejects. After `kill`, resolves with a `Cancelled` failure. */
  readonly result: Promise<AttemptOutcome>;
  /** Stops the attempt; resolves when it is confirmed stopped (may take seconds on remote backends). */
  kill(reason: string): Promise<void>;
}

export interface Backend {
  /** `inline`, `threads`, `processes`, `lambda`, ... */
  readonly name: string;
  /** Starts one attempt. Must not throw for task-level problems: report them through `result`. */
  launch(task: TaskEnvelope, listener: AttemptListener): AttemptHandle;
  /** Attempts this backend can run at once (worker count); the scheduler never launches more. @default unlimited */
  readonly maxConcurrency?: number;
  /** Releases workers, connections and servers. Idempotent. */
  close?(): Promise<void>;
}
