/** The live page's batches (live-state.ts) on a generated event stream: first poll everything, then only what changed. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromJsonValues } from "../../src/report/event-input.js";
import { liveState } from "../../src/report/live-state.js";
import { attemptId, jobEvents } from "../helpers/report-events.js";

const T0 = 1_000_000;

test("live state: per-stage progress, all attempts on the first poll, then only changed ones; unfinished drawn to now", () => {
  const all = jobEvents({
    end: T0 + 1000,
    stages: [1],
    tasks: { 1: 3 },
    attempts: [
      { stage: 1, task: 0, runtime: "thread-1", launched: T0, running: T0 + 10, ended: T0 + 100 },
      { stage: 1, task: 1, runtime: "thread-2", launched: T0, running: T0 + 10, ended: T0 + 300, outcome: "failed", message: "oops" },
      { stage: 1, task: 2, runtime: "thread-3", launched: T0, running: T0 + 10 },
    ],
  }).filter((e) => e.type !== "job-done");
  // seq = index + 1 of each event, as the server numbers them
  const changedAt = new Map<string, number>();
  all.forEach((e, i) => "attemptId" in e && changedAt.set(e.attemptId, i + 1));
  const cut = all.findIndex((e) => e.type === "task-succeeded") + 1;
  const logs = [{ seq: 2, line: "early" }, { seq: all.length, line: "late" }];
  const first = liveState(fromJsonValues(all.slice(0, cut)), { seq: cut, since: 0, changedAt, logs: logs.slice(0, 1), backend: "threads", now: T0 + 150 });
  assert.equal(first.status, "running");
  assert.equal(first.attempts.length, 3, "every attempt on the first poll");
  assert.deepEqual(first.stages.map((s) => [s.name, s.tasks, s.succeeded, s.running]), [["map", 3, 1, 2]]);
  assert.equal(first.attempts.find((a) => a.id === attemptId(1, 2, 1))!.ended, 150, "an unfinished attempt is drawn up to now");
  assert.deepEqual(first.logs, ["early"]);
  assert.equal(first.elapsedMs, 150);

  const next = liveState(fromJsonValues(all), { seq: all.length, since: cut, changedAt, logs, backend: "threads", now: T0 + 400 });
  assert.deepEqual(next.attempts.map((a) => [a.id, a.outcome]).sort(), [[attemptId(1, 1, 1), "failed"], [attemptId(1, 2, 1), "unfinished"]], "only what changed since the last poll, and what still runs");
  assert.deepEqual(next.logs, ["late"]);
  assert.deepEqual(next.failures, [{ attemptId: attemptId(1, 1, 1), message: "Error: oops" }]);
  assert.ok(next.attempts.every((a) => next.lanes[next.lanes.indexOf(a.laneName)] === a.laneName && a.critical === undefined), "lanes by name; no critical path while running");
  assert.match(next.cost, /^cost: \$/);
});
