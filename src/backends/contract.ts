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
import type { AttemptListener, AttemptOutcome, TaskEnvelope } from "../job/attempt.js";

// What an attempt carries and returns is data of the job layer (src/job/attempt.ts), shared with
// the task runtime; re-exported here so a backend needs one import.
export { attemptOutcomeSchema, taskEnvelopeSchema, type AttemptListener, type AttemptOutcome, type TaskEnvelope } from "../job/attempt.js";

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
