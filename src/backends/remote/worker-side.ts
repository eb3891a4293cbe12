/**
 * The far side's common part, shared by Smelter's Lambda handler (src/lambda.ts) and the
 * container entry (src/remote-task.ts): load the user's worker module once, run one attempt
 * through the task runtime (`runTask`) until a deadline, and collect what the reply carries.
 */
import { isAbsolute, join } from "node:path";
import type { AttemptListener, AttemptOutcome, TaskEnvelope } from "../../job/attempt.js";
import { ConfigError, serializeError, TaskTimeoutError } from "../../job/errors.js";
import { systemContext, type RuntimeContext } from "../../job/runtime-context.js";
import { runTask, type RunTaskOptions } from "../../task-runtime/runtime.js";
import { resolveEntry } from "../local-pool.js";
import { MAX_REPLY_HEARTBEATS, MAX_REPLY_LOG_BYTES, type LogLine } from "./reply.js";

/** The environment variable naming the user's worker module (the file that calls `defineWorker`). */
export const WORKER_MODULE_ENV = "SMELTER_WORKER_MODULE";

let workersLoaded: Promise<void> | undefined;

/**
 * Imports the module named by SMELTER_WORKER_MODULE once per process: a path (relative to `root`
 * when given, e.g. Lambda's LAMBDA_TASK_ROOT, else to the working directory) or a URL.
 * Throws ConfigError naming the variable and the module.
 */
export function loadWorkerModule(where: string, root?: string): Promise<void> {
  workersLoaded ??= (async () => {
    const name = process.env[WORKER_MODULE_ENV];
    if (!name) throw new ConfigError(`${WORKER_MODULE_ENV} is not set: set it in the ${where}'s environment to your worker module (the file that calls defineWorker)${root ? ", relative to the function's root" : ""}`);
    const url = resolveEntry(root && !isAbsolute(name) && !/^[a-z][a-z0-9+.-]+:/i.test(name) ? join(root, name) : name, where);
    try {
      await import(url);
    } catch (err) {
      throw new ConfigError(`could not import the worker module ${url} (${WORKER_MODULE_ENV}): ${(err as Error).message}`, { cause: err });
    }
  })();
  workersLoaded.catch(() => (workersLoaded = undefined));
  return workersLoaded;
}

/** What a reply carries besides the outcome: log lines and heartbeats not delivered live (capped). */
export class ReplyLog {
  readonly logs: LogLine[] = [];
  logsDropped = 0;
  readonly heartbeats: unknown[] = [];
  #bytes = 0;

  addLog(line: LogLine): void {
    this.#bytes += Buffer.byteLength(line.message);
    if (this.#bytes <= MAX_REPLY_LOG_BYTES) this.logs.push(line);
    else this.logsDropped++;
  }

  heartbeat(details: unknown): void {
    this.heartbeats.push(details ?? null);
    if (this.heartbeats.length > MAX_REPLY_HEARTBEATS) this.heartbeats.shift();
  }

  /** The reply's report fields. */
  fields(): { logs: LogLine[]; logsDropped: number; heartbeats: unknown[] } {
    return { logs: this.logs, logsDropped: this.logsDropped, heartbeats: this.heartbeats };
  }
}

/** How long before the deadline the attempt's signal is aborted (a tenth of the time left, 100 ms to 1 s), so it can end with stats and a reply. */
export function deadlineMargin(remainingMs: number): number {
  return Math.min(1000, Math.max(100, remainingMs / 10));
}

export interface RemoteAttemptOptions {
  /** Epoch ms (this machine's clock) by which the reply must be written; the attempt is aborted a margin before. @default none */
  deadline?: number;
  /** What the deadline is, for the TaskTimeout message: `the Lambda function's timeout (request ...)`, `the attempt's deadline`. */
  deadlineName: string;
  /** How to raise it, for the message. */
  deadlineHint: string;
  /** The attempt's log and heartbeat callbacks (a channel to the manager, a reply log). */
  listener: Pick<AttemptListener, "onLog" | "onHeartbeat">;
  /** Aborts the attempt from outside (SIGTERM). */
  signal?: AbortSignal;
  context?: RuntimeContext;
  run?: Pick<RunTaskOptions, "maxInlineOutputBytes" | "writeResult">;
}

/**
 * Runs one attempt with `runTask`, aborting it a margin before `deadline`; an attempt that ends
 * Cancelled because of the deadline becomes a retryable TaskTimeout with its stats. Never throws.
 */
export async function runRemoteAttempt(envelope: TaskEnvelope, o: RemoteAttemptOptions): Promise<AttemptOutcome> {
  const context = o.context ?? systemContext();
  const clock = context.clock;
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(o.signal?.reason);
  o.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (o.signal?.aborted) onOuterAbort();
  let timedOut = false;
  const remaining = o.deadline === undefined ? undefined : o.deadline - clock.now();
  const timer =
    remaining === undefined
      ? undefined
      : clock.setTimeout(() => {
          timedOut = true;
          controller.abort(new Error(`${o.deadlineName} is ${Math.round(deadlineMargin(remaining))} ms away`));
        }, Math.max(0, remaining - deadlineMargin(remaining)));
  let outcome: AttemptOutcome;
  try {
    outcome = await runTask(envelope, { onRunning: () => {}, onLog: o.listener.onLog, onHeartbeat: o.listener.onHeartbeat }, controller.signal, { context, ...o.run });
  } finally {
    clock.clearTimeout(timer);
    o.signal?.removeEventListener("abort", onOuterAbort);
  }
  if (timedOut && outcome.status === "failed" && outcome.error.type === "Cancelled") {
    // Not a cancel by the manager: the deadline came first. Retryable, with the attempt's stats.
    const error = new TaskTimeoutError(`attempt ${envelope.attemptId} (worker "${envelope.worker}") reached ${o.deadlineName}: ${o.deadlineHint}`);
    outcome = { ...outcome, error: serializeError(error) };
  }
  return outcome;
}
