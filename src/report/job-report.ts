/**
 * Everything the job report shows, computed from events alone: the job, the timeline, per-stage
 * summaries, the critical path, concurrency and throughput, the cost estimate and, for a job that
 * did not succeed, what failed and what was left behind. `html.ts` only draws this.
 */
import { backendOf, type EventInput, type ReportEvent } from "./event-input.js";
import { criticalPath, type CriticalStep } from "./critical-path.js";
import { estimateCost, type CostEstimate } from "./cost.js";
import { DEFAULT_PRICES, type PriceTable } from "./prices.js";
import { timeSeries, type TimeSeries } from "./series.js";
import { summarizeStages, type StageSummary } from "./stage-summary.js";
import { buildTimeline, type Timeline, type TimelineAttempt } from "./timeline.js";

export interface JobFailure {
  /** The job's error (job-done), if it failed. */
  error?: { name: string; message: string };
  failedTasks: { taskId: string; stage: number; stageName: string; message: string }[];
  /** Every failed attempt with its error, in time order. */
  attemptErrors: { attemptId: string; taskId: string; stageName: string; time: number; name: string; message: string; retryable: boolean }[];
  /** Attempts with no confirmed stop: abandoned kills, and attempts still running when the stream ended. */
  leftBehind: { attemptId: string; taskId: string; stageName: string; runtimeId: string; outcome: string; reason?: string }[];
  /** Tasks queued but never launched. */
  neverLaunched: number;
  /** Whether the stream records kill confirmations (else a cancelled attempt's end is when its kill was requested). */
  killConfirmations: boolean;
}

export interface JobReport {
  jobId: string;
  name: string;
  status: "succeeded" | "failed" | "cancelled" | "unfinished";
  backend: string;
  start: number;
  end: number;
  timeline: Timeline;
  stages: StageSummary[];
  criticalPath: CriticalStep[];
  series: TimeSeries;
  cost: CostEstimate;
  failure: JobFailure;
  /** Per speculated task: every attempt and which one won. */
  speculation: { taskId: string; stageName: string; attempts: { attemptId: string; cause: string; outcome: string }[]; winner?: string }[];
  /** Events of types this version does not know (skipped). */
  unknownEvents: number;
}

export interface ReportOptions {
  /** The backend, when the events do not say (else guessed from runtime ids; `local` when unknown). */
  backend?: string;
  prices?: PriceTable;
}

export function buildJobReport(input: EventInput, options: ReportOptions = {}): JobReport {
  const { events } = input;
  const started = events.find((e) => e.type === "job-started");
  const done = events.find((e): e is Extract<ReportEvent, { type: "job-done" }> => e.type === "job-done");
  const timeline = buildTimeline(events);
  const backend = options.backend ?? backendOf(events) ?? "local";
  return {
    jobId: started?.jobId ?? events[0]?.jobId ?? "unknown",
    name: started && started.type === "job-started" ? started.name : "",
    status: done?.status ?? "unfinished",
    backend,
    start: timeline.start,
    end: timeline.end,
    timeline,
    stages: summarizeStages(events, timeline.attempts),
    criticalPath: criticalPath(timeline.attempts),
    series: timeSeries(timeline.attempts, timeline.start, timeline.end),
    cost: estimateCost(timeline.attempts, backend, options.prices ?? DEFAULT_PRICES),
    failure: failureOf(events, timeline.attempts, done),
    speculation: speculated(timeline.attempts),
    unknownEvents: input.unknown,
  };
}

function failureOf(events: readonly ReportEvent[], attempts: readonly TimelineAttempt[], done: Extract<ReportEvent, { type: "job-done" }> | undefined): JobFailure {
  const launched = new Set(attempts.map((a) => a.taskId));
  const queued = new Set(events.flatMap((e) => (e.type === "task-queued" ? [e.taskId] : [])));
  return {
    ...(done?.error ? { error: { name: done.error.name, message: done.error.message } } : {}),
    failedTasks: events.flatMap((e) => (e.type === "task-failed" ? [{ taskId: e.taskId, stage: e.stage, stageName: e.stageName, message: e.error.message }] : [])),
    attemptErrors: attempts
      .filter((a) => a.outcome === "failed" && a.error)
      .sort((a, b) => a.endedAt - b.endedAt)
      .map((a) => ({ attemptId: a.attemptId, taskId: a.taskId, stageName: a.stageName, time: a.endedAt, name: a.error!.name, message: a.error!.message, retryable: a.retryable ?? false })),
    leftBehind: attempts
      .filter((a) => a.outcome === "abandoned" || a.outcome === "unfinished")
      .map((a) => ({ attemptId: a.attemptId, taskId: a.taskId, stageName: a.stageName, runtimeId: a.runtimeId, outcome: a.outcome, ...(a.reason ? { reason: a.reason } : {}) })),
    neverLaunched: [...queued].filter((t) => !launched.has(t)).length,
    killConfirmations: events.some((e) => e.type === "kill-confirmed" || e.type === "attempt-abandoned"),
  };
}

function speculated(attempts: readonly TimelineAttempt[]): JobReport["speculation"] {
  const tasks = new Map<string, TimelineAttempt[]>(attempts.filter((a) => a.cause === "speculation").map((a) => [a.taskId, []]));
  for (const a of attempts) tasks.get(a.taskId)?.push(a);
  return [...tasks].map(([taskId, list]) => {
    list.sort((a, b) => a.launchedAt - b.launchedAt);
    const winner = list.find((a) => a.outcome === "won")?.attemptId;
    return { taskId, stageName: list[0]!.stageName, attempts: list.map((a) => ({ attemptId: a.attemptId, cause: a.cause, outcome: a.outcome })), ...(winner ? { winner } : {}) };
  });
}
