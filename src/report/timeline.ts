/**
 * Every attempt of a job with its phases (pending: launched -> running; running -> ended), how it
 * ended, and the worker slot (lane) it ran on: the rows of the report's timeline, rebuilt from
 * events alone. Pure functions; times are epoch ms on the scheduler's clock.
 */
import { endingStats, type ReportEvent } from "./event-input.js";

/**
 * How an attempt ended. `won`: its result was used; `succeeded`: finished after another attempt
 * of its task had won; `lost`: cancelled because another attempt won; `cancelled`: stopped for
 * another reason (job failed or cancelled); `abandoned`: a kill that was never confirmed;
 * `unfinished`: no ending in the stream (left running when the stream stopped).
 */
export type AttemptOutcome = "won" | "succeeded" | "failed" | "lost" | "cancelled" | "abandoned" | "unfinished";

export interface TimelineAttempt {
  attemptId: string;
  taskId: string;
  stage: number;
  stageName: string;
  cause: "initial" | "retry" | "speculation";
  /** The speculation rule that launched it. */
  rule?: string;
  /** For a speculative duplicate: the attempt it duplicates. */
  duplicateOf?: string;
  runtimeId: string;
  /** Index into {@link Timeline.lanes}. */
  lane: number;
  launchedAt: number;
  runningAt?: number;
  /** When it ended; for an unfinished attempt, the stream's last event. */
  endedAt: number;
  killRequestedAt?: number;
  outcome: AttemptOutcome;
  error?: { name: string; type: string; message: string };
  /** Why it was cancelled / abandoned. */
  reason?: string;
  retryable?: boolean;
  /** Worker function wall time, ms (from its stats). */
  wallMs?: number;
  cpuMs?: number;
  counters: Record<string, number>;
}

export interface Timeline {
  /** Worker slots: the runtime ids attempts ran on, then extra lanes for attempts that never got one. */
  lanes: string[];
  attempts: TimelineAttempt[];
  /** First and last event times. */
  start: number;
  end: number;
}

/** Running time of an attempt (running -> ended; launched -> ended when it never reported running), ms. */
export function runMs(a: TimelineAttempt): number {
  return Math.max(0, a.endedAt - (a.runningAt ?? a.launchedAt));
}

export function buildTimeline(events: readonly ReportEvent[]): Timeline {
  const byId = new Map<string, TimelineAttempt>();
  const start = events[0]?.time ?? 0;
  const end = events.at(-1)?.time ?? start;
  const ended = new Set<string>();
  for (const e of events) {
    if (e.type === "attempt-launched") {
      byId.set(e.attemptId, {
        attemptId: e.attemptId, taskId: e.taskId, stage: e.stage, stageName: e.stageName, cause: e.cause,
        ...(e.rule ? { rule: e.rule } : {}), runtimeId: e.runtimeId, lane: -1, launchedAt: e.time, endedAt: end, outcome: "unfinished", counters: {},
      });
      continue;
    }
    if (!("attemptId" in e)) continue;
    const a = byId.get(e.attemptId);
    if (!a) continue;
    const stats = endingStats(e);
    if (stats && !ended.has(a.attemptId)) {
      a.wallMs = stats.wallMs;
      a.cpuMs = stats.cpuUserMs + stats.cpuSystemMs;
      a.counters = { ...stats.counters };
    }
    switch (e.type) {
      case "attempt-running":
        a.runningAt = e.time;
        a.runtimeId = e.runtimeId;
        break;
      case "speculation-launched":
        if (e.of) a.duplicateOf = e.of;
        break;
      case "attempt-succeeded":
        end_(a, e.time, e.won ? "won" : "succeeded");
        break;
      case "attempt-failed":
        end_(a, e.time, "failed");
        a.error = { name: e.error.name, type: e.error.type, message: e.error.message };
        a.retryable = e.retryable;
        break;
      case "attempt-cancelled":
        // The kill was requested; the attempt holds its slot until confirmed (when the stream says so).
        a.killRequestedAt ??= e.time;
        a.reason = e.reason;
        end_(a, e.time, /^lost the race/.test(e.reason) ? "lost" : "cancelled");
        break;
      case "attempt-kill-requested":
        a.killRequestedAt ??= e.time;
        if (e.reason) a.reason ??= e.reason;
        break;
      case "attempt-kill-confirmed":
        if (a.outcome === "lost" || a.outcome === "cancelled" || a.outcome === "unfinished") {
          a.endedAt = e.time;
          if (a.outcome === "unfinished") a.outcome = "cancelled";
          ended.add(a.attemptId);
        }
        break;
      case "attempt-abandoned":
        a.endedAt = e.time;
        a.outcome = "abandoned";
        if (e.reason) a.reason = e.reason;
        ended.add(a.attemptId);
        break;
    }
  }
  function end_(a: TimelineAttempt, time: number, outcome: AttemptOutcome) {
    if (ended.has(a.attemptId) && a.outcome !== "unfinished") return;
    a.endedAt = time;
    a.outcome = outcome;
    ended.add(a.attemptId);
  }
  const attempts = [...byId.values()];
  const lanes = assignLanes(attempts);
  return { lanes, attempts, start, end };
}

/**
 * Puts each attempt on the lane of the runtime it ran on (a pool worker, a container); attempts
 * that never ran, or whose runtime id overlaps another attempt (a placeholder), go to extra
 * lanes packed first-fit. Lanes are sorted by name, numbers in order (thread-2 before thread-10).
 */
export function assignLanes(attempts: TimelineAttempt[]): string[] {
  const sorted = [...attempts].sort((a, b) => (a.runningAt ?? a.launchedAt) - (b.runningAt ?? b.launchedAt));
  const freeAt = new Map<string, number>();
  const spill: number[] = [];
  const laneOf = new Map<TimelineAttempt, string>();
  for (const a of sorted) {
    const from = a.runningAt ?? a.launchedAt;
    const free = freeAt.get(a.runtimeId);
    if (a.runningAt !== undefined && (free === undefined || free <= from)) {
      freeAt.set(a.runtimeId, a.endedAt);
      laneOf.set(a, a.runtimeId);
      continue;
    }
    let i = spill.findIndex((t) => t <= from);
    if (i < 0) i = spill.push(0) - 1;
    spill[i] = a.endedAt;
    laneOf.set(a, `waiting ${i + 1}`);
  }
  const collator = new Intl.Collator("en", { numeric: true });
  const named = [...freeAt.keys()].sort(collator.compare);
  const lanes = [...named, ...spill.map((_, i) => `waiting ${i + 1}`)];
  const index = new Map(lanes.map((l, i) => [l, i]));
  for (const a of attempts) a.lane = index.get(laneOf.get(a)!)!;
  return lanes;
}
