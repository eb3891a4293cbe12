/**
 * A gap the simulator found in the scheduler: a producer stage's speculative duplicate waited for
 * a slot held by consumers that wait for the producer. With `after` + `reserveSlots: 1`, the
 * waiting stages took every slot but one, and the straggler itself held that one, so its
 * duplicate launched only when a consumer ended. Now waiting stages leave `reserveSlots` free on
 * top of the slots their producers hold.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runToEnd, setup } from "../helpers/scheduler-setup.js";

test("a straggling producer's speculative duplicate finds a slot while consumers wait", async () => {
  // 4 slots; map task 5 straggles (10 s) on its first attempt; the others take 100 ms; reducers 2 s.
  const { clock, backend, job, start } = setup((e) => (e.stage === 1 ? { runMs: e.task === 5 && e.attempt === 1 ? 10_000 : 100 } : { runMs: 2_000 }), { maxConcurrentTasks: 4 });
  const map = job.stage({ worker: "map", policy: { speculation: { slowerThanMedian: 2, minFinished: 3, checkInterval: 50 } } });
  const reduce = job.stage({ worker: "reduce", after: [map], reserveSlots: 1 });
  void map.pushAll([0, 1, 2, 3, 4, 5]);
  void reduce.pushAll([0, 1, 2, 3, 4, 5]);
  assert.equal(await runToEnd(clock, job), undefined);
  const duplicate = backend.of(5)[1];
  assert.ok(duplicate, "map task 5 got a speculative duplicate");
  // Due at ~300 ms (launched at 100, 2 x the 100 ms median); before the fix it waited for a reducer to end (~2,100 ms).
  assert.ok(duplicate.at - start <= 500, `the duplicate launched at ${duplicate.at - start} ms`);
});
