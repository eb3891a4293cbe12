/**
 * The scheduler's rule for preempted attempts (a Fargate Spot interruption is reported as
 * `TaskPreempted`): the retry does not spend the task's retry budget, up to
 * `capacity.maxRelaunches` preemptions of one task; any other failure still does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ofType, runToEnd, setup } from "../helpers/scheduler-setup.js";

const preempted = { type: "TaskPreempted", name: "TaskPreemptedError", message: "interrupted by Fargate Spot" };

test("two preemptions and then a success, with maxAttempts 1: the task succeeds", async () => {
  const { clock, backend, job, events } = setup((e) => (e.attempt <= 2 ? { runMs: 20, error: preempted } : { runMs: 10 }));
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 1, initialInterval: 10, jitter: 0 } } });
  stage.push("x");
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  assert.equal(backend.of(0).length, 3, "relaunched after each preemption");
  assert.deepEqual(ofType(events, "attempt-failed").map((e) => [e.error.type, e.retryable]), [["TaskPreempted", true], ["TaskPreempted", true]]);
});

test("any other failure still spends the budget; preemptions past capacity.maxRelaunches do too", async () => {
  const crash = setup(() => ({ runMs: 10, error: { type: "TaskCrashed", message: "exit 3" } }));
  const s1 = crash.job.stage({ worker: "w", policy: { retry: { maxAttempts: 1 } } });
  s1.push("x");
  s1.close();
  assert.match(String(await runToEnd(crash.clock, crash.job)), /failed after 1 attempt/);
  const always = setup(() => ({ runMs: 10, error: preempted }));
  const s2 = always.job.stage({ worker: "w", policy: { retry: { maxAttempts: 1, initialInterval: 10, jitter: 0 }, capacity: { maxRelaunches: 2 } } });
  s2.push("x");
  s2.close();
  const err = await runToEnd(always.clock, always.job);
  assert.match(String(err), /TaskPreempted|interrupted by Fargate Spot/);
  assert.equal(always.backend.of(0).length, 3, "two free relaunches, then the budget");
});
