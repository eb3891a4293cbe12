/**
 * Errors. Every failure kind has its own class with a `type`, and errors cross thread,
 * process and network boundaries as plain data ({@link SerializedError}), never by
 * `instanceof` alone. "Don't retry" lives on the error (`nonRetryable`).
 */
import { z } from "zod";

export const serializedErrorSchema: z.ZodType<SerializedError> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.string(),
    message: z.string(),
    nonRetryable: z.boolean(),
    stack: z.string().optional(),
    details: z.unknown().optional(),
    cause: serializedErrorSchema.optional(),
  }),
);

/** An error as data: what crosses boundaries. */
export interface SerializedError {
  /** The class name, e.g. `TypeError` or `TaskTimeoutError`. */
  name: string;
  /** The failure kind used by retry policies (`nonRetryableErrorTypes`), e.g. `TaskTimeout`. */
  type: string;
  message: string;
  /** True when retrying cannot help. */
  nonRetryable: boolean;
  stack?: string;
  details?: unknown;
  cause?: SerializedError;
}

export interface SmelterErrorOptions {
  type?: string;
  nonRetryable?: boolean;
  cause?: unknown;
  details?: unknown;
}

/** Base class of every error Smelter throws. Messages start with `[smelter]`. */
export class SmelterError extends Error {
  override name = "SmelterError";
  readonly type: string;
  readonly nonRetryable: boolean;
  readonly details?: unknown;
  constructor(message: string, options: SmelterErrorOptions = {}) {
    super(message.startsWith("[smelter]") ? message : `[smelter] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = options.type ?? "SmelterError";
    this.nonRetryable = options.nonRetryable ?? false;
    this.details = options.details;
  }
}

/** Throw this from a worker function when retrying cannot help (bad input, missing object). */
export class NonRetryableError extends SmelterError {
  override name = "NonRetryableError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "nonRetryable"> = {}) {
    super(message, { type: "NonRetryable", ...options, nonRetryable: true });
  }
}

/** Bad flags, options or configuration: the message says what to change. */
export class ConfigError extends SmelterError {
  override name = "ConfigError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "nonRetryable"> = {}) {
    super(message, { type: "ConfigError", ...options, nonRetryable: true });
  }
}

/** Data that failed validation at a boundary (task payload, result, stored object). */
export class ValidationError extends SmelterError {
  override name = "ValidationError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "nonRetryable"> = {}) {
    super(message, { type: "ValidationError", ...options, nonRetryable: true });
  }
}

/** An attempt ran longer than `attemptTimeout`. Retryable. */
export class TaskTimeoutError extends SmelterError {
  override name = "TaskTimeoutError";
  constructor(message: string) {
    super(message, { type: "TaskTimeout" });
  }
}

/** An attempt stayed pending longer than `startTimeout`. Retryable. */
export class StartTimeoutError extends SmelterError {
  override name = "StartTimeoutError";
  constructor(message: string) {
    super(message, { type: "StartTimeout" });
  }
}

/** No heartbeat or log arrived within `heartbeatTimeout`: the attempt is lost. Retryable. */
export class AttemptLostError extends SmelterError {
  override name = "AttemptLostError";
  constructor(message: string) {
    super(message, { type: "AttemptLost" });
  }
}

/** The worker crashed (exit code, signal). Retryable. */
export class TaskCrashedError extends SmelterError {
  override name = "TaskCrashedError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "TaskCrashed", ...options });
  }
}

/** The worker ran out of memory. Retryable (the next attempt may land on a bigger worker). */
export class OutOfMemoryError extends SmelterError {
  override name = "OutOfMemoryError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "OutOfMemory", ...options });
  }
}

/** The worker's capacity was taken back (Spot). Retryable. */
export class TaskPreemptedError extends SmelterError {
  override name = "TaskPreemptedError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "TaskPreempted", ...options });
  }
}

/** The backend had no capacity for the attempt (throttled, no container capacity, unschedulable). The scheduler relaunches it without using the retry budget; after too many refusals it becomes a retryable failure. */
export class NoCapacityError extends SmelterError {
  override name = "NoCapacityError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "NoCapacity", ...options });
  }
}

/** A task's output is larger than the attempt may return (`maxOutputBytes` in its envelope). Not retryable: the same input gives the same output. */
export class OutputTooLargeError extends SmelterError {
  override name = "OutputTooLargeError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "OutputTooLarge", nonRetryable: true, ...options });
  }
}

/** The attempt, stage or job was cancelled. */
export class CancelledError extends SmelterError {
  override name = "CancelledError";
  constructor(message: string, options: Omit<SmelterErrorOptions, "type"> = {}) {
    super(message, { type: "Cancelled", nonRetryable: true, ...options });
  }
}

/** A task failed for good; the job's `wait()` rejects with this. Names every attempt. */
export class TaskFailedError extends SmelterError {
  override name = "TaskFailedError";
  readonly taskId: string;
  readonly attempts: { attemptId: string; error: SerializedError }[];
  constructor(taskId: string, worker: string, attempts: { attemptId: string; error: SerializedError }[]) {
    const lines = attempts.map((a) => `  ${a.attemptId}: ${a.error.name}: ${a.error.message}`);
    const last = attempts[attempts.length - 1]?.error;
    const why = last?.nonRetryable ? "a non-retryable error" : `${attempts.length} attempt(s)`;
    super(`task ${taskId} (worker "${worker}") failed after ${why}:\n${lines.join("\n")}`, {
      type: "TaskFailed",
      nonRetryable: true,
      details: { taskId, attempts },
    });
    this.taskId = taskId;
    this.attempts = attempts;
  }
}

/** An error rebuilt from data that crossed a boundary. Keeps the original name and type. */
export class RemoteError extends SmelterError {
  constructor(data: SerializedError) {
    super(data.message, {
      type: data.type,
      nonRetryable: data.nonRetryable,
      details: data.details,
      cause: data.cause ? new RemoteError(data.cause) : undefined,
    });
    this.name = data.name;
    if (data.stack) this.stack = data.stack;
  }
}

/** Turns anything thrown into data. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof Error) {
    const e = err as Error & { type?: unknown; nonRetryable?: unknown; details?: unknown; code?: unknown };
    const out: SerializedError = {
      name: e.name || "Error",
      type: typeof e.type === "string" ? e.type : typeof e.code === "string" ? e.code : e.name || "Error",
      message: e.message,
      nonRetryable: e.nonRetryable === true,
    };
    if (e.stack) out.stack = e.stack;
    if (e.details !== undefined) out.details = safeJson(e.details);
    if (e.cause !== undefined && depth < 4) out.cause = serializeError(e.cause, depth + 1);
    return out;
  }
  if (typeof err === "object" && err !== null && "message" in err) {
    const o = err as Record<string, unknown>;
    return {
      name: typeof o.name === "string" ? o.name : "Error",
      type: typeof o.type === "string" ? o.type : "Error",
      message: String(o.message),
      nonRetryable: o.nonRetryable === true,
    };
  }
  return { name: "Error", type: "Error", message: String(err), nonRetryable: false };
}

/** Rebuilds a throwable error from data. */
export function deserializeError(data: SerializedError): Error {
  return new RemoteError(data);
}

function safeJson(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}
