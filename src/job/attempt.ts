/**
 * What one attempt is, as data: the envelope a backend carries to where the attempt runs, the
 * callbacks it reports through while it runs, and the outcome it returns. Shared by the scheduler
 * (which launches), the backends (which carry) and the task runtime (which runs), so none of them
 * imports another for it. The backend itself (`launch`, `kill`) is src/backends/contract.ts.
 */
import { z } from "zod";
import { serializedErrorSchema, type SerializedError } from "./errors.js";
import { attemptStatsSchema, type AttemptStats } from "./stats.js";

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
