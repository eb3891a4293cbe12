import assert from "node:assert/strict";
import { test } from "node:test";
import { TaskFailedError } from "../../src/job/errors.js";
import { resolveStagePolicy, retryDelay } from "../../src/job/policy.js";
import { ofType, runToEnd, setup } from "../helpers/scheduler-setup.js";

const noJitter = { initialInterval: 100, backoffCoefficient: 2, maxInterval: 1000, jitter: 0 };

test("retryDelay: exponential backoff capped at maxInterval", () => {
  const p = resolveStagePolicy({ retry: noJitter }).retry;
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(p, n)), [100, 200, 400, 800, 1000]);
});

test("retryDelay: jitter stays within +-jitter of the base, then capped", () => {
  const p = resolveStagePolicy({ retry: { ...noJitter, jitter: 0.2 } }).retry;
  assert.equal(retryDelay(p, 2, () => 0), 160);
  assert.equal(retryDelay(p, 2, () => 1), 240);
  assert.equal(retryDelay(p, 5, () => 1), 1000);
});

test("policies are validated in one place with messages naming the field", () => {
  assert.throws(() => resolveStagePolicy({ retry: { maxAttempts: 0 } }), /retry\.maxAttempts/);
  assert.throws(() => resolveStagePolicy({ timeouts: { heartbeatTimeout: "soon" } }), /not a duration/);
  assert.throws(() => resolveStagePolicy({ speculation: { afterPercent: 150 } } as never), /speculation\.afterPercent/);
  assert.equal(resolveStagePolicy({ timeouts: { attemptTimeout: "2m" } }).timeouts.attemptTimeout, 120_000);
});

test("a failing task is retried after the backoff delays, then succeeds", async () => {
  const { clock, backend, job, events, start } = setup((e) => (e.attempt < 3 ? { runMs: 10, error: { message: "flaky" } } : { runMs: 10 }));
  const stage = job.stage({ worker: "w", policy: { retry: { ...noJitter, maxAttempts: 3 } } });
  stage.push({ x: 1 });
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  assert.deepEqual(ofType(events, "retry-scheduled").map((e) => e.delayMs), [100, 200]);
  // attempt 1 at 0, fails at 10; retry at 110, fails at 120; retry at 320
  assert.deepEqual(backend.of(0).map((l) => l.at - start), [0, 110, 320]);
  const [result] = await stage.collect();
  assert.equal(result?.attempts, 3);
  assert.equal(result?.attemptId.endsWith("-a3"), true);
});

test("retries used up: the job fails naming the task and every attempt", async () => {
  const { clock, backend, job } = setup(() => ({ runMs: 5, error: { message: "always broken" } }));
  const stage = job.stage({ worker: "w", policy: { retry: { ...noJitter, maxAttempts: 3 } } });
  stage.push(1);
  stage.close();
  const err = await runToEnd(clock, job);
  assert.ok(err instanceof TaskFailedError);
  assert.equal(backend.launches.length, 3);
  for (const n of [1, 2, 3]) assert.match(err.message, new RegExp(`${stage.name === "w" ? "" : ""}-t00000-a${n}: Error: always broken`));
  assert.equal(err.attempts.length, 3);
});

test("an error marked nonRetryable is not retried", async () => {
  const { clock, backend, job } = setup(() => ({ runMs: 5, error: { message: "bad input", nonRetryable: true, type: "NonRetryable" } }));
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 5 } } });
  stage.push(1);
  stage.close();
  const err = await runToEnd(clock, job);
  assert.ok(err instanceof TaskFailedError);
  assert.equal(backend.launches.length, 1);
  assert.match(err.message, /non-retryable/);
});

test("an error type listed in nonRetryableErrorTypes is not retried; others are", async () => {
  const { clock, backend, job } = setup((e) =>
    e.input === "a" ? { runMs: 50, error: { type: "ParseError", message: "x" } } : e.attempt < 3 ? { runMs: 5, error: { type: "Flaky", message: "x" } } : { runMs: 5 },
  );
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 4, initialInterval: 1, jitter: 0, nonRetryableErrorTypes: ["ParseError"] } } });
  stage.push("b");
  stage.push("a");
  stage.close();
  const err = await runToEnd(clock, job);
  assert.ok(err instanceof TaskFailedError && err.taskId.endsWith("t00001"));
  assert.equal(backend.of(1).length, 1, "ParseError: one attempt only");
  assert.equal(backend.of(0).length, 3, "Flaky: retried until it succeeded");
});
