/** The scheduler's records of tasks and attempts, and what stages hand back. */
import type { AttemptHandle } from "../backends/contract.js";
import type { SerializedError } from "../job/errors.js";
import type { LaunchCause, SpeculationRule } from "../job/events.js";
import type { AttemptStats } from "../job/stats.js";
import type { TimerHandle } from "./clock.js";

export type TaskStatus = "queued" | "waiting-retry" | "active" | "succeeded" | "failed" | "cancelled";

export interface AttemptState {
  n: number;
  id: string;
  cause: LaunchCause;
  rule?: SpeculationRule;
  handle?: AttemptHandle;
  launchedAt: number;
  runningAt?: number;
  /** Last heartbeat, log or state change: what `heartbeatTimeout` measures from. */
  lastSignAt: number;
  /** Live until its outcome is handled (or it was given up by a timeout). */
  live: boolean;
  /** Holds a concurrency slot until the backend says it stopped. */
  holdsSlot: boolean;
  /** Why we killed it, when we did. */
  killReason?: string;
  /** The worker's stats, once its outcome arrived. */
  stats?: AttemptStats;
  /** Abandoned: its kill could not be confirmed; whatever it reports later is ignored. */
  abandoned?: boolean;
  timers: TimerHandle[];
}

export interface TaskState {
  index: number;
  id: string;
  input: unknown;
  status: TaskStatus;
  attempts: AttemptState[];
  /** Initial and retry attempts launched: what `maxAttempts` counts. */
  budgetUsed: number;
  /** Speculative duplicates launched. */
  duplicates: number;
  errors: { attemptId: string; error: SerializedError }[];
  retryTimer?: TimerHandle;
  /** A speculative duplicate waits in the launch queue. */
  speculationQueued?: boolean;
  /** No-capacity refusals in a row (reset when an attempt runs). */
  refusals: number;
  /** Attempts preempted (`TaskPreempted`: Spot capacity taken back); each is retried without spending the budget, up to `capacity.maxRelaunches`. */
  preemptions?: number;
  /** The last heartbeat details of any attempt: handed to the next attempt as its resume point. */
  lastHeartbeat?: { attemptId: string; details: unknown };
}

/** One finished task, as `stage.results()` yields it (completion order). */
export interface TaskResult<O = unknown, I = unknown> {
  /** `j7f3a-s01-t00042` */
  taskId: string;
  /** 0-based index of the task in its stage (push order). */
  index: number;
  /** The winning attempt, `j7f3a-s01-t00042-a2`. */
  attemptId: string;
  input: I;
  output: O;
  stats: AttemptStats;
  /** Attempts launched for this task, duplicates included. */
  attempts: number;
}

export function liveAttempts(task: TaskState): AttemptState[] {
  return task.attempts.filter((a) => a.live);
}
