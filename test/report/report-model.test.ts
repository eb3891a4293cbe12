/** The job report's computations on generated event streams: timeline, stages, critical path, series. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { criticalPath } from "../../src/report/critical-path.js";
import { fromJsonValues } from "../../src/report/event-input.js";
import { buildJobReport } from "../../src/report/job-report.js";
import { timeSeries } from "../../src/report/series.js";
import { histogram, quantile, summarizeStages } from "../../src/report/stage-summary.js";
import { buildTimeline, runMs } from "../../src/report/timeline.js";
import { attemptId, generatedJob, JOB, jobEvents, stats, taskId } from "../helpers/report-events.js";

const T0 = 1_000_000;

test("timeline: phases, outcomes and lanes of every attempt", () => {
  const events = jobEvents({
    end: T0 + 1000,
    stages: [1],
    tasks: { 1: 3 },
    attempts: [
      { stage: 1, task: 0, runtime: "thread-2", launched: T0 + 10, running: T0 + 30, ended: T0 + 200 },
      { stage: 1, task: 1, runtime: "thread-10", launched: T0 + 10, running: T0 + 20, ended: T0 + 100, outcome: "failed", message: "disk full" },
      { stage: 1, task: 1, n: 2, runtime: "thread-10", launched: T0 + 150, running: T0 + 150, ended: T0 + 300 },
      { stage: 1, task: 2, runtime: "thread-2", launched: T0 + 200, running: T0 + 210, ended: T0 + 900, outcome: "lost", of: attemptId(1, 2, 2) },
      { stage: 1, task: 2, n: 2, cause: "speculation", runtime: "thread-10", launched: T0 + 400, running: T0 + 400, ended: T0 + 800 },
      { stage: 1, task: 2, n: 3, cause: "speculation", launched: T0 + 500, ended: T0 + 800, outcome: "cancelled" },
    ],
  });
  const tl = buildTimeline(events);
  assert.deepEqual(tl.lanes, ["thread-2", "thread-10", "waiting 1"], "runtime lanes in natural order, then an extra lane for the attempt that never ran");
  const by = new Map(tl.attempts.map((a) => [a.attemptId, a]));
  const a = (s: number, t: number, n: number) => by.get(attemptId(s, t, n))!;
  assert.equal(a(1, 0, 1).outcome, "won");
  assert.equal(a(1, 0, 1).launchedAt, T0 + 10);
  assert.equal(a(1, 0, 1).runningAt, T0 + 30);
  assert.equal(runMs(a(1, 0, 1)), 170);
  assert.equal(a(1, 1, 1).outcome, "failed");
  assert.equal(a(1, 1, 1).error?.message, "disk full");
  assert.equal(a(1, 1, 2).cause, "retry");
  assert.equal(a(1, 2, 1).outcome, "lost");
  assert.equal(a(1, 2, 2).duplicateOf, attemptId(1, 2, 1));
  assert.equal(a(1, 2, 3).outcome, "cancelled");
  assert.equal(a(1, 2, 3).runningAt, undefined);
  assert.equal(tl.lanes[a(1, 2, 3).lane], "waiting 1");
  assert.equal(tl.lanes[a(1, 2, 2).lane], "thread-10");
});

test("timeline: kill confirmations end an attempt late; abandoned kills and attempts with no ending are told apart", () => {
  const base = (t: number) => ({ jobId: JOB, stage: 1, stageName: "map", taskId: taskId(1, t), attemptId: attemptId(1, t, 1) });
  const events = jobEvents({
    end: T0 + 5000,
    status: "cancelled",
    stages: [1],
    tasks: { 1: 3 },
    attempts: [
      { stage: 1, task: 0, runtime: "pid-1", launched: T0, running: T0 + 5, ended: T0 + 1000, outcome: "cancelled", message: "interrupted" },
      { stage: 1, task: 1, runtime: "pid-2", launched: T0, running: T0 + 5, ended: T0 + 1000, outcome: "cancelled", message: "interrupted" },
      { stage: 1, task: 2, runtime: "pid-3", launched: T0, running: T0 + 5 },
    ],
    extra: [
      { type: "kill-confirmed", time: T0 + 1400, ...base(0), stats: stats(1400) },
      { type: "attempt-abandoned", time: T0 + 4000, ...base(1), reason: "no confirmation within cancelTimeout", stats: stats(1000) },
    ],
  });
  const report = buildJobReport(fromJsonValues(events));
  const by = new Map(report.timeline.attempts.map((a) => [a.taskId, a]));
  assert.equal(by.get(taskId(1, 0))!.outcome, "cancelled");
  assert.equal(by.get(taskId(1, 0))!.killRequestedAt, T0 + 1000);
  assert.equal(by.get(taskId(1, 0))!.endedAt, T0 + 1400, "the slot is held until the kill is confirmed");
  assert.equal(by.get(taskId(1, 1))!.outcome, "abandoned");
  assert.equal(by.get(taskId(1, 2))!.outcome, "unfinished");
  assert.equal(by.get(taskId(1, 2))!.endedAt, T0 + 5000, "drawn up to the stream's end");
  assert.deepEqual(report.failure.leftBehind.map((l) => [l.attemptId, l.outcome]), [[attemptId(1, 1, 1), "abandoned"], [attemptId(1, 2, 1), "unfinished"]]);
  assert.equal(report.status, "cancelled");
});

test("histogram: nice bin widths over [0, max], every value counted once", () => {
  const h = histogram([0, 5, 12, 19, 20, 99, 100], 10);
  assert.deepEqual(h.edges.slice(0, 3), [0, 10, 20]);
  assert.equal(h.counts.reduce((s, c) => s + c, 0), 7);
  assert.equal(h.counts[0], 2);
  assert.equal(h.counts[1], 2);
  assert.equal(h.counts.at(-1), 1, "100 lands in the last bin");
  assert.deepEqual(histogram([]), { edges: [], counts: [] });
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
});

test("stages: counts, durations, skew and storage counters match the generated job", () => {
  const { events, attempts } = generatedJob(100, 4);
  const input = fromJsonValues(events);
  const [map, reduce] = summarizeStages(input.events, buildTimeline(input.events).attempts);
  assert.ok(map && reduce);
  const mapSpecs = attempts.filter((a) => a.stage === 1);
  assert.equal(map.name, "map");
  assert.equal(map.worker, "w.map");
  assert.equal(map.tasks, 100);
  assert.equal(map.tasksSucceeded, 100);
  assert.equal(map.attempts, mapSpecs.length);
  assert.equal(map.failedAttempts, 10, "every 10th task failed once");
  assert.equal(map.retries, 10);
  assert.equal(map.speculative, 4, "tasks 7, 32, 57, 82");
  assert.equal(map.speculativeWon, 4);
  assert.equal(map.lostAttempts, 4);
  const winners = mapSpecs.filter((a) => (a.outcome ?? "won") === "won").map((a) => a.ended! - a.running!).sort((x, y) => x - y);
  assert.equal(map.maxTaskMs, winners.at(-1));
  assert.equal(map.medianTaskMs, quantile(winners, 0.5));
  assert.equal(map.skew, winners.at(-1)! / quantile(winners, 0.5));
  assert.equal(map.histogram.counts.reduce((s, c) => s + c, 0), 100);
  assert.equal(map.bytesRead, mapSpecs.reduce((s, a) => s + (a.counters?.bytesRead ?? 0), 0));
  assert.equal(map.readRequests, 200);
  assert.equal(map.writeRequests, 100);
  assert.equal(map.rowsIn, undefined, "no rows counters: not shown as 0");
  assert.equal(reduce.tasks, 1);
  assert.equal(reduce.readRequests, 100);
});

test("stages: rows in and out are summed from the winners when tasks count them", () => {
  const events = jobEvents({
    end: T0 + 1000,
    stages: [1],
    tasks: { 1: 2 },
    attempts: [
      { stage: 1, task: 0, launched: T0, running: T0, ended: T0 + 100, counters: { rowsIn: 10, rowsOut: 3 } },
      { stage: 1, task: 1, launched: T0, running: T0, ended: T0 + 100, counters: { rowsIn: 5, rowsOut: 2 } },
      { stage: 1, task: 1, n: 2, cause: "speculation", launched: T0 + 50, running: T0 + 50, ended: T0 + 120, outcome: "succeeded", counters: { rowsIn: 5, rowsOut: 2 } },
    ],
  });
  const [s] = summarizeStages(events, buildTimeline(events).attempts);
  assert.equal(s!.rowsIn, 15);
  assert.equal(s!.rowsOut, 5);
  assert.equal(s!.wastedMs, 70, "the late success's running time");
});

test("critical path: the straggling map task, then the reduce that waited for it", () => {
  const events = jobEvents({
    end: T0 + 2100,
    stages: [1, 2],
    tasks: { 1: 3, 2: 1 },
    attempts: [
      { stage: 1, task: 0, runtime: "thread-1", launched: T0, running: T0, ended: T0 + 100 },
      { stage: 1, task: 1, runtime: "thread-2", launched: T0, running: T0, ended: T0 + 1500 },
      { stage: 1, task: 2, runtime: "thread-1", launched: T0 + 100, running: T0 + 100, ended: T0 + 300 },
      { stage: 2, task: 0, runtime: "thread-3", launched: T0 + 10, running: T0 + 10, ended: T0 + 2000 },
    ],
  });
  const path = criticalPath(buildTimeline(events).attempts);
  assert.deepEqual(path.map((s) => [s.taskId, s.then]), [[taskId(1, 1), "input"], [taskId(2, 0), "end"]]);
});

test("critical path: in one stage on few slots, the chain of tasks that freed each slot", () => {
  const events = jobEvents({
    end: T0 + 1000,
    stages: [1],
    tasks: { 1: 4 },
    attempts: [
      { stage: 1, task: 0, runtime: "thread-1", launched: T0, running: T0, ended: T0 + 300 },
      { stage: 1, task: 1, runtime: "thread-2", launched: T0, running: T0, ended: T0 + 100 },
      { stage: 1, task: 2, runtime: "thread-2", launched: T0 + 101, running: T0 + 101, ended: T0 + 200 },
      { stage: 1, task: 3, runtime: "thread-2", launched: T0 + 300, running: T0 + 301, ended: T0 + 900 },
    ],
  });
  const path = criticalPath(buildTimeline(events).attempts);
  assert.deepEqual(path.map((s) => s.taskId), [taskId(1, 0), taskId(1, 3)], "task 3 was launched the moment task 0 ended: it waited for a slot");
  assert.deepEqual(path.map((s) => s.then), ["slot", "end"]);
});

test("critical path: a task's retries are part of its step; a failed job's path ends at the failure", () => {
  const { events } = generatedJob(40, 3, 7);
  const report = buildJobReport(fromJsonValues(events));
  const last = report.criticalPath.at(-1)!;
  assert.equal(last.taskId, taskId(2, 0), "the reduce ended the job");
  assert.equal(last.then, "end");
  const prev = report.criticalPath.at(-2)!;
  assert.equal(prev.stageName, "map");
  assert.equal(prev.then, "input");
  assert.equal(prev.end, Math.max(...report.timeline.attempts.filter((a) => a.stage === 1 && a.outcome === "won").map((a) => a.endedAt)), "the last map to finish");
  for (let i = 1; i < report.criticalPath.length; i++) assert.ok(report.criticalPath[i - 1]!.end <= report.criticalPath[i]!.end, "steps in time order");

  const failed = jobEvents({
    end: T0 + 600,
    status: "failed",
    error: "task failed for good",
    stages: [1],
    tasks: { 1: 2 },
    attempts: [
      { stage: 1, task: 0, runtime: "thread-1", launched: T0, running: T0, ended: T0 + 100, outcome: "failed" },
      { stage: 1, task: 0, n: 2, runtime: "thread-1", launched: T0 + 200, running: T0 + 200, ended: T0 + 500, outcome: "failed", retryable: false, message: "bad row 7" },
      { stage: 1, task: 1, runtime: "thread-2", launched: T0, running: T0, ended: T0 + 510, outcome: "cancelled", message: "task failed" },
    ],
  });
  const f = buildJobReport(fromJsonValues(failed));
  assert.deepEqual(f.criticalPath.map((s) => [s.taskId, s.attempts, s.start, s.end]), [[taskId(1, 0), 2, T0, T0 + 500]]);
  assert.equal(f.failure.error?.message, "task failed for good");
  assert.deepEqual(f.failure.attemptErrors.map((e) => [e.attemptId, e.message, e.retryable]), [[attemptId(1, 0, 1), `boom in ${attemptId(1, 0, 1)}`, true], [attemptId(1, 0, 2), "bad row 7", false]]);
});

test("series: running attempts integrate to the attempts' running time; every winner counted once", () => {
  const { events } = generatedJob(60, 3, 3);
  const tl = buildTimeline(events);
  const s = timeSeries(tl.attempts, tl.start, tl.end, 50);
  assert.ok(s.t.length <= 50 + 1);
  const runningMs = s.running.reduce((x, y) => x + y, 0) * s.bucketMs;
  const expected = tl.attempts.reduce((x, a) => x + runMs(a), 0);
  assert.ok(Math.abs(runningMs - expected) < 1e-6 * expected, `${runningMs} vs ${expected}`);
  const done = s.tasksPerSecond.reduce((x, y) => x + y, 0) * (s.bucketMs / 1000);
  assert.ok(Math.abs(done - 61) < 1e-9, "60 maps and 1 reduce");
  const read = s.bytesReadPerSecond.reduce((x, y) => x + y, 0) * (s.bucketMs / 1000);
  const bytes = tl.attempts.reduce((x, a) => x + (a.counters.bytesRead ?? 0), 0);
  assert.ok(Math.abs(read - bytes) < 1e-6 * bytes);
  assert.ok(Math.max(...s.running) <= 4 + 1e-9, "never more than the 4 slots");
});

test("speculation: each duplicated task lists its attempts and the winner", () => {
  const { events } = generatedJob(30, 3);
  const r = buildJobReport(fromJsonValues(events));
  assert.deepEqual(r.speculation.map((s) => [s.taskId, s.winner]), [[taskId(1, 7), attemptId(1, 7, 2)]]);
  assert.deepEqual(r.speculation[0]!.attempts.map((a) => [a.cause, a.outcome]), [["initial", "lost"], ["speculation", "won"]]);
});

test("timeline: an attempt the backend refused for capacity is shown as no-capacity, costs no running time, and its relaunch runs", () => {
  const base = { jobId: JOB, stage: 1, stageName: "map", taskId: taskId(1, 0) };
  const events = jobEvents({
    end: T0 + 1000,
    stages: [1],
    tasks: { 1: 1 },
    attempts: [{ stage: 1, task: 0, n: 2, runtime: "lambda-1", launched: T0 + 300, running: T0 + 320, ended: T0 + 700 }],
    extra: [
      { type: "attempt-launched", time: T0 + 10, ...base, attemptId: attemptId(1, 0, 1), runtimeId: "lambda-pending", cause: "initial" },
      { type: "attempt-no-capacity", time: T0 + 20, ...base, attemptId: attemptId(1, 0, 1), reason: "429 TooManyRequestsException", refusals: 1, delayMs: 250, relaunch: true, stats: stats(0) },
    ],
  });
  const tl = buildTimeline(fromJsonValues(events).events);
  const refused = tl.attempts.find((a) => a.attemptId === attemptId(1, 0, 1))!;
  assert.equal(refused.outcome, "no-capacity");
  assert.equal(refused.reason, "429 TooManyRequestsException");
  assert.equal(runMs(refused), 0);
  assert.equal(tl.attempts.find((a) => a.attemptId === attemptId(1, 0, 2))!.outcome, "won");
});
