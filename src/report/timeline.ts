/**
 * Every attempt of a job with its phases (pending: launched -> running; running -> ended), how it
 * ended, and the worker slot (lane) it ran on: the rows of the report's timeline. Built on the
 * attempt log (src/report/attempts.ts, the `attempts` table), so the report and the table read
 * events one way. Pure functions; times are epoch ms on the scheduler's clock.
 */
import type { AttemptCapacity } from "../job/attempt.js";
import type { SmelterEvent } from "../job/events.js";
import { AttemptLog, type AttemptRow } from "./attempts.js";

/**
 * How an attempt ended. `won`: its result was used; `succeeded`: finished after another attempt
 * of its task had won; `lost`: cancelled because another attempt won; `cancelled`: stopped for
 * another reason (job failed or cancelled); `abandoned`: a kill that was never confirmed;
 * `no-capacity`: the backend had no room (throttled), nothing ran; `unfinished`: no ending in the
 * stream (left running when the stream stopped).
 */
export type AttemptOutcome = "won" | "succeeded" | "failed" | "lost" | "cancelled" | "abandoned" | "no-capacity" | "unfinished";

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
  /** When it ended (a cancelled attempt: when its kill was confirmed); for an unfinished attempt, the stream's last event. */
  endedAt: number;
  killRequestedAt?: number;
  outcome: AttemptOutcome;
  error?: { name: string; type: string; message: string };
  /** Why it was cancelled / abandoned / refused. */
  reason?: string;
  retryable?: boolean;
  /** Worker function wall time, ms (from its stats). */
  wallMs?: number;
  cpuMs?: number;
  counters: Record<string, number>;
  /** What it ran on, when the backend said: priced instead of the price table's assumption. */
  capacity?: AttemptCapacity;
}

export interface Timeline {
  /** Worker slots: the runtime ids attempts ran on, then extra lanes for attempts that never got one. */
  lanes: string[];
  attempts: TimelineAttempt[];
  /** First and last event times. */
  start: number;
  end: number;
}

/** Running time of an attempt (running -> ended; launched -> ended when it never reported running; 0 when refused for capacity), ms. */
export function runMs(a: TimelineAttempt): number {
  if (a.outcome === "no-capacity") return 0;
  return Math.max(0, a.endedAt - (a.runningAt ?? a.launchedAt));
}

export function buildTimeline(events: readonly SmelterEvent[]): Timeline {
  const start = events[0]?.time ?? 0;
  const end = events.at(-1)?.time ?? start;
  const log = AttemptLog.fromEvents(events);
  const attempts = log.rows().map((row) => timelineAttempt(row, end, log));
  const lanes = assignLanes(attempts);
  return { lanes, attempts, start, end };
}

function timelineAttempt(row: AttemptRow, streamEnd: number, log: AttemptLog): TimelineAttempt {
  const ms = (d: Date | null) => (d === null ? undefined : d.getTime());
  const stats = log.statsOf(row.attempt_id);
  const ended = ms(row.kill_ended_at) ?? ms(row.ended_at);
  const cancelled = row.status === "cancelled";
  const killRequestedAt = ms(row.kill_requested_at);
  return {
    attemptId: row.attempt_id, taskId: row.task_id, stage: row.stage, stageName: row.stage_name, cause: row.cause,
    ...(row.speculation_rule ? { rule: row.speculation_rule } : {}),
    ...(row.duplicate_of ? { duplicateOf: row.duplicate_of } : {}),
    runtimeId: row.runtime_id, lane: -1, launchedAt: row.launched_at.getTime(),
    ...(row.running_at ? { runningAt: row.running_at.getTime() } : {}),
    // A cancelled attempt holds its slot until the kill is confirmed; a success or failure ends when it reports.
    endedAt: (cancelled || row.status === "abandoned" ? ended : ms(row.ended_at)) ?? streamEnd,
    ...(killRequestedAt !== undefined ? { killRequestedAt } : {}),
    outcome: outcomeOf(row),
    ...(row.status === "failed" ? { error: { name: row.error_name ?? row.error_type ?? "Error", type: row.error_type ?? "Error", message: row.error_message ?? "" } } : {}),
    ...(row.status !== "failed" && row.error_message ? { reason: row.error_message } : {}),
    ...(row.retryable !== null ? { retryable: row.retryable } : {}),
    ...(stats ? { wallMs: stats.wallMs, cpuMs: stats.cpuUserMs + stats.cpuSystemMs } : {}),
    counters: { ...(stats?.counters ?? {}) },
    ...capacityOf(row),
  };
}

function capacityOf(row: AttemptRow): { capacity?: AttemptCapacity } {
  const capacity: AttemptCapacity = { ...(row.vcpu !== null ? { vcpu: row.vcpu } : {}), ...(row.memory_gb !== null ? { memoryGb: row.memory_gb } : {}), ...(row.spot !== null ? { spot: row.spot } : {}) };
  return Object.keys(capacity).length > 0 ? { capacity } : {};
}

function outcomeOf(row: AttemptRow): AttemptOutcome {
  switch (row.status) {
    case "running":
      return "unfinished";
    case "succeeded":
      return row.won ? "won" : "succeeded";
    case "cancelled":
      return /^lost the race/.test(row.error_message ?? "") ? "lost" : "cancelled";
    default:
      return row.status;
  }
}

/**
 * Puts each attempt on the lane of the runtime it ran on (a pool worker, a container); attempts
 * that never ran, or whose runtime id overlaps another attempt (a placeholder), go to extra
 * lanes packed first-fit. Lanes are sorted by name, numbers in order (thread-2 before thread-10).
 */
function assignLanes(attempts: TimelineAttempt[]): string[] {
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
