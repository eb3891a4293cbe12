/** The scheduler on real thread and process pools: retries, speculation and cancel kill real workers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { TaskFailedError } from "../../src/job/errors.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { Manager } from "../../src/scheduler/manager.js";

const entry = new URL("../fixtures/scheduler-workers.js", import.meta.url);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function pids(events: SmelterEvent[]): number[] {
  return events.flatMap((e) => (e.type === "attempt-running" && e.runtimeId.startsWith("pid-") ? [Number(e.runtimeId.slice(4))] : []));
}

test("threads: a thrown error is retried and the job succeeds", async () => {
  const manager = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
  try {
    const job = manager.job({ policy: { retry: { initialInterval: 10 } } });
    const stage = job.stage<number, number>({ worker: "sched.flakyOnce" });
    void stage.pushAll([1, 2, 3]);
    const results = await stage.collect();
    await job.wait();
    assert.deepEqual(results.map((r) => r.output), [2, 4, 6]);
    assert.ok(results.every((r) => r.attempts === 2 && r.attemptId.endsWith("-a2")));
  } finally {
    await manager.close();
  }
});

test("processes: a straggler is duplicated, the duplicate wins, the original's process is killed", async () => {
  const manager = new Manager({ backend: processesBackend({ entry, workers: 3, killGraceMs: 100 }) });
  const events: SmelterEvent[] = [];
  try {
    const job = manager.job({ policy: { speculation: { afterPercent: 75 } } });
    job.events.on((e) => events.push(e));
    const stage = job.stage<{ n: number; straggler?: boolean }, { n: number; attempt: number }>({ worker: "sched.straggler" });
    void stage.pushAll([{ n: 0 }, { n: 1 }, { n: 2, straggler: true }, { n: 3 }]);
    const results = await stage.collect();
    await job.wait();
    assert.deepEqual(results.map((r) => r.output.n), [0, 1, 2, 3]);
    assert.equal(results[2]!.output.attempt, 2, "the duplicate's result is used");
    const cancelled = events.find((e) => e.type === "attempt-cancelled");
    assert.ok(cancelled && cancelled.type === "attempt-cancelled" && /lost the race/.test(cancelled.reason));
    const loser = events.find((e): e is Extract<SmelterEvent, { type: "attempt-running" }> => e.type === "attempt-running" && e.attemptId === cancelled.attemptId);
    assert.ok(loser);
    assert.equal(alive(Number(loser.runtimeId.slice(4))), false, "the straggler's process was killed");
  } finally {
    await manager.close();
  }
});

test("processes: a permanent failure kills every running attempt before wait() rejects", async () => {
  const manager = new Manager({ backend: processesBackend({ entry, workers: 3, killGraceMs: 100 }) });
  const events: SmelterEvent[] = [];
  try {
    const job = manager.job();
    job.events.on((e) => events.push(e));
    const stage = job.stage({ worker: "sched.hangOrFail" });
    void stage.pushAll([{}, {}, { fail: true }, {}, {}]);
    await assert.rejects(job.wait(), (err: unknown) => err instanceof TaskFailedError && /never work/.test(err.message));
    assert.equal(events.filter((e) => e.type === "attempt-launched").length, 3, "queued tasks were never launched");
    const cancelled = new Set(events.flatMap((e) => (e.type === "attempt-cancelled" ? [e.attemptId] : [])));
    const hung = pids(events.filter((e) => "attemptId" in e && cancelled.has(e.attemptId)));
    assert.ok(hung.length >= 2, "the hanging attempts were running");
    for (const pid of hung) assert.equal(alive(pid), false, `pid ${pid} was stopped before wait() rejected`);
    assert.equal(events.at(-1)?.type, "job-done");
  } finally {
    await manager.close();
  }
});
