import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, TaskFailedError } from "../../src/job/errors.js";
import { EventBus, type SmelterEvent } from "../../src/job/events.js";
import { VirtualClock } from "../../src/scheduler/clock.js";
import { Manager } from "../../src/scheduler/manager.js";
import { ofType, runToEnd, setup } from "../helpers/scheduler-setup.js";
import { ScriptedBackend } from "../helpers/scripted-backend.js";

test("startTimeout: an attempt pending too long is killed and retried", async () => {
  const { clock, backend, job, events, start } = setup((e) => (e.attempt === 1 ? { pendingMs: 5_000 } : { pendingMs: 10 }));
  const stage = job.stage({ worker: "w", policy: { timeouts: { startTimeout: 1_000 }, retry: { initialInterval: 0, jitter: 0 } } });
  stage.push(1);
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  const [a1, a2] = backend.of(0);
  assert.equal(a1!.killedAt! - start, 1_000);
  assert.equal(a2!.at - start, 1_000);
  assert.equal(ofType(events, "attempt-failed")[0]!.error.type, "StartTimeout");
});

test("heartbeatTimeout: a silent attempt is lost and retried; a beating one is not", async () => {
  const { clock, backend, job, events, start } = setup((e) =>
    e.input === "silent" && e.attempt === 1 ? { runMs: 60_000 } : { runMs: 5_000, heartbeatEveryMs: 500 },
  );
  const stage = job.stage({ worker: "w", policy: { timeouts: { heartbeatTimeout: 2_000 }, retry: { initialInterval: 100, jitter: 0 } } });
  stage.push("silent");
  stage.push("beating");
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  assert.equal(backend.of(0).length, 2);
  assert.equal(backend.of(0)[0]!.killedAt! - start, 2_000);
  assert.equal(backend.of(1).length, 1, "heartbeats keep it alive");
  const lost = ofType(events, "attempt-failed").filter((e) => e.error.type === "AttemptLost");
  assert.equal(lost.length, 1);
  assert.ok(ofType(events, "heartbeat").length >= 9);
});

test("attemptTimeout: an attempt running too long is killed and retried", async () => {
  const { clock, backend, job } = setup((e) => (e.attempt === 1 ? { runMs: Infinity } : { runMs: 10 }));
  const stage = job.stage({ worker: "w", policy: { timeouts: { attemptTimeout: "3s" }, retry: { initialInterval: 0, jitter: 0 } } });
  stage.push(1);
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  assert.equal(backend.of(0).length, 2);
  assert.match(backend.of(0)[0]!.killReason!, /attemptTimeout/);
});

test("a permanent failure cancels the job: nothing new launches, every attempt is killed, wait() rejects only after all stopped", async () => {
  const { clock, backend, job, start } = setup((e) => (e.task === 0 ? { runMs: 100, error: { message: "boom", nonRetryable: true } } : { runMs: Infinity, killDelayMs: 500 }), { maxConcurrentTasks: 4 });
  const stage = job.stage({ worker: "w" });
  for (let i = 0; i < 10; i++) stage.push(i);
  stage.close();
  let rejectedAt = 0;
  job.wait().catch(() => (rejectedAt = clock.now()));
  const error = await runToEnd(clock, job);
  assert.ok(error instanceof TaskFailedError);
  assert.equal(backend.launches.length, 4, "tasks 4..9 never launched");
  for (const l of backend.launches.slice(1)) {
    assert.equal(l.killedAt! - start, 100);
    assert.equal(l.stoppedAt! - start, 600);
  }
  assert.equal(backend.running, 0);
  assert.equal(rejectedAt - start, 600, "rejected once the last kill was confirmed");
  await assert.rejects(() => stage.collect(), TaskFailedError);
});

test("job.cancel kills running attempts, waits for them, and wait() rejects with CancelledError", async () => {
  const { clock, backend, job, events } = setup(() => ({ runMs: Infinity, killDelayMs: 200 }));
  const stage = job.stage({ worker: "w" });
  for (let i = 0; i < 3; i++) stage.push(i);
  await clock.advance(50);
  const cancelled = job.cancel("user pressed Ctrl-C");
  await clock.advance(300);
  await cancelled;
  const error = await runToEnd(clock, job);
  assert.ok(error instanceof CancelledError);
  assert.match(error.message, /Ctrl-C/);
  assert.equal(backend.running, 0);
  assert.equal(ofType(events, "job-done")[0]!.status, "cancelled");
});

test("cancelTimeout bounds the wait for a kill that never confirms", async () => {
  const { clock, job } = setup(() => ({ runMs: Infinity, killDelayMs: 1e9 }));
  const stage = job.stage({ worker: "w", policy: { timeouts: { cancelTimeout: 2_000 } } });
  stage.push(1);
  await clock.advance(10);
  const t0 = clock.now();
  void job.cancel();
  const error = await runToEnd(clock, job);
  assert.ok(error instanceof CancelledError);
  assert.ok(clock.now() - t0 >= 2_000 && clock.now() - t0 < 2_100);
});

