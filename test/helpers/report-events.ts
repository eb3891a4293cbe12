/** Generates event streams for the report's tests: a job described attempt by attempt, as the scheduler would emit it. */
import type { AttemptCapacity } from "../../src/job/attempt.js";
import type { SmelterEvent } from "../../src/job/events.js";
import type { AttemptStats } from "../../src/job/stats.js";
import type { ReportEvent } from "../../src/report/event-input.js";
import { mulberry32 } from "../../src/job/runtime-context.js";

export interface AttemptSpec {
  stage: number;
  task: number;
  n?: number;
  runtime?: string;
  launched: number;
  /** Omit for an attempt that never ran. */
  running?: number;
  /** Omit for an attempt with no ending in the stream. */
  ended?: number;
  outcome?: "won" | "succeeded" | "failed" | "lost" | "cancelled";
  cause?: "initial" | "retry" | "speculation";
  of?: string;
  counters?: Record<string, number>;
  message?: string;
  retryable?: boolean;
  /** What it ran on, as its backend told in the running event. */
  capacity?: AttemptCapacity;
}

export const JOB = "jt0001";
export const stageName = (s: number) => (s === 1 ? "map" : s === 2 ? "reduce" : `s${s}`);
export const taskId = (s: number, t: number) => `${JOB}-s${String(s).padStart(2, "0")}-t${String(t).padStart(5, "0")}`;
export const attemptId = (s: number, t: number, n: number) => `${taskId(s, t)}-a${n}`;

export function stats(wallMs: number, counters: Record<string, number> = {}): AttemptStats {
  return { wallMs, cpuUserMs: wallMs / 2, cpuSystemMs: 0, peakRssBytes: 1e8, loadAvg: { mean: 1, max: 1 }, counters, startedAt: 0, endedAt: wallMs };
}

/** A whole job: job-started at `start`, stages, every attempt's events, task endings, job-done at `end`. */
export function jobEvents(o: { start?: number; end: number; stages: number[]; tasks: Record<number, number>; attempts: AttemptSpec[]; status?: "succeeded" | "failed" | "cancelled"; error?: string; extra?: ReportEvent[] }): ReportEvent[] {
  const start = o.start ?? 1_000_000;
  const out: ReportEvent[] = [{ type: "job-started", time: start, jobId: JOB, name: "test job" }];
  for (const s of o.stages) {
    out.push({ type: "stage-started", time: start, jobId: JOB, stage: s, stageName: stageName(s), worker: `w.${stageName(s)}` });
    for (let t = 0; t < (o.tasks[s] ?? 0); t++) out.push({ type: "task-queued", time: start, jobId: JOB, stage: s, stageName: stageName(s), taskId: taskId(s, t) });
  }
  for (const a of o.attempts) {
    const n = a.n ?? 1;
    const base = { jobId: JOB, stage: a.stage, stageName: stageName(a.stage), taskId: taskId(a.stage, a.task), attemptId: attemptId(a.stage, a.task, n) };
    const runtime = a.runtime ?? "thread-1";
    const cause = a.cause ?? (n > 1 ? "retry" : "initial");
    out.push({ type: "attempt-launched", time: a.launched, ...base, runtimeId: a.running === undefined ? "pool-pending" : runtime, cause, ...(cause === "speculation" ? { rule: "slowerThanMedian" as const } : {}) });
    if (cause === "speculation") out.push({ type: "speculation-launched", time: a.launched, ...base, rule: "slowerThanMedian", of: a.of ?? attemptId(a.stage, a.task, 1) });
    if (a.running !== undefined) out.push({ type: "attempt-running", time: a.running, ...base, runtimeId: runtime, cold: false, ...(a.capacity ? { capacity: a.capacity } : {}) });
    if (a.ended === undefined) continue;
    const outcome = a.outcome ?? "won";
    if (outcome === "won" || outcome === "succeeded") {
      out.push({ type: "attempt-succeeded", time: a.ended, ...base, stats: stats(a.ended - (a.running ?? a.launched), a.counters), won: outcome === "won" });
      if (outcome === "won") out.push({ type: "task-succeeded", time: a.ended, jobId: JOB, stage: a.stage, stageName: stageName(a.stage), taskId: base.taskId, attemptId: base.attemptId });
    } else if (outcome === "failed") {
      out.push({ type: "attempt-failed", time: a.ended, ...base, error: { name: "Error", type: "Error", message: a.message ?? `boom in ${base.attemptId}`, nonRetryable: !(a.retryable ?? true) }, retryable: a.retryable ?? true, stats: stats(a.ended - (a.running ?? a.launched), a.counters) });
    } else {
      out.push({ type: "attempt-cancelled", time: a.ended, ...base, reason: outcome === "lost" ? `lost the race to ${a.of ?? "another attempt"}` : (a.message ?? "job cancelled") });
    }
  }
  out.push(...(o.extra ?? []));
  const status = o.status ?? "succeeded";
  out.push({ type: "job-done", time: o.end, jobId: JOB, status, ...(o.error ? { error: { name: "TaskFailedError", type: "TaskFailed", message: o.error, nonRetryable: true } } : {}) } as SmelterEvent);
  return out.sort((a, b) => a.time - b.time);
}

