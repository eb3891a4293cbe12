/** Stats every attempt returns with its result. */
import { z } from "zod";

/** A span the worker recorded (a storage call), shipped back with the stats when the attempt was traced; its parent is the attempt's span. */
export const recordedSpanSchema = z.object({
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string(),
  /** Epoch ms on the worker's clock. */
  startedAt: z.number(),
  endedAt: z.number(),
  /** The error's message when the call failed. */
  error: z.string().optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type RecordedSpan = z.infer<typeof recordedSpanSchema>;

export const attemptStatsSchema = z.object({
  /** Wall time of the worker function, ms. */
  wallMs: z.number(),
  /** CPU time in user mode, ms. On the threads backend this is the whole process's (Node 20 has no per-thread CPU clock). */
  cpuUserMs: z.number(),
  /** CPU time in kernel mode, ms (same caveat). */
  cpuSystemMs: z.number(),
  /** Peak resident set size seen during the attempt, bytes (process-wide). */
  peakRssBytes: z.number(),
  /** One-minute load average sampled during the attempt. */
  loadAvg: z.object({ mean: z.number(), max: z.number() }),
  /** The task's own counters: bytesRead, bytesWritten, readRequests, writeRequests, and any others. */
  counters: z.record(z.string(), z.number()),
  /** Epoch ms when the worker function started and ended. */
  startedAt: z.number(),
  endedAt: z.number(),
  /** Where it ran: hostname, pid, and thread id when on a worker thread. */
  host: z.string().optional(),
  pid: z.number().optional(),
  threadId: z.number().optional(),
  /** Storage calls recorded as spans, when the envelope carried a `traceparent` (at most 256; the rest are counted in `spansDropped`). */
  spans: z.array(recordedSpanSchema).optional(),
  spansDropped: z.number().optional(),
});
export type AttemptStats = z.infer<typeof attemptStatsSchema>;

/** Well-known counter names. */
export const Counters = {
  bytesRead: "bytesRead",
  bytesWritten: "bytesWritten",
  readRequests: "readRequests",
  writeRequests: "writeRequests",
} as const;

/** Stats of an attempt the worker did not report on (never started, killed, abandoned): scheduler-side times, no counters. */
export function emptyStats(startedAt: number, endedAt: number): AttemptStats {
  return { wallMs: Math.max(0, endedAt - startedAt), cpuUserMs: 0, cpuSystemMs: 0, peakRssBytes: 0, loadAvg: { mean: 0, max: 0 }, counters: {}, startedAt, endedAt };
}
