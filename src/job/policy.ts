/**
 * Scheduler policies as plain data, validated in one place ({@link resolveStagePolicy}).
 * Durations are milliseconds, or strings such as `"250ms"`, `"5s"`, `"2m"`, `"1h"`.
 */
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { systemContext } from "./runtime-context.js";

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `"5s"` / `"250ms"` / `1500` into milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") return value;
  const m = DURATION_RE.exec(value.trim());
  if (!m) throw new ConfigError(`"${value}" is not a duration: use milliseconds or a number with ms, s, m or h (e.g. 5s)`);
  return Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!;
}

export const durationSchema = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    try {
      return parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.number().nonnegative().finite());

/** When and how often a failed attempt is retried (Temporal's retry policy, plus jitter). */
export const retryPolicySchema = z.strictObject({
  /** Attempts per task, the first included; speculative duplicates do not count. @default 3 */
  maxAttempts: z.number().int().min(1).default(3),
  /** Delay before the first retry. @default 1s */
  initialInterval: durationSchema.default(1000),
  /** Each further retry waits this many times longer. @default 2 */
  backoffCoefficient: z.number().min(1).default(2),
  /** Delays never exceed this. @default 30s */
  maxInterval: durationSchema.default(30_000),
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter] (then capped). @default 0.2 */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Error types (`error.type`) that are never retried, besides errors marked `nonRetryable`. @default [] */
  nonRetryableErrorTypes: z.array(z.string()).default([]),
});
export type RetryPolicy = z.output<typeof retryPolicySchema>;

/**
 * Speculative re-execution of stragglers. Every rule is off until given a value.
 * A duplicate never cancels the original; the first success wins and the rest are killed.
 */
export const speculationPolicySchema = z.strictObject({
  /** Rule (a), Honeycomb's "impatience": once this percent of the stage's tasks succeeded and no more will come, duplicate every running task. */
  afterPercent: z.number().gt(0).max(100).optional(),
  /** Rule (b): once no more tasks will come and at most this many are unfinished, duplicate them. */
  lastTasks: z.number().int().min(1).optional(),
  /** Rule (c): duplicate an attempt running this many times longer than the median of finished attempts. */
  slowerThanMedian: z.number().gt(1).optional(),
  /** Rule (c) waits until this many tasks of the stage have succeeded. @default 5 */
  minFinished: z.number().int().min(1).default(5),
  /** At most this many duplicates of one task. @default 1 */
  maxDuplicatesPerTask: z.number().int().min(1).default(1),
  /** How often rule (c) is checked. @default 250ms */
  checkInterval: durationSchema.default(250),
});
export type SpeculationPolicy = z.output<typeof speculationPolicySchema>;

/** Time limits of one attempt. Each is off until given a value, except `cancelTimeout`. */
export const timeoutPolicySchema = z.strictObject({
  /** Kill an attempt that runs longer than this (from launch). Retryable (`TaskTimeout`). */
  attemptTimeout: durationSchema.optional(),
  /** Kill an attempt still pending (not running) after this long. Retryable (`StartTimeout`). */
  startTimeout: durationSchema.optional(),
  /** Kill an attempt that sent no heartbeat or log for this long: it is lost. Retryable (`AttemptLost`). */
  heartbeatTimeout: durationSchema.optional(),
  /** How long a cancel waits for every attempt to confirm it stopped. @default 10s */
  cancelTimeout: durationSchema.default(10_000),
});
export type TimeoutPolicy = z.output<typeof timeoutPolicySchema>;

/**
 * Relaunching after the backend had no capacity (Lambda 429, an ECS capacity error, a pod that
 * cannot be scheduled). Such a launch never ran: it does not use the task's retry budget.
 */
export const capacityPolicySchema = z.strictObject({
  /** Delay before the first relaunch. @default 1s */
  initialInterval: durationSchema.default(1000),
  /** Each further relaunch of the same task waits this many times longer. @default 2 */
  backoffCoefficient: z.number().min(1).default(2),
  /** Delays never exceed this. @default 30s */
  maxInterval: durationSchema.default(30_000),
  /** Random factor in [1 - jitter, 1 + jitter] on each delay. @default 0.2 */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Give the task up (a retryable failure, counted against its budget) after this many refusals in a row. @default 100 */
  maxRelaunches: z.number().int().min(1).default(100),
});
export type CapacityPolicy = z.output<typeof capacityPolicySchema>;

export const stagePolicySchema = z.strictObject({
  /** Attempts of this stage running at once. @default unlimited (the job and global limits still apply) */
  maxConcurrentTasks: z.number().int().min(1).optional(),
  /** Largest output an attempt may return, bytes of JSON (as inputs, outputs are small: data goes through object storage); beyond it the attempt fails with a non-retryable `OutputTooLarge`. @default 1 MiB */
  maxOutputBytes: z.number().int().min(1).default(1 << 20),
  retry: retryPolicySchema.default(retryPolicySchema.parse({})),
  speculation: speculationPolicySchema.default(speculationPolicySchema.parse({})),
  timeouts: timeoutPolicySchema.default(timeoutPolicySchema.parse({})),
  capacity: capacityPolicySchema.default(capacityPolicySchema.parse({})),
});
export type StagePolicy = z.output<typeof stagePolicySchema>;
export type StagePolicyInput = z.input<typeof stagePolicySchema>;

/** Merges policy layers (job defaults, then stage) and validates the result. Throws ConfigError. */
export function resolveStagePolicy(...layers: (StagePolicyInput | undefined)[]): StagePolicy {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      if (typeof v === "object" && v !== null && !Array.isArray(v)) merged[k] = { ...(merged[k] as object | undefined), ...v };
      else merged[k] = v;
    }
  }
  return parseOrThrow(stagePolicySchema, merged, "stage policy");
}

/** Validates `value` with `schema`; on failure throws a ConfigError listing every problem with its path. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ConfigError(`invalid ${what}: ${formatZodIssues(r.error)}`);
}

export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join(".") + ": " : ""}${i.message}`).join("; ");
}

/** The delay before retry number `retry` (1 = first retry), jitter applied, capped at maxInterval. */
export function retryDelay(policy: Pick<RetryPolicy, "initialInterval" | "backoffCoefficient" | "maxInterval" | "jitter">, retry: number, random: () => number = systemContext().random): number {
  const base = policy.initialInterval * policy.backoffCoefficient ** Math.max(0, retry - 1);
  const jittered = base * (1 + policy.jitter * (2 * random() - 1));
  return Math.max(0, Math.min(policy.maxInterval, jittered));
}
