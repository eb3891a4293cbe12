/**
 * What one attempt is, as data: the envelope a backend carries to where the attempt runs, the
 * callbacks it reports through while it runs, and the outcome it returns. Shared by the scheduler
 * (which launches), the backends (which carry) and the task runtime (which runs), so none of them
 * imports another for it. The backend itself (`launch`, `kill`) is src/backends/contract.ts.
 */
import { z } from "zod";
import { serializedErrorSchema, type SerializedError } from "./errors.js";
import { attemptStatsSchema, type AttemptStats } from "./stats.js";

/** A W3C trace context `traceparent` (version 00): `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const TRACEPARENT_RE = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

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
  /** The attempt's span as a W3C `traceparent`, set when the job is traced (`--otlp`): the worker records its storage calls as child spans of it (src/observability/). */
  traceparent: z.string().regex(TRACEPARENT_RE, "traceparent must be a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>").optional(),
});
export type TaskEnvelope = z.infer<typeof taskEnvelopeSchema>;

/**
 * What an attempt runs on, as it is billed, told by the backends that know it (Fargate: the task's
 * size and capacity provider; Kubernetes: the pod's requests). The cost estimate prices it; a part
 * not told is priced at the price table's assumption.
 */
export interface AttemptCapacity {
  vcpu?: number;
  memoryGb?: number;
  /** On interruptible (Spot) capacity; false when a Spot run fell back to on-demand. */
  spot?: boolean;
}

/** What `onRunning` says: where the attempt finally runs, whether it paid a cold start, and on what capacity. */
export interface RunningInfo {
  /** The backend's final id: `thread-3`, `pid-4242`, a Lambda request id, an ECS task ARN. */
  runtimeId: string;
  /** True when a worker (thread, process, container, function instance) was started for it. */
  cold: boolean;
  capacity?: AttemptCapacity;
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
