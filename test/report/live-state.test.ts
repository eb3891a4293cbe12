/** The live page's batches (live-state.ts) on a generated event stream: first poll everything, then only what changed; downsampling past the bar limit. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromJsonValues } from "../../src/report/event-input.js";
import { LiveFeed, MAX_FINISHED_BARS } from "../../src/report/live-state.js";
import { attemptId, jobEvents } from "../helpers/report-events.js";

const T0 = 1_000_000;

test("live state: per-stage progress, all attempts on the first poll, then only changed ones; unfinished drawn to now", () => {
  const all = fromJsonValues(
    jobEvents({
      end: T0 + 1000,
      stages: [1],
      tasks: { 1: 3 },
      attempts: [
        { stage: 1, task: 0, runtime: "thread-1", launched: T0, running: T0 + 10, ended: T0 + 100 },
        { stage: 1, task: 1, runtime: "thread-2", launched: T0, running: T0 + 10, ended: T0 + 300, outcome: "failed", message: "oops" },
        { stage: 1, task: 2, runtime: "thread-3", launched: T0, running: T0 + 10 },
      ],
    }).filter((e) => e.type !== "job-done"),
  ).events;
  const cut = all.findIndex((e) => e.type === "task-succeeded") + 1;
  const feed = new LiveFeed({ backend: "threads" });
  for (const e of all.slice(0, cut)) feed.add(e);
  const logs = [{ seq: 2, line: "early" }];
  const first = feed.state({ since: 0, now: T0 + 150, logs });
  assert.equal(first.status, "running");
  assert.equal(first.attempts.length, 3, "every attempt on the first poll");
  assert.deepEqual(first.stages.map((s) => [s.name, s.tasks, s.succeeded, s.running]), [["map", 3, 1, 2]]);
  assert.equal(first.attempts.find((a) => a.id === attemptId(1, 2, 1))!.ended, 150, "an unfinished attempt is drawn up to now");
  assert.deepEqual(first.logs, ["early"]);
  assert.equal(first.elapsedMs, 150);

  for (const e of all.slice(cut)) feed.add(e);
  logs.push({ seq: feed.seq, line: "late" });
  const next = feed.state({ since: first.seq, now: T0 + 400, logs });
  assert.deepEqual(next.attempts.map((a) => [a.id, a.outcome]).sort(), [[attemptId(1, 1, 1), "failed"], [attemptId(1, 2, 1), "unfinished"]], "only what changed since the last poll, and what still runs");
  assert.deepEqual(next.logs, ["late"]);
  assert.deepEqual(next.failures, [{ attemptId: attemptId(1, 1, 1), message: "Error: oops" }]);
  assert.ok(next.attempts.every((a) => next.lanes.includes(a.laneName)), "lanes by name");
  assert.match(next.cost, /^cost: \$/);
});

test("live state: past the bar limit the timeline is downsampled (every stride-th finished attempt, failures pinned), counters stay exact", () => {
  const feed = new LiveFeed({ backend: "lambda" });
  const base = { jobId: "j1", stage: 1, stageName: "map" };
  const stats = (t: number) => ({ wallMs: 5, cpuUserMs: 1, cpuSystemMs: 0, peakRssBytes: 0, loadAvg: { mean: 0, max: 0 }, counters: { readRequests: 1 }, startedAt: t, endedAt: t + 5 });
  const n = MAX_FINISHED_BARS * 3 + 17;
  for (let i = 0; i < n; i++) {
    const taskId = `j1-s01-t${String(i).padStart(5, "0")}`;
    const id = `${taskId}-a1`;
    const t = T0 + i;
    feed.add({ ...base, type: "task-queued", taskId, time: t });
    feed.add({ ...base, type: "attempt-launched", taskId, attemptId: id, runtimeId: "r", cause: "initial", time: t });
    feed.add({ ...base, type: "attempt-running", taskId, attemptId: id, runtimeId: "r", cold: false, time: t + 1 });
    if (i % 1000 === 7) feed.add({ ...base, type: "attempt-failed", taskId, attemptId: id, error: { name: "Error", message: `bad ${i}`, type: "Error", retryable: false } as never, retryable: false, stats: stats(t), time: t + 5 });
    else {
      feed.add({ ...base, type: "attempt-succeeded", taskId, attemptId: id, won: true, stats: stats(t), time: t + 5 });
      feed.add({ ...base, type: "task-succeeded", taskId, attemptId: id, time: t + 5 });
    }
  }
  const s = feed.state({ since: 0, now: T0 + n + 10, logs: [] });
  const failed = Math.ceil((n - 7) / 1000);
  assert.deepEqual(s.stages.map((x) => [x.tasks, x.succeeded, x.attempts, x.running]), [[n, n - failed, n, 0]]);
  assert.equal(s.finished, n);
  assert.ok(s.stride >= 4, `stride ${s.stride}`);
  assert.ok(s.attempts.length <= MAX_FINISHED_BARS + failed, `${s.attempts.length} bars`);
  assert.equal(s.shown, s.attempts.length);
  assert.ok(s.attempts.every((a) => a.pinned || a.ord! % s.stride === 0));
  assert.equal(s.attempts.filter((a) => a.outcome === "failed").length, failed, "every failure kept");
  assert.equal(s.lanes.length, 1, "one slot reused");
  assert.match(s.cost, /^cost: \$/);
  assert.match(s.cost, new RegExp(`${n.toLocaleString("en-US")} GET`), "cost counts every attempt, shown or not");
});