test("the global limit is shared by two jobs of one manager; job and stage limits apply too", async () => {
  const clock = new VirtualClock();
  const backend = new ScriptedBackend(clock, () => ({ runMs: 100 }));
  const manager = new Manager({ backend, clock, maxConcurrentTasks: 3 });
  const jobs = [manager.job({ name: "a" }), manager.job({ name: "b", maxConcurrentTasks: 1 })];
  const limited = jobs[0]!.stage({ worker: "w", policy: { maxConcurrentTasks: 2 } });
  const other = jobs[1]!.stage({ worker: "w" });
  for (let i = 0; i < 6; i++) {
    limited.push(i);
    other.push(i);
  }
  limited.close();
  other.close();
  let peakA = 0;
  let peakB = 0;
  jobs[0]!.events.on(() => (peakA = Math.max(peakA, jobs[0]!.running)));
  jobs[1]!.events.on(() => (peakB = Math.max(peakB, jobs[1]!.running)));
  await Promise.all(jobs.map((j) => runToEnd(clock, j)));
  assert.equal(backend.peakRunning, 3, "never more than the global limit");
  assert.equal(peakA, 2, "stage limit");
  assert.equal(peakB, 1, "job limit");
  assert.equal(backend.launches.length, 12);
});

test("pipelining: stage 2 starts on stage 1's first results before stage 1 ends", async () => {
  const { clock, backend, job, start } = setup((e) => ({ runMs: e.stage === 1 ? (e.task + 1) * 100 : 10, output: e.input }));
  const map = job.stage<number, number>({ worker: "map" });
  const reduce = job.stage<number, number>({ worker: "reduce" });
  void map.pushAll([0, 1, 2, 3, 4]);
  void reduce.pushAll((async function* () {
    for await (const r of map.results()) yield r.output * 10;
  })());
  assert.equal(await runToEnd(clock, job), undefined);
  const lastMapEnd = Math.max(...backend.launches.filter((l) => l.envelope.stage === 1).map((l) => l.stoppedAt!));
  const firstReduce = Math.min(...backend.launches.filter((l) => l.envelope.stage === 2).map((l) => l.at));
  assert.equal(lastMapEnd - start, 500);
  assert.equal(firstReduce - start, 100);
  assert.deepEqual((await reduce.collect()).map((r) => r.output), [0, 10, 20, 30, 40]);
});

test("ids are printable and events arrive in order for every attempt", async () => {
  const { clock, job, events } = setup(() => ({ runMs: 10 }));
  const stage = job.stage({ worker: "w" });
  stage.push("x");
  stage.close();
  await runToEnd(clock, job);
  const types = events.map((e) => e.type);
  assert.deepEqual(types, ["job-started", "stage-started", "task-queued", "stage-closed", "attempt-launched", "attempt-running", "attempt-succeeded", "task-succeeded", "stage-done", "job-done"]);
  const launched = ofType(events, "attempt-launched")[0]!;
  assert.match(launched.attemptId, /^j[0-9a-f]{5}-s01-t00000-a1$/);
});

test("event streams: an async iterator ends at job-done; a slow reader keeps a bounded buffer and counts drops", async () => {
  const bus = new EventBus();
  const it = bus.stream({ bufferSize: 5 });
  for (let i = 0; i < 20; i++) bus.emit({ type: "job-started", name: String(i), time: i, jobId: "j1" });
  bus.emit({ type: "job-done", status: "succeeded", time: 20, jobId: "j1" });
  const seen: SmelterEvent[] = [];
  for await (const e of it) seen.push(e);
  assert.equal(seen.length, 5);
  assert.equal(it.dropped, 16);
  assert.equal(seen.at(-1)!.type, "job-done");
  assert.equal(bus.hasListeners, false, "the iterator unsubscribed at job-done");
});

test("a stage refuses inputs that are not small JSON, with a message saying what to do", () => {
  const { job } = setup(() => ({}));
  const stage = job.stage({ worker: "w" });
  assert.throws(() => stage.push("x".repeat(2 << 20)), /object storage/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => stage.push(cyclic), /not JSON/);
});

test("a stage's concurrency limit can change while it runs; 0 holds its tasks back", async () => {
  const { clock, backend, job } = setup(() => ({ runMs: 100 }));
  const stage = job.stage({ worker: "w" });
  stage.maxConcurrentTasks = 0;
  for (let i = 0; i < 4; i++) stage.push(i);
  stage.close();
  await clock.advance(500);
  assert.equal(backend.launches.length, 0, "held back");
  stage.maxConcurrentTasks = 2;
  assert.equal(await runToEnd(clock, job), undefined);
  assert.equal(backend.peakRunning, 2);
  assert.throws(() => (stage.maxConcurrentTasks = -1), /0 or more/);
});