/** A deterministic pseudo-random generator: the runtime context's mulberry32. */
export const prng = mulberry32;

/**
 * A generated job of `tasks` map tasks on `slots` slots (each slot runs its tasks back to back),
 * where every 10th task fails once and is retried, every 25th is a straggler duplicated by
 * speculation on another slot (the duplicate wins), then one reduce task after the last map.
 */
export function generatedJob(tasks: number, slots: number, seed = 1): { events: ReportEvent[]; attempts: AttemptSpec[]; reduceEnd: number } {
  const rand = prng(seed);
  const start = 1_000_000;
  const free = new Array<number>(slots).fill(start + 5);
  const attempts: AttemptSpec[] = [];
  const nextSlot = () => free.indexOf(Math.min(...free));
  const run = (spec: Omit<AttemptSpec, "launched" | "running" | "ended" | "runtime">, ms: number, at?: number) => {
    const slot = nextSlot();
    const launched = Math.max(free[slot]!, at ?? 0);
    const a: AttemptSpec = { ...spec, runtime: `thread-${slot + 1}`, launched, running: launched + 2, ended: launched + 2 + ms };
    free[slot] = a.ended!;
    attempts.push(a);
    return a;
  };
  for (let t = 0; t < tasks; t++) {
    const ms = 100 + Math.floor(rand() * 100);
    const counters = { bytesRead: 1000 * (t + 1), readRequests: 2, bytesWritten: 10, writeRequests: 1 };
    if (t % 10 === 3) {
      const f = run({ stage: 1, task: t, outcome: "failed", message: `flaky map ${t}` }, ms / 2);
      run({ stage: 1, task: t, n: 2, counters }, ms, f.ended! + 10);
    } else if (t % 25 === 7) {
      const original = run({ stage: 1, task: t, outcome: "lost" }, ms * 10);
      const dup = run({ stage: 1, task: t, n: 2, cause: "speculation", counters }, ms, original.launched + ms * 2);
      original.ended = dup.ended;
      original.of = attemptId(1, t, 2);
      free[Number(original.runtime!.slice(7)) - 1] = dup.ended!;
    } else run({ stage: 1, task: t, counters }, ms);
  }
  const lastMap = Math.max(...attempts.map((a) => a.ended!));
  const reduce: AttemptSpec = { stage: 2, task: 0, runtime: `thread-${slots + 1}`, launched: start + 10, running: start + 12, ended: lastMap + 50, counters: { bytesRead: 5, readRequests: tasks, writeRequests: 1, bytesWritten: 100 } };
  attempts.push(reduce);
  const events = jobEvents({ start, end: reduce.ended! + 1, stages: [1, 2], tasks: { 1: tasks, 2: 1 }, attempts });
  return { events, attempts, reduceEnd: reduce.ended! };
}
