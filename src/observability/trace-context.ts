/**
 * W3C trace context for Smelter's spans, without OpenTelemetry: trace and span ids, and the
 * `traceparent` an attempt's envelope carries. Span ids of the job, its stages and its attempts
 * are derived from the trace id and their Smelter ids, so the manager knows an attempt's span id
 * before the attempt starts (it goes in the envelope at launch), and a trace rebuilt from an
 * events file has the same shape.
 */
import { createHash } from "node:crypto";
import type { IdSource } from "../job/runtime-context.js";
import { TRACEPARENT_RE } from "../job/attempt.js";

export interface SpanContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

export function formatTraceparent(c: SpanContext): string {
  return `00-${c.traceId}-${c.spanId}-${c.sampled ? "01" : "00"}`;
}

export function parseTraceparent(text: string): SpanContext | undefined {
  const m = TRACEPARENT_RE.exec(text);
  if (!m) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 };
}

/** A new trace id (16 bytes, hex) from the runtime context's ids (random, or seeded). */
export function newTraceId(ids: IdSource): string {
  return nonZero(ids.hex(32));
}

/** The trace id of a job rebuilt from its events: the same events give the same id. */
export function traceIdFromEvents(jobId: string, firstEventTime: number): string {
  return nonZero(createHash("sha256").update(`smelter-trace:${jobId}:${firstEventTime}`).digest("hex").slice(0, 32));
}

/** The span id of `key` (`job`, `stage-2`, an attempt id) in trace `traceId`. */
export function spanIdFor(traceId: string, key: string): string {
  return nonZero(createHash("sha256").update(`${traceId}:${key}`).digest("hex").slice(0, 16));
}

function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}
