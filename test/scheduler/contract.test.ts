/** The attempt contract for far-away backends, on the virtual clock: envelope, onRunning, no capacity, abandoned kills, stats on every ending. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResultStore } from "../../src/backends/contract.js";
import { TaskFailedError } from "../../src/job/errors.js";
import { ofType, runToEnd, setup } from "../helpers/scheduler-setup.js";
import type { Script } from "../helpers/scripted-backend.js";

const quickCapacity = { initialInterval: 1000, backoffCoefficient: 2, maxInterval: 30_000, jitter: 0 };

test("the envelope carries the deadline, the output limit and the previous attempt's last heartbeat details", async () => {
  const { clock, backend, job, start } = setup((e) =>
    e.attempt === 1 ? { runMs: 500, heartbeatEveryMs: 100, heartbeatDetails: (n) => ({ offset: n * 10 }), error: { message: "flaky" } } : { runMs: 10 },
  );
  const stage = job.stage({ worker: "w", policy: { timeouts: { attemptTimeout: "2s" }, retry: { initialInterval: 100, jitter: 0 }, maxOutputBytes: 4096 } });
  stage.push("x");
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  const [a1, a2] = backend.of(0);
  assert.equal(a1!.envelope.deadline, start + 2000, "deadline = launch + attemptTimeout");
  assert.equal(a2!.envelope.deadline, a2!.at + 2000);
  assert.equal(a1!.envelope.maxOutputBytes, 4096);
  assert.equal(a1!.envelope.resume, undefined, "a first attempt has nothing to resume from");
  assert.deepEqual(a2!.envelope.resume, { attemptId: a1!.envelope.attemptId, details: { offset: 40 } }, "the retry resumes from the last heartbeat");
  assert.equal(a1!.envelope.resultUrl, undefined, "no results store: no result location");
});

test("onRunning carries the final runtime id and whether the start was cold; the handle's id never changes", async () => {
  const { clock, job, events } = setup(() => ({ pendingMs: 50, runMs: 10 }));
  const stage = job.stage({ worker: "w" });
  stage.push(1);
  stage.push(2);
  stage.close();
  await runToEnd(clock, job);
  const launched = ofType(events, "attempt-launched");
  const running = ofType(events, "attempt-running");
  assert.deepEqual(launched.map((e) => e.runtimeId), ["scripted-1", "scripted-2"]);
  assert.deepEqual(running.map((e) => [e.runtimeId, e.cold]), [["scripted-1-run", true], ["scripted-2-run", false]]);
  assert.equal(running[0]!.time - launched[0]!.time, 50, "scheduler-clock times: launched, then running 50 ms later");
});

test("no capacity: the launch is retried with backoff without spending the retry budget, and counted apart", async () => {
  const { clock, backend, job, events, start } = setup((e) => (e.attempt <= 3 ? { pendingMs: 5, noCapacity: "429 TooManyRequestsException" } : { runMs: 10 }));
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 1 }, capacity: quickCapacity } });
  stage.push("x");
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined, "maxAttempts 1, yet three refusals did not fail the task");
  const refusals = ofType(events, "attempt-no-capacity");
  assert.deepEqual(refusals.map((e) => e.delayMs), [1000, 2000, 4000]);
  assert.ok(refusals.every((e) => e.relaunch && /429/.test(e.reason)));
  assert.deepEqual(backend.of(0).map((l) => l.at - start), [0, 1005, 3010, 7015]);
  assert.equal(stage.counts.noCapacity, 3);
  assert.equal(stage.counts.retried, 0, "refusals are not retries");
  assert.equal(ofType(events, "retry-scheduled").length, 0);
  assert.equal((await stage.collect())[0]!.attemptId.endsWith("-a4"), true);
});

test("no capacity: the backend's retryAfter hint is honoured and too many refusals in a row fail the task", async () => {
  const { clock, job, events } = setup(() => ({ noCapacity: "no Fargate capacity" }));
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 1 }, capacity: { ...quickCapacity, maxRelaunches: 2 } } });
  stage.push("x");
  stage.close();
  const error = await runToEnd(clock, job);
  assert.ok(error instanceof TaskFailedError);
  assert.match(error.message, /NoCapacity|no capacity/);
  assert.equal(ofType(events, "attempt-no-capacity").length, 3);
  assert.equal(ofType(events, "attempt-failed")[0]!.error.type, "NoCapacity");
});

test("a throttled backend lowers its concurrency and the manager follows it, up and down", async () => {
  const { clock, backend, job } = setup(() => ({ runMs: 100 }), { backendConcurrency: 4 });
  const stage = job.stage({ worker: "w" });
  for (let i = 0; i < 12; i++) stage.push(i);
  stage.close();
  await clock.advance(50);
  assert.equal(backend.running, 4);
  backend.setMaxConcurrency(1);
  await clock.advance(100); // the first four finish; only one starts
  assert.equal(backend.running, 1);
  backend.setMaxConcurrency(3);
  await clock.advance(1);
  assert.equal(backend.running, 3, "capacityChanged() lets the manager launch at once");
  assert.equal(await runToEnd(clock, job), undefined);
});

test("a kill that cannot be confirmed abandons the attempt: slot freed at once, its late success never taken", async () => {
  // Task 0's first attempt is slow and unkillable (a Lambda invocation); the duplicate wins.
  const { clock, backend, job, events, start } = setup(
    (e) => (e.task === 0 && e.attempt === 1 ? { runMs: 5_000, unkillable: true, output: "late original" } : { runMs: 100, output: `${e.task}-a${e.attempt}` }),
    { maxConcurrentTasks: 2 },
  );
  const stage = job.stage({ worker: "w", policy: { speculation: { afterPercent: 50 }, timeouts: { cancelTimeout: "1m" } } });
  stage.push(0);
  stage.push(1);
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  const results = await stage.collect();
  assert.equal(results[0]!.output, "0-a2", "the duplicate's output");
  const abandoned = ofType(events, "attempt-abandoned");
  assert.equal(abandoned.length, 1);
  assert.equal(abandoned[0]!.attemptId, backend.of(0)[0]!.envelope.attemptId);
  assert.equal(abandoned[0]!.time - start, 200, "abandoned as soon as the backend said it cannot stop it, not after cancelTimeout");
  assert.equal(stage.counts.abandoned, 1);
  const late = ofType(events, "attempt-late-outcome");
  assert.equal(late.length, 0, "the job ended before the original finished");
  // The original still runs in the backend; when it reports, nothing is taken.
  await clock.advance(10_000);
  assert.equal(backend.of(0)[0]!.stoppedAt! - start, 5_000);
  assert.equal(ofType(events, "attempt-succeeded").filter((e) => e.won).length, 2);
});

test("an abandoned attempt that succeeds late while the job runs is recorded for its cost, never as the result", async () => {
  const { clock, backend, job, events } = setup((e) =>
    e.attempt === 1 ? { runMs: 1_500, unkillable: true, output: "too late", counters: { bytesRead: 99 } } : { runMs: 800, output: "retry's" },
  );
  const stage = job.stage({ worker: "w", policy: { timeouts: { attemptTimeout: "1s" }, retry: { initialInterval: 0, jitter: 0 } } });
  stage.push("x");
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  assert.equal((await stage.collect())[0]!.output, "retry's");
  const late = ofType(events, "attempt-late-outcome");
  assert.equal(late.length, 1);
  assert.equal(late[0]!.status, "succeeded");
  assert.equal(late[0]!.stats.counters.bytesRead, 99, "its stats are kept for the cost");
  assert.equal(late[0]!.attemptId, backend.of(0)[0]!.envelope.attemptId);
  assert.equal(ofType(events, "attempt-succeeded").length, 1, "only the retry's success counts");
});

test("every ending carries stats: failures with their counters, kills with the worker's stats once confirmed", async () => {
  const { clock, job, events } = setup(
    (e): Script => (e.task === 0 ? { runMs: 10, error: { message: "bad", nonRetryable: true }, counters: { bytesRead: 7, readRequests: 1 } } : { runMs: Infinity, killDelayMs: 50, counters: { bytesRead: 3 } }),
  );
  const stage = job.stage({ worker: "w" });
  stage.push(0);
  stage.push(1);
  stage.close();
  assert.ok((await runToEnd(clock, job)) instanceof TaskFailedError);
  const failed = ofType(events, "attempt-failed")[0]!;
  assert.deepEqual(failed.stats.counters, { bytesRead: 7, readRequests: 1 });
  const requested = ofType(events, "kill-requested");
  const confirmed = ofType(events, "kill-confirmed");
  assert.equal(requested.length, 1);
  assert.equal(confirmed.length, 1);
  assert.equal(confirmed[0]!.time - requested[0]!.time, 50, "kill requested and confirmed, with times");
  assert.equal(confirmed[0]!.stats.counters.bytesRead, 3);
});

test("large outputs: the attempt writes to its result URL in the work store and only the winner's is read", async () => {
  const written = new Map<string, string>();
  const reads: string[] = [];
  const results: ResultStore = {
    url: "mem://work/",
    read: async (url) => {
      reads.push(url);
      const text = written.get(url);
      if (text === undefined) throw new Error(`no object at ${url}`);
      return text;
    },
  };
  const { clock, backend, job } = setup(
    (e) => {
      written.set(e.resultUrl!, JSON.stringify({ big: `output of ${e.attemptId}` }));
      return e.task === 0 && e.attempt === 1 ? { runMs: 1_000, viaResultUrl: true, unkillable: true } : { runMs: 100, viaResultUrl: true };
    },
    { results },
  );
  const stage = job.stage({ worker: "w", policy: { speculation: { afterPercent: 50 } } });
  stage.push(0);
  stage.push(1);
  stage.close();
  assert.equal(await runToEnd(clock, job), undefined);
  await clock.advance(2_000);
  const out = await stage.collect();
  const [a1, a2] = backend.of(0);
  assert.match(a1!.envelope.resultUrl!, new RegExp(`^mem://work/${job.id}/results/${a1!.envelope.attemptId}\\.json$`), "attempt-scoped result location");
  assert.notEqual(a1!.envelope.resultUrl, a2!.envelope.resultUrl);
  assert.deepEqual(out[0]!.output, { big: `output of ${a2!.envelope.attemptId}` });
  assert.ok(!reads.includes(a1!.envelope.resultUrl!), "the abandoned original's output was never read");
});

test("a result URL without a results store is a clear error", async () => {
  const { clock, job } = setup(() => ({ runMs: 10, viaResultUrl: true }));
  const stage = job.stage({ worker: "w", policy: { retry: { maxAttempts: 1 } } });
  stage.push(1);
  stage.close();
  const error = await runToEnd(clock, job);
  assert.match(String(error?.message), /no results store/);
});
