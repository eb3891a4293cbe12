/**
 * A job's trace from its events: one span for the job, one per stage (children of the job), one
 * per attempt (children of their stage), and the storage calls each attempt recorded (children
 * of the attempt; see src/task-runtime/storage-spans.ts). Fed the live event stream or an events
 * file alike, it returns each span when it ends, as plain data; src/observability/otlp-export.ts
 * hands them to OpenTelemetry. Imports no OpenTelemetry package.
 */
import type { SmelterEvent } from "../job/events.js";
import { parseAttemptId } from "../job/ids.js";
import type { AttemptStats } from "../job/stats.js";
import { formatTraceparent, spanIdFor } from "./trace-context.js";

export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Epoch ms. */
  startMs: number;
  endMs: number;
  attributes: SpanAttributes;
  /** `error` with its message; `unset` when the span was cut short (the job's end was never seen). */
  status: "ok" | "error" | "unset";
  message?: string;
  events?: { name: string; timeMs: number; attributes?: SpanAttributes }[];
}

interface OpenAttempt {
  record: SpanRecord;
  speculative: boolean;
}

/** Outcome of an attempt span (`smelter.attempt.outcome`). */
export type AttemptSpanOutcome = "won" | "succeeded" | "lost" | "failed" | "cancelled" | "no-capacity" | "abandoned" | "unfinished";

export class TraceBuilder {
  readonly jobSpanId: string;
  #job: SpanRecord | undefined;
  #stages = new Map<number, SpanRecord>();
  #attempts = new Map<string, OpenAttempt>();

  constructor(
    readonly traceId: string,
    private readonly o: { backend?: string; jobName?: string } = {},
  ) {
    this.jobSpanId = spanIdFor(traceId, "job");
  }

  /** The `traceparent` an attempt's envelope carries: its own span, sampled. */
  traceparentFor(attemptId: string): string {
    return formatTraceparent({ traceId: this.traceId, spanId: spanIdFor(this.traceId, attemptId), sampled: true });
  }

  /** Takes one event; returns the spans it ended (an attempt's storage spans come with it). */
  add(e: SmelterEvent): SpanRecord[] {
    const job = this.#openJob(e);
    switch (e.type) {
      case "job-started":
        job.name = `job ${e.name}`;
        job.attributes["smelter.job.name"] = e.name;
        return [];
      case "stage-started":
        this.#openStage(e).attributes["smelter.stage.worker"] = e.worker;
        return [];
      case "attempt-launched": {
        const stage = this.#openStage(e);
        const ids = parseAttemptId(e.attemptId);
        const record: SpanRecord = {
          traceId: this.traceId,
          spanId: spanIdFor(this.traceId, e.attemptId),
          parentSpanId: stage.spanId,
          name: `attempt ${e.stageName}`,
          startMs: e.time,
          endMs: e.time,
          attributes: {
            "smelter.job.id": e.jobId,
            "smelter.stage": e.stage,
            "smelter.task.id": e.taskId,
            "smelter.attempt.id": e.attemptId,
            "smelter.attempt.number": ids?.attempt ?? 0,
            "smelter.attempt.cause": e.cause,
            "smelter.attempt.speculative": e.cause === "speculation",
            "smelter.runtime.id": e.runtimeId,
            ...(e.rule ? { "smelter.speculation.rule": e.rule } : {}),
            ...(this.o.backend ? { "smelter.backend": this.o.backend } : {}),
          },
          status: "unset",
          events: [],
        };
        this.#attempts.set(e.attemptId, { record, speculative: e.cause === "speculation" });
        return [];
      }
      case "attempt-running": {
        const a = this.#attempts.get(e.attemptId);
        if (a) {
          a.record.attributes["smelter.runtime.id"] = e.runtimeId;
          a.record.attributes["smelter.attempt.cold"] = e.cold;
          a.record.events!.push({ name: "running", timeMs: e.time });
        }
        return [];
      }
      case "attempt-succeeded":
        return this.#endAttempt(e.attemptId, e.time, e.won ? "won" : "lost", e.stats);
      case "attempt-failed":
        return this.#endAttempt(e.attemptId, e.time, "failed", e.stats, `${e.error.name}: ${e.error.message}`, { "smelter.attempt.retryable": e.retryable });
      case "attempt-cancelled":
        return this.#endAttempt(e.attemptId, e.time, "cancelled", undefined, undefined, { "smelter.attempt.cancel_reason": e.reason });
      case "attempt-no-capacity":
        return this.#endAttempt(e.attemptId, e.time, "no-capacity", e.stats, undefined, { "smelter.attempt.no_capacity_reason": e.reason });
      case "attempt-abandoned":
        return this.#endAttempt(e.attemptId, e.time, "abandoned", e.stats);
      case "stage-done": {
        const stage = this.#openStage(e);
        const ended = this.#endOpenAttempts(e.stage, e.time);
        stage.endMs = e.time;
        Object.assign(stage.attributes, {
          "smelter.stage.tasks": e.counts.total,
          "smelter.stage.succeeded": e.counts.succeeded,
          "smelter.stage.failed": e.counts.failed,
          "smelter.stage.retried": e.counts.retried,
          "smelter.stage.speculated": e.counts.speculated,
        });
        if (e.counts.failed > 0) {
          stage.status = "error";
          stage.message = `${e.counts.failed} task(s) failed`;
        } else stage.status = "ok";
        this.#stages.delete(e.stage);
        return [...ended, stage];
      }
      case "job-done": {
        const rest = this.finish(e.time);
        job.endMs = e.time;
        job.attributes["smelter.job.status"] = e.status;
        job.status = e.status === "succeeded" ? "ok" : "error";
        if (e.error) job.message = `${e.error.name}: ${e.error.message}`;
        else if (e.status !== "succeeded") job.message = e.status;
        this.#job = undefined;
        return [...rest.filter((s) => s !== job), job];
      }
      default:
        return [];
    }
  }

