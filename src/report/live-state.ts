/**
 * What the live page (`--ui`) shows at one moment, from the events so far: per-stage progress,
 * the attempts that changed since the page's last poll (the page keeps the rest), new log lines,
 * failures, and the running cost. One poll returns one batch, however many events came in
 * between: the stream to the page is batched by construction. Pure.
 */
import { costLine } from "./cost.js";
import type { EventInput } from "./event-input.js";
import { chartData, OUTCOME_COLORS } from "./html.js";
import { buildJobReport } from "./job-report.js";

export interface LiveLog {
  seq: number;
  line: string;
}

export interface LiveState {
  /** Pass back as `since` on the next poll. */
  seq: number;
  jobId: string;
  status: string;
  elapsedMs: number;
  stages: { name: string; tasks: number; succeeded: number; failed: number; running: number; attempts: number; retries: number; speculative: number; speculativeWon: number }[];
  lanes: string[];
  /** Timeline rows changed since `since` (all on the first poll), with their lane by name. */
  attempts: (ReturnType<typeof chartData>["attempts"][number] & { laneName: string })[];
  logs: string[];
  failures: { attemptId: string; message: string }[];
  jobError?: string;
  cost: string;
  colors: typeof OUTCOME_COLORS;
  stageColors: string[];
}

/**
 * @param changedAt the sequence number of the last event of each attempt
 * @param now the scheduler clock now (unfinished attempts are drawn up to it)
 */
export function liveState(input: EventInput, o: { seq: number; since: number; changedAt: ReadonlyMap<string, number>; logs: readonly LiveLog[]; backend: string; now: number }): LiveState {
  const report = buildJobReport(input, { backend: o.backend });
  const end = Math.max(report.end, o.now);
  for (const a of report.timeline.attempts) if (a.outcome === "unfinished") a.endedAt = end;
  const data = chartData({ ...report, end });
  const rows = data.attempts
    .map((a, i) => ({ ...a, laneName: report.timeline.lanes[a.lane] ?? "", i }))
    .filter((a) => o.since === 0 || (o.changedAt.get(a.id) ?? 0) > o.since || a.outcome === "unfinished")
    .map(({ i: _i, critical: _c, ...a }) => (report.status !== "unfinished" && _c ? { ...a, critical: true as const } : a)); // the critical path only once the job has ended
  const running = (stage: number) => report.timeline.attempts.filter((a) => a.stage === stage && a.outcome === "unfinished").length;
  return {
    seq: o.seq,
    jobId: report.jobId,
    status: report.status === "unfinished" ? "running" : report.status,
    elapsedMs: end - report.start,
    stages: report.stages.map((s) => ({ name: s.name, tasks: s.tasks, succeeded: s.tasksSucceeded, failed: s.tasksFailed, running: running(s.stage), attempts: s.attempts, retries: s.retries, speculative: s.speculative, speculativeWon: s.speculativeWon })),
    lanes: report.timeline.lanes,
    attempts: rows,
    logs: o.logs.filter((l) => l.seq > o.since).map((l) => l.line),
    failures: report.failure.attemptErrors.slice(-100).map((e) => ({ attemptId: e.attemptId, message: `${e.name}: ${e.message}` })),
    ...(report.failure.error ? { jobError: `${report.failure.error.name}: ${report.failure.error.message}` } : {}),
    cost: costLine(report.cost).replace(/^\[smelter\] /, ""),
    colors: OUTCOME_COLORS,
    stageColors: data.stageColors,
  };
}
