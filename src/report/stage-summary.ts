/**
 * Per-stage facts for the report and the `stages` table: attempts by cause and outcome, task
 * durations (histogram, median, slowest, skew), bytes and requests to storage, rows in and out
 * where the tasks count them. Pure functions over the timeline.
 */
import type { ReportEvent } from "./event-input.js";
import { runMs, type TimelineAttempt } from "./timeline.js";

export interface Histogram {
  /** Bin edges, ms: bin i is [edges[i], edges[i+1]). */
  edges: number[];
  counts: number[];
}

export interface StageSummary {
  stage: number;
  name: string;
  worker?: string;
  tasks: number;
  tasksSucceeded: number;
  tasksFailed: number;
  attempts: number;
  retries: number;
  speculative: number;
  /** Speculative duplicates whose result was used. */
  speculativeWon: number;
  failedAttempts: number;
  /** Attempts cancelled because another attempt of their task won. */
  lostAttempts: number;
  cancelledAttempts: number;
  abandonedAttempts: number;
  unfinishedAttempts: number;
  /** First launch to last ending, ms. */
  elapsedMs: number;
  /** Running time of the winning attempts, ms. */
  medianTaskMs: number;
  p95TaskMs: number;
  maxTaskMs: number;
  /** Slowest / median task: 1 is perfectly even. */
  skew: number;
  /** The slowest winning attempt. */
  slowestAttempt?: string;
  histogram: Histogram;
  /** Running time of every attempt, ms (what compute is billed on). */
  attemptMs: number;
  /** Running time of attempts whose work was not used (failed, lost, cancelled, abandoned, late successes), ms. */
  wastedMs: number;
  bytesRead: number;
  bytesWritten: number;
  readRequests: number;
  writeRequests: number;
  /** Summed `rowsIn` / `rowsOut` counters of the winning attempts, when the tasks count them. */
  rowsIn?: number;
  rowsOut?: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Equal-width bins over [0, max] with a "nice" width (1, 2 or 5 x 10^k ms), at most `maxBins`. */
export function histogram(values: readonly number[], maxBins = 20): Histogram {
  if (values.length === 0) return { edges: [], counts: [] };
  const max = values.reduce((m, v) => Math.max(m, v), 0);
  const raw = Math.max(max, 1) / maxBins;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((m) => m * pow).find((w) => w >= raw)!;
  const bins = Math.max(1, Math.floor(max / width) + 1);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(v / width))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i * width), counts };
}

export function summarizeStages(events: readonly ReportEvent[], attempts: readonly TimelineAttempt[]): StageSummary[] {
  const meta = new Map<number, { name: string; worker?: string; tasks: Set<string>; succeeded: Set<string>; failed: Set<string> }>();
  const stageMeta = (stage: number, name: string) => {
    let m = meta.get(stage);
    if (!m) meta.set(stage, (m = { name, tasks: new Set(), succeeded: new Set(), failed: new Set() }));
    return m;
  };
  for (const e of events) {
    if (e.type === "stage-started") stageMeta(e.stage, e.stageName).worker = e.worker;
    else if (e.type === "task-queued") stageMeta(e.stage, e.stageName).tasks.add(e.taskId);
    else if (e.type === "task-succeeded") stageMeta(e.stage, e.stageName).succeeded.add(e.taskId);
    else if (e.type === "task-failed") stageMeta(e.stage, e.stageName).failed.add(e.taskId);
  }
  const byStage = new Map<number, TimelineAttempt[]>();
  for (const a of attempts) {
    stageMeta(a.stage, a.stageName).tasks.add(a.taskId);
    const list = byStage.get(a.stage);
    if (list) list.push(a);
    else byStage.set(a.stage, [a]);
  }
  return [...meta.entries()].sort(([a], [b]) => a - b).map(([stage, m]) => summarize(stage, m, byStage.get(stage) ?? []));
}

function summarize(stage: number, m: { name: string; worker?: string; tasks: Set<string>; succeeded: Set<string>; failed: Set<string> }, attempts: TimelineAttempt[]): StageSummary {
  const winners = attempts.filter((a) => a.outcome === "won");
  const durations = winners.map(runMs).sort((a, b) => a - b);
  const median = quantile(durations, 0.5);
  const max = durations.at(-1) ?? 0;
  const slowest = winners.reduce<TimelineAttempt | undefined>((s, a) => (!s || runMs(a) > runMs(s) ? a : s), undefined);
  const count = (o: TimelineAttempt["outcome"]) => attempts.filter((a) => a.outcome === o).length;
  const sum = (list: TimelineAttempt[], k: string) => list.reduce((s, a) => s + (a.counters[k] ?? 0), 0);
  const has = (k: string) => winners.some((a) => k in a.counters);
  const first = attempts.reduce((m, a) => Math.min(m, a.launchedAt), Infinity);
  const last = attempts.reduce((m, a) => Math.max(m, a.endedAt), -Infinity);
  return {
    stage,
    name: m.name,
    ...(m.worker ? { worker: m.worker } : {}),
    tasks: m.tasks.size,
    tasksSucceeded: m.succeeded.size,
    tasksFailed: m.failed.size,
    attempts: attempts.length,
    retries: attempts.filter((a) => a.cause === "retry").length,
    speculative: attempts.filter((a) => a.cause === "speculation").length,
    speculativeWon: winners.filter((a) => a.cause === "speculation").length,
    failedAttempts: count("failed"),
    lostAttempts: count("lost"),
    cancelledAttempts: count("cancelled"),
    abandonedAttempts: count("abandoned"),
    unfinishedAttempts: count("unfinished"),
    elapsedMs: attempts.length ? last - first : 0,
    medianTaskMs: median,
    p95TaskMs: quantile(durations, 0.95),
    maxTaskMs: max,
    skew: median > 0 ? max / median : durations.length ? 1 : 0,
    ...(slowest ? { slowestAttempt: slowest.attemptId } : {}),
    histogram: histogram(durations),
    attemptMs: attempts.reduce((s, a) => s + runMs(a), 0),
    wastedMs: attempts.filter((a) => a.outcome !== "won").reduce((s, a) => s + runMs(a), 0),
    bytesRead: sum(attempts, "bytesRead"),
    bytesWritten: sum(attempts, "bytesWritten"),
    readRequests: sum(attempts, "readRequests"),
    writeRequests: sum(attempts, "writeRequests"),
    ...(has("rowsIn") ? { rowsIn: sum(winners, "rowsIn") } : {}),
    ...(has("rowsOut") ? { rowsOut: sum(winners, "rowsOut") } : {}),
  };
}