  /** Ends every span still open at `now` (status unset): for a stream that stopped before `job-done`. */
  finish(now: number): SpanRecord[] {
    const out = this.#endOpenAttempts(undefined, now);
    for (const stage of this.#stages.values()) {
      stage.endMs = now;
      out.push(stage);
    }
    this.#stages.clear();
    if (this.#job) {
      this.#job.endMs = now;
      out.push(this.#job);
      this.#job = undefined;
    }
    return out;
  }

  #openJob(e: SmelterEvent): SpanRecord {
    this.#job ??= {
      traceId: this.traceId,
      spanId: this.jobSpanId,
      name: `job ${this.o.jobName ?? e.jobId}`,
      startMs: e.time,
      endMs: e.time,
      attributes: { "smelter.job.id": e.jobId, ...(this.o.jobName ? { "smelter.job.name": this.o.jobName } : {}), ...(this.o.backend ? { "smelter.backend": this.o.backend } : {}) },
      status: "unset",
    };
    return this.#job;
  }

  #openStage(e: { time: number; stage: number; stageName: string; jobId: string }): SpanRecord {
    let stage = this.#stages.get(e.stage);
    if (!stage) {
      stage = {
        traceId: this.traceId,
        spanId: spanIdFor(this.traceId, `stage-${e.stage}`),
        parentSpanId: this.jobSpanId,
        name: `stage ${e.stageName}`,
        startMs: e.time,
        endMs: e.time,
        attributes: { "smelter.job.id": e.jobId, "smelter.stage": e.stage, "smelter.stage.name": e.stageName },
        status: "unset",
      };
      this.#stages.set(e.stage, stage);
    }
    return stage;
  }

  #endOpenAttempts(stage: number | undefined, now: number): SpanRecord[] {
    const out: SpanRecord[] = [];
    for (const [id, a] of this.#attempts) if (stage === undefined || a.record.attributes["smelter.stage"] === stage) out.push(...this.#endAttempt(id, now, "unfinished"));
    return out;
  }

  #endAttempt(attemptId: string, time: number, outcome: AttemptSpanOutcome, stats?: AttemptStats, error?: string, extra: SpanAttributes = {}): SpanRecord[] {
    const a = this.#attempts.get(attemptId);
    if (!a) return [];
    this.#attempts.delete(attemptId);
    const r = a.record;
    r.endMs = time;
    Object.assign(r.attributes, extra, { "smelter.attempt.outcome": outcome });
    if (outcome === "failed") {
      r.status = "error";
      if (error) r.message = error;
    } else if (outcome !== "unfinished") r.status = "ok";
    if (!r.events?.length) delete r.events;
    const out: SpanRecord[] = [];
    if (stats) {
      const c = stats.counters;
      Object.assign(r.attributes, {
        "smelter.bytes_read": c.bytesRead ?? 0,
        "smelter.bytes_written": c.bytesWritten ?? 0,
        "smelter.read_requests": c.readRequests ?? 0,
        "smelter.write_requests": c.writeRequests ?? 0,
        "smelter.worker.wall_ms": stats.wallMs,
        "smelter.worker.cpu_ms": stats.cpuUserMs + stats.cpuSystemMs,
        ...(stats.spansDropped ? { "smelter.storage.spans_dropped": stats.spansDropped } : {}),
      });
      for (const s of stats.spans ?? []) {
        out.push({
          traceId: this.traceId,
          spanId: s.spanId,
          parentSpanId: r.spanId,
          name: s.name,
          startMs: s.startedAt,
          endMs: s.endedAt,
          attributes: { ...s.attributes, "smelter.attempt.id": attemptId },
          status: s.error === undefined ? "ok" : "error",
          ...(s.error !== undefined ? { message: s.error } : {}),
        });
      }
    }
    out.push(r);
    return out;
  }
}
