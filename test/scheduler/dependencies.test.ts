/** Stage dependencies and slot reservation inside the scheduler, on the virtual clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../src/job/errors.js";
import { runToEnd, setup } from "../helpers/scheduler-setup.js";

test("a stage with `after` launches nothing until its producers launched every task", async () => {
  const { clock, backend, job, start } = setup((e) => ({ runMs: e.stage === 1 ? 100 : 10 }), { maxConcurrentTasks: 2 });
  const map = job.stage({ worker: "map" });
  const reduce = job.stage({ worker: "reduce", after: [map] });
  for (let i = 0; i < 4; i++) map.push(i);
  for (let i = 0; i < 2; i++) reduce.push(i);
  reduce.close();
  await clock.advance(500);
  assert.equal(backend.launches.filter((l) => l.envelope.stage === 2).length, 0, "map still open: reducers held back");
  map.close();
  assert.equal(await runToEnd(clock, job), undefined);
  const lastMapLaunch = Math.max(...backend.launches.filter((l) => l.envelope.stage === 1).map((l) => l.at));
  const firstReduce = Math.min(...backend.launches.filter((l) => l.envelope.stage === 2).map((l) => l.at));
  assert.ok(firstReduce >= lastMapLaunch, "reducers start once every map task is launched");
  assert.ok(firstReduce - start < 600, `...not only once the maps are done (${firstReduce - start})`);
});

test("reserveSlots: while producers run, waiting stages leave slots free for them (a producer's retry finds one)", async () => {
  // 4 slots; map task 3 fails once and is retried while reducers wait.
  const { clock, backend, job, start } = setup(
    (e) => (e.stage === 1 ? (e.task === 3 && e.attempt === 1 ? { runMs: 50, error: { message: "flaky" } } : { runMs: e.task === 3 ? 100 : 1_000 }) : { runMs: 2_000 }),
    { maxConcurrentTasks: 4 },
  );
  const map = job.stage({ worker: "map", policy: { retry: { initialInterval: 10, jitter: 0 } } });
  const reduce = job.stage({ worker: "reduce", after: [map], reserveSlots: 1 });
  void map.pushAll([0, 1, 2, 3]);
  void reduce.pushAll([0, 1, 2, 3, 4, 5]);
  await clock.advance(55); // map 3 failed at 50; retry waits 10 ms: reducers wait for "all launched" again
  assert.equal(backend.launches.filter((l) => l.envelope.stage === 2).length, 0);
  assert.equal(await runToEnd(clock, job), undefined);
  const retry = backend.of(3)[1]!;
  assert.equal(retry.at - start, 60, "the retry found a slot at once");
  let peakWaitingReducers = 0;
  for (const t of [100, 500, 900]) {
    const n = backend.launches.filter((l) => l.envelope.stage === 2 && l.at - start <= t && (l.stoppedAt ?? Infinity) - start > t).length;
    peakWaitingReducers = Math.max(peakWaitingReducers, n);
  }
  assert.ok(peakWaitingReducers <= 3, `reducers left one slot of four free while the maps ran (${peakWaitingReducers})`);
  const afterMaps = backend.launches.filter((l) => l.envelope.stage === 2 && l.at - start >= 1_000).length;
  assert.ok(afterMaps >= 1, "once every map succeeded the reducers got every slot");
});

test("`after` only takes earlier stages of the same job; reserveSlots is validated", () => {
  const { job, manager } = setup(() => ({}));
  const other = manager.job().stage({ worker: "x" });
  assert.throws(() => job.stage({ worker: "y", after: [other] }), ConfigError);
  const a = job.stage({ worker: "a" });
  assert.throws(() => job.stage({ worker: "b", after: [a], reserveSlots: -1 }), /reserveSlots/);
});
