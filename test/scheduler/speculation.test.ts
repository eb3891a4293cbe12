import assert from "node:assert/strict";
import { test } from "node:test";
import type { TaskEnvelope } from "../../src/backends/contract.js";
import { ofType, runToEnd, setup } from "../helpers/scheduler-setup.js";
import type { Script } from "../helpers/scripted-backend.js";

/** Tasks whose index is in `slow` take 10 s on their first attempt; everything else takes 100 ms. */
const straggle = (slow: number[], slowMs = 10_000) => (e: TaskEnvelope): Script =>
  slow.includes(e.task) && e.attempt === 1 ? { runMs: slowMs, output: `slow-${e.task}` } : { runMs: 100, output: `fast-${e.task}-a${e.attempt}` };

async function tenTasks(script: (e: TaskEnvelope) => Script, speculation: Record<string, number>) {
  const s = setup(script);
  const stage = s.job.stage({ worker: "w", policy: { speculation } });
  for (let i = 0; i < 10; i++) stage.push(i);
  stage.close();
  const error = await runToEnd(s.clock, s.job);
  return { ...s, stage, error, results: await stage.collect() };
}

test("(a) afterPercent: at exactly 90% done the last task is duplicated; the duplicate wins and the original is killed", async () => {
  const { backend, events, error, results, start } = await tenTasks(straggle([9]), { afterPercent: 90 });
  assert.equal(error, undefined);
  const launches = backend.of(9);
  assert.equal(launches.length, 2, "one duplicate");
  assert.equal(launches[1]!.at - start, 100, "duplicated as soon as 9 of 10 were done");
  assert.equal(results[9]!.output, "fast-9-a2", "first success wins");
  assert.equal(launches[0]!.killedAt! - start, 200, "the original is killed when the duplicate wins");
  assert.match(launches[0]!.killReason!, /lost the race/);
  const spec = ofType(events, "speculation-launched");
  assert.equal(spec.length, 1);
  assert.equal(spec[0]!.rule, "afterPercent");
  assert.equal(ofType(events, "attempt-cancelled").length, 1);
});

test("(a) afterPercent boundary: at 8 of 10 done (80%) nothing is duplicated; at 9 of 10 it fires", async () => {
  const script = (e: TaskEnvelope): Script => (e.attempt === 1 && e.task === 8 ? { runMs: 10_000 } : e.attempt === 1 && e.task === 9 ? { runMs: 20_000 } : { runMs: 100 });
  const { backend, start } = await tenTasks(script, { afterPercent: 90 });
  assert.equal(backend.of(8).length, 1, "task 8 was never duplicated: 80% < 90%");
  assert.equal(backend.of(9).length, 2);
  assert.equal(backend.of(9)[1]!.at - start, 10_000, "duplicated only when task 8 finished (90%)");
});

test("(a) afterPercent waits until no more tasks will come", async () => {
  const s = setup(straggle([0]));
  const stage = s.job.stage({ worker: "w", policy: { speculation: { afterPercent: 50 } } });
  stage.push(0);
  stage.push(1);
  await s.clock.advance(500); // 1 of 2 done (50%), but the stage is still open
  assert.equal(s.backend.of(0).length, 1);
  stage.close();
  await s.clock.advance(1);
  assert.equal(s.backend.of(0).length, 2, "duplicated once closed");
  await runToEnd(s.clock, s.job);
});

test("(b) lastTasks: when at most N tasks are unfinished they are duplicated", async () => {
  const two = await tenTasks(straggle([8, 9]), { lastTasks: 2 });
  assert.equal(two.backend.of(8).length, 2);
  assert.equal(two.backend.of(9).length, 2);
  const one = await tenTasks(straggle([8, 9]), { lastTasks: 1 });
  // with two stragglers and lastTasks 1, nothing is duplicated until one finishes on its own
  assert.equal(ofType(one.events, "speculation-launched").length, 1);
  assert.equal(one.backend.launches.length, 11);
});

test("(c) slowerThanMedian: an attempt running k x the median is duplicated, after minFinished", async () => {
  const s = setup((e) => (e.task === 5 && e.attempt === 1 ? { runMs: 10_000 } : { runMs: 100 }));
  const stage = s.job.stage({ worker: "w", policy: { speculation: { slowerThanMedian: 3, minFinished: 4, checkInterval: 50 } } });
  for (let i = 0; i < 8; i++) stage.push(i);
  // stage left open: rule (c) does not need "no more tasks"
  await s.clock.advance(2_000);
  const launches = s.backend.of(5);
  assert.equal(launches.length, 2);
  const at = launches[1]!.at - s.start;
  assert.ok(at > 300 && at <= 400, `duplicated after 3 x 100 ms (at ${at})`);
  stage.close();
  assert.equal(await runToEnd(s.clock, s.job), undefined);
});

test("(c) slowerThanMedian does nothing before minFinished tasks succeeded", async () => {
  const s = setup((e) => (e.task === 0 ? { runMs: 5_000 } : { runMs: 100 }));
  const stage = s.job.stage({ worker: "w", policy: { speculation: { slowerThanMedian: 2, minFinished: 5, checkInterval: 50 } } });
  for (let i = 0; i < 4; i++) stage.push(i);
  stage.close();
  await runToEnd(s.clock, s.job);
  assert.equal(s.backend.of(0).length, 1);
});

test("a duplicate does not use up the retry budget", async () => {
  // maxAttempts 2: original (slow, then fails), duplicate fails fast; a real retry is still allowed.
  const s = setup((e) => (e.task === 1 ? (e.attempt === 1 ? { runMs: 1_000, error: { message: "slow fail" } } : e.attempt === 2 ? { runMs: 10, error: { message: "dup fail" } } : { runMs: 10, output: "third" }) : { runMs: 10 }));
  const stage = s.job.stage({ worker: "w", policy: { retry: { maxAttempts: 2, initialInterval: 10, jitter: 0 }, speculation: { afterPercent: 50 } } });
  stage.push(0);
  stage.push(1);
  stage.close();
  assert.equal(await runToEnd(s.clock, s.job), undefined);
  const causes = ofType(s.events, "attempt-launched").filter((e) => e.taskId.endsWith("t00001")).map((e) => e.cause);
  assert.deepEqual(causes, ["initial", "speculation", "retry"]);
  assert.equal((await stage.collect())[1]!.output, "third");
});

test("each task is duplicated at most once by default", async () => {
  // the duplicate is as slow as the original: no second duplicate
  const s = setup((e) => (e.task === 0 ? { runMs: 1_000 } : { runMs: 10 }));
  const stage = s.job.stage({ worker: "w", policy: { speculation: { slowerThanMedian: 2, minFinished: 3, checkInterval: 10 } } });
  for (let i = 0; i < 5; i++) stage.push(i);
  stage.close();
  await runToEnd(s.clock, s.job);
  assert.equal(s.backend.of(0).length, 2);
});
