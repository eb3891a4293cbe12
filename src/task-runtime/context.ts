/**
 * What a worker function sees: its input, an AbortSignal, heartbeat, log, the attempt's ids and
 * counters (Temporal's activity Context; BullMQ's processor(job, token, signal)).
 */
import type { z } from "zod";
import type { Clock } from "../job/clock.js";

export interface TaskContext {
  /** Aborted when the attempt is cancelled, timed out, or lost a race to a duplicate. Stop promptly. */
  readonly signal: AbortSignal;
  /** `j7f3a-s01-t00042-a2` */
  readonly attemptId: string;
  readonly jobId: string;
  readonly stage: number;
  readonly task: number;
  readonly attempt: number;
  /** Epoch ms (the scheduler's clock) by which the attempt must be done (`attemptTimeout`); absent when there is no timeout. */
  readonly deadline?: number;
  /** The last `heartbeat(details)` of the task's previous attempt: where a retry may resume. */
  readonly resume?: unknown;
  /** Time and timers (the runtime context's clock): use it rather than the globals. */
  readonly clock: Clock;
  /** Tells the manager this attempt is alive (resets `heartbeatTimeout`). Throttled; cheap to call. */
  heartbeat(details?: unknown): void;
  /** Sends a log line to the manager (shown with `--verbose`, written with `--events`). */
  log(...args: unknown[]): void;
  /** Adds to a counter returned with the stats: bytesRead, bytesWritten, readRequests, writeRequests, or your own. */
  count(name: string, delta?: number): void;
}

export type WorkerFn<I = unknown, O = unknown> = (input: I, ctx: TaskContext) => Promise<O> | O;

export interface WorkerDefinition<I = unknown, O = unknown> {
  readonly name: string;
  readonly fn: WorkerFn<I, O>;
  /** Validates the input before the function runs (a failure is non-retryable). */
  readonly input?: z.ZodType<I>;
  /** Validates the output before it is returned. */
  readonly output?: z.ZodType<O>;
}
