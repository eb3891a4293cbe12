/** The runtime context on virtual time: an idle-driven clock, seeded replays, listeners that throw. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TaskEnvelope } from "../../src/backends/contract.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { createRuntimeContext } from "../../src/job/runtime-context.js";
import { VirtualClock } from "../../src/scheduler/clock.js";
import { Manager } from "../../src/scheduler/manager.js";
import { ScriptedBackend, type Script } from "../helpers/scripted-backend.js";

/** A job with everything that draws on the clock and the random source: retries with jitter, no capacity, speculation, heartbeats. */
async function runSeeded(seed: number): Promise<SmelterEvent[]> {
  const clock = new VirtualClock();
  const script = (e: TaskEnvelope): Script =>
    e.task === 3 && e.attempt === 1 ? { runMs: 5_000, heartbeatEveryMs: 400 }
      : e.task === 1 && e.attempt < 3 ? { runMs: 20, error: { message: "flaky" } }
        : e.task === 2 && e.attempt === 1 ? { noCapacity: "throttled" }
          : { runMs: 100 + e.task * 10 };
  const backend = new ScriptedBackend(clock, script);
  const manager = new Manager({ backend, context: createRuntimeContext({ clock, seed }), maxConcurrentTasks: 3 });
  const job = manager.job({ name: "replay", policy: { retry: { initialInterval: 50 }, speculation: { afterPercent: 75 } } });
  const events: SmelterEvent[] = [];
  job.events.on((e) => events.push(e));
  const stage = job.stage({ worker: "w" });
  void stage.pushAll([0, 1, 2, 3]);
  await clock.run(job.wait());
  return events;
}

test("the same job run twice with one seed on the virtual clock gives the same event stream, ids included", async () => {
  const a = await runSeeded(42);
  const b = await runSeeded(42);
  assert.ok(a.length > 20);
  assert.deepEqual(JSON.parse(JSON.stringify(b)), JSON.parse(JSON.stringify(a)));
  assert.ok(a.some((e) => e.type === "retry-scheduled" && !Number.isInteger(e.delayMs)), "jitter was drawn from the seeded source");
  const c = await runSeeded(43);
  assert.notEqual(c[0]!.jobId, a[0]!.jobId, "another seed, another job id");
});

test("VirtualClock.run jumps to the next timer only when everything waits, and reports a deadlock", async () => {
  const clock = new VirtualClock(0);
  const order: string[] = [];
  const work = async () => {
    await clock.sleep(1_000);
    order.push(`a@${clock.now()}`);
    // a long chain of promise turns with no timer: the clock must not jump in the middle
    let p = Promise.resolve();
    for (let i = 0; i < 500; i++) p = p.then(() => undefined);
    await p;
    order.push(`chain@${clock.now()}`);
    await Promise.all([clock.sleep(500).then(() => order.push(`b@${clock.now()}`)), clock.sleep(200).then(() => order.push(`c@${clock.now()}`))]);
    return "done";
  };
  assert.equal(await clock.run(work), "done");
  assert.deepEqual(order, ["a@1000", "chain@1000", "c@1200", "b@1500"]);
  await assert.rejects(clock.run(new Promise(() => {})), /deadlock/);
});

test("VirtualClock.hold keeps time still while real work runs", async () => {
  const clock = new VirtualClock(0);
  const seen: number[] = [];
  const release = clock.hold();
  const work = (async () => {
    await clock.sleep(100);
    seen.push(clock.now());
  })();
  const running = clock.run(work);
  await new Promise((r) => setTimeout(r, 20)); // real work happening elsewhere
  assert.deepEqual(seen, [], "no jump while held");
  release();
  await running;
  assert.deepEqual(seen, [100]);
});

test("a listener that throws is reported to the others as listener-failed, and the job goes on", async () => {
  const clock = new VirtualClock();
  const manager = new Manager({ backend: new ScriptedBackend(clock, () => ({ runMs: 10 })), clock, seed: 1 });
  const job = manager.job();
  const seen: SmelterEvent[] = [];
  job.events.on((e) => {
    if (e.type === "attempt-running") throw new Error("listener bug");
  });
  job.events.on((e) => seen.push(e));
  const stage = job.stage({ worker: "w" });
  stage.push(1);
  stage.close();
  await clock.run(job.wait());
  const failed = seen.filter((e) => e.type === "listener-failed");
  assert.equal(failed.length, 1);
  assert.ok(failed[0]!.type === "listener-failed" && failed[0]!.of === "attempt-running" && /listener bug/.test(failed[0]!.error.message));
  assert.equal(seen.at(-1)!.type, "job-done");
});
