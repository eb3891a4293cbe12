/**
 * Every attempt of a job as one row (which worker, when, why it was launched, how it ended,
 * its stats): the `attempts` table of `--output FILE.duckdb` and the job report's timeline.
 * Built from events alone: attach it to a live job, or rebuild it from an events file
 * (`AttemptLog.fromEvents(parseEvents(text))`). Times are the scheduler's clock.
 */
import type { SmelterEvent } from "../job/events.js";
import type { AttemptStats } from "../job/stats.js";

export interface AttemptRow {
  attempt_id: string;
  task_id: string;
  stage: number;
  stage_name: string;
  cause: "initial" | "retry" | "speculation";
  speculation_rule: string | null;
  /** For a speculative duplicate: the attempt it duplicates. */
  duplicate_of: string | null;
  runtime_id: string;
  /** `cancelled`: killed (lost a race, job stopping); `abandoned`: its kill could not be confirmed; `no-capacity`: the backend had no room, nothing ran. */
  status: "running" | "succeeded" | "failed" | "cancelled" | "abandoned" | "no-capacity";
  /** The winning attempt of its task. */
  won: boolean;
  /** A worker was started for it (null until it ran). */
  cold_start: boolean | null;
  /** What it ran on, when the backend said (Fargate, Kubernetes): vCPUs, memory (GB), on Spot. */
  vcpu: number | null;
  memory_gb: number | null;
  spot: boolean | null;
  launched_at: Date;
  running_at: Date | null;
  ended_at: Date | null;
  kill_requested_at: Date | null;
  /** When the kill was confirmed, or the attempt abandoned. */
  kill_ended_at: Date | null;
  error_name: string | null;
  error_type: string | null;
  /** The error, or why the attempt was cancelled / abandoned / refused. */
  error_message: string | null;
  /** For a failure: whether the scheduler may retry it. */
  retryable: boolean | null;
  wall_ms: number | null;
  cpu_ms: number | null;
  peak_rss_bytes: number | null;
  bytes_read: number | null;
  bytes_written: number | null;
  read_requests: number | null;
  write_requests: number | null;
}

export class AttemptLog {
  readonly #rows = new Map<string, AttemptRow>();
  readonly #stats = new Map<string, AttemptStats>();
  #off: () => void = () => {};

  /** Follows a live job's events (`job.events`), or starts empty (feed it with `add`). */
  constructor(job?: { events: { on(l: (e: SmelterEvent) => void): () => void } }) {
    if (job) this.#off = job.events.on((e) => this.add(e));
  }

  /** Rebuilds the log from recorded events (an events file): no live job needed. */
  static fromEvents(events: Iterable<SmelterEvent>): AttemptLog {
    const log = new AttemptLog();
    for (const e of events) log.add(e);
    return log;
  }

  stop(): void {
    this.#off();
  }

  rows(): AttemptRow[] {
    return [...this.#rows.values()];
  }

  /** The latest stats an attempt reported (all its counters), if any. */
  statsOf(attemptId: string): AttemptStats | undefined {
    return this.#stats.get(attemptId);
  }

  add(e: SmelterEvent): void {
    if (e.type === "attempt-launched") {
      this.#rows.set(e.attemptId, {
        attempt_id: e.attemptId, task_id: e.taskId, stage: e.stage, stage_name: e.stageName, cause: e.cause,
        speculation_rule: e.rule ?? null, duplicate_of: null, runtime_id: e.runtimeId, status: "running", won: false, cold_start: null, vcpu: null, memory_gb: null, spot: null,
        launched_at: new Date(e.time), running_at: null, ended_at: null, kill_requested_at: null, kill_ended_at: null, error_name: null, error_type: null, error_message: null, retryable: null,
        wall_ms: null, cpu_ms: null, peak_rss_bytes: null, bytes_read: null, bytes_written: null, read_requests: null, write_requests: null,
      });
      return;
    }
    if (!("attemptId" in e) || e.type === "task-succeeded") return;
    const row = this.#rows.get(e.attemptId);
    if (!row) return;
    const stats = (s: AttemptStats): Partial<AttemptRow> => {
      this.#stats.set(row.attempt_id, s);
      return statsColumns(s);
    };
    switch (e.type) {
      case "attempt-running":
        Object.assign(row, { running_at: new Date(e.time), runtime_id: e.runtimeId, cold_start: e.cold, vcpu: e.capacity?.vcpu ?? null, memory_gb: e.capacity?.memoryGb ?? null, spot: e.capacity?.spot ?? null });
        break;
      case "speculation-launched":
        row.duplicate_of = e.of;
        break;
      case "attempt-succeeded":
        Object.assign(row, { status: "succeeded", won: e.won, ended_at: new Date(e.time) }, stats(e.stats));
        break;
      case "attempt-failed":
        Object.assign(row, { status: "failed", ended_at: new Date(e.time), error_name: e.error.name, error_type: e.error.type, error_message: e.error.message, retryable: e.retryable }, stats(e.stats));
        break;
      case "attempt-cancelled":
        Object.assign(row, { status: "cancelled", ended_at: new Date(e.time), error_message: e.reason });
        row.kill_requested_at ??= new Date(e.time);
        break;
      case "attempt-no-capacity":
        Object.assign(row, { status: "no-capacity", ended_at: new Date(e.time), error_type: "NoCapacity", error_message: e.reason }, stats(e.stats));
        break;
      case "kill-requested":
        row.kill_requested_at ??= new Date(e.time);
        if (row.status === "running") row.error_message ??= e.reason;
        break;
      case "kill-confirmed":
        Object.assign(row, { kill_ended_at: new Date(e.time) }, stats(e.stats));
        if (row.status === "running") Object.assign(row, { status: "cancelled", ended_at: new Date(e.time) });
        break;
      case "attempt-abandoned":
        Object.assign(row, { status: "abandoned", kill_ended_at: new Date(e.time), error_message: e.reason }, stats(e.stats));
        break;
      case "attempt-late-outcome":
        Object.assign(row, stats(e.stats));
        break;
    }
  }
}

/** The stats columns of a row (the latest stats of an attempt win: a kill's confirmation brings the worker's own). */
function statsColumns(s: AttemptStats): Partial<AttemptRow> {
  return {
    wall_ms: s.wallMs, cpu_ms: s.cpuUserMs + s.cpuSystemMs, peak_rss_bytes: s.peakRssBytes,
    bytes_read: s.counters.bytesRead ?? 0, bytes_written: s.counters.bytesWritten ?? 0, read_requests: s.counters.readRequests ?? 0, write_requests: s.counters.writeRequests ?? 0,
  };
}
