/**
 * Every attempt of a job as one row (which worker, when, why it was launched, how it ended,
 * its stats): the `attempts` table of `--output FILE.duckdb` and the job report's timeline.
 */
import type { SmelterEvent } from "../job/events.js";
import type { Job } from "../scheduler/job.js";

export interface AttemptRow {
  attempt_id: string;
  task_id: string;
  stage: number;
  stage_name: string;
  cause: "initial" | "retry" | "speculation";
  speculation_rule: string | null;
  runtime_id: string;
  status: "running" | "succeeded" | "failed" | "cancelled";
  /** The winning attempt of its task. */
  won: boolean;
  launched_at: Date;
  running_at: Date | null;
  ended_at: Date | null;
  error_type: string | null;
  error_message: string | null;
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
  #off: () => void;

  constructor(job: Job) {
    this.#off = job.events.on((e) => this.#add(e));
  }

  stop(): void {
    this.#off();
  }

  rows(): AttemptRow[] {
    return [...this.#rows.values()];
  }

  #add(e: SmelterEvent): void {
    if (e.type === "attempt-launched") {
      this.#rows.set(e.attemptId, {
        attempt_id: e.attemptId, task_id: e.taskId, stage: e.stage, stage_name: e.stageName, cause: e.cause,
        speculation_rule: e.rule ?? null, runtime_id: e.runtimeId, status: "running", won: false,
        launched_at: new Date(e.time), running_at: null, ended_at: null, error_type: null, error_message: null,
        wall_ms: null, cpu_ms: null, peak_rss_bytes: null, bytes_read: null, bytes_written: null, read_requests: null, write_requests: null,
      });
      return;
    }
    if (!("attemptId" in e)) return;
    const row = this.#rows.get(e.attemptId);
    if (!row) return;
    switch (e.type) {
      case "attempt-running":
        row.running_at = new Date(e.time);
        row.runtime_id = e.runtimeId;
        break;
      case "attempt-succeeded": {
        const s = e.stats;
        Object.assign(row, {
          status: "succeeded", won: e.won, ended_at: new Date(e.time), wall_ms: s.wallMs, cpu_ms: s.cpuUserMs + s.cpuSystemMs, peak_rss_bytes: s.peakRssBytes,
          bytes_read: s.counters.bytesRead ?? 0, bytes_written: s.counters.bytesWritten ?? 0, read_requests: s.counters.readRequests ?? 0, write_requests: s.counters.writeRequests ?? 0,
        });
        break;
      }
      case "attempt-failed":
        Object.assign(row, { status: "failed", ended_at: new Date(e.time), error_type: e.error.type, error_message: e.error.message });
        break;
      case "attempt-cancelled":
        Object.assign(row, { status: "cancelled", ended_at: new Date(e.time), error_message: e.reason });
        break;
    }
  }
}
