/**
 * What only ECS does, through the fargate backend against moto's ECS API with the task agent
 * (./fargate-setup.ts): the task ARN as runtime id, large envelopes through the store, throttling
 * and capacity failures as no capacity, Fargate Spot interruptions (TaskPreempted, retried without
 * the budget, on-demand after N) and Spot start timeouts, an out-of-memory kill, StopTask
 * confirmed by DescribeTasks or abandoned, a task that never starts, liveness through the
 * channel (HTTP and the work store: a silent task lost by the heartbeat timeout), and the
 * settings' errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AttemptOutcome } from "../../src/backends/contract.js";
import { fargateBackend } from "../../src/backends/fargate/backend.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { systemContext } from "../../src/job/runtime-context.js";
import { Manager } from "../../src/scheduler/manager.js";
import { urlObjects } from "../../src/url-objects.js";
import { waitFor } from "../tooling/processes.js";
import { launch, runToEnd, within } from "./conformance.js";
import { backendWith, CLUSTER, describeTask, ecs, leftovers } from "./fargate-setup.js";

describe("fargate backend", () => {
  it("runs each attempt as an ECS task: the task ARN as runtime id, cold, the overrides' envelope, nothing left in the store", async () => {
    const backend = backendWith();
    try {
      const o = await runToEnd(backend, "echo", { hello: "fargate" });
      assert.ok(o.status === "succeeded", JSON.stringify(o).slice(0, 300));
      assert.deepEqual(o.output, { hello: "fargate" });
      assert.match(o.runtimeId, /^arn:aws:ecs:us-east-1:\d{12}:task\/smelter-test\/[0-9a-f-]+$/);
      assert.deepEqual(o.events.filter((e) => e.kind === "running"), [{ kind: "running", cold: true, capacity: { spot: false } }]);
      const task = await describeTask(o.runtimeId);
      assert.equal(task.lastStatus, "STOPPED");
      assert.equal(task.launchType, "FARGATE");
      assert.equal(task.containers?.[0]?.exitCode, 0);
      assert.deepEqual(await leftovers(), [], "the reply was read and deleted");
    } finally {
      await backend.close?.();
    }
  });

  it("passes an envelope too large for the container overrides through the store", async () => {
    const backend = backendWith();
    try {
      const big = "x".repeat(20_000);
      const o = await runToEnd(backend, "echo", big);
      assert.ok(o.status === "succeeded" && o.output === big, JSON.stringify(o).slice(0, 300));
      assert.deepEqual(await leftovers(), []);
    } finally {
      await backend.close?.();
    }
  });

  it("ThrottlingException is no capacity with a jittered delay, lowers maxConcurrency and tells the host; it recovers", async () => {
    const backend = backendWith({ concurrency: 3, throttleRetryMs: 400 });
    let changes = 0;
    backend.attach?.({ context: systemContext(), capacityChanged: () => changes++ });
    try {
      const first = launch(backend, "sleep", { ms: 1500 });
      await within(first.running, 20_000, "the first task running");
      await ecs.throttleRunTask(1);
      const refused = await runToEnd(backend, "echo", 1);
      assert.ok(refused.status === "no-capacity", JSON.stringify(refused).slice(0, 300));
      assert.match(refused.reason, /ECS cluster smelter-test is throttling RunTask \(ThrottlingException: Rate exceeded\)/);
      assert.ok(refused.retryAfterMs !== undefined && refused.retryAfterMs >= 200 && refused.retryAfterMs <= 600, `jittered around 400 ms: ${refused.retryAfterMs}`);
      assert.ok(refused.stats, "a no-capacity outcome carries stats");
      assert.equal(backend.maxConcurrency, 1, "lowered to what was running");
      assert.equal(changes, 1);
      assert.equal(backend.counts.throttled, 1);
      assert.equal((await first.outcome).status, "succeeded");
      assert.equal((await runToEnd(backend, "echo", 2)).status, "succeeded");
      assert.ok((backend.maxConcurrency ?? 0) >= 2 && changes >= 2, `raised again as tasks start (maxConcurrency ${backend.maxConcurrency})`);
    } finally {
      await backend.close?.();
    }
  });

  it("a capacity failure is no capacity; with Spot, no Spot capacity runs the attempt on-demand", async () => {
    const onDemand = backendWith();
    const spot = backendWith({ spot: {} });
    try {
      await ecs.setCapacity("FARGATE", false);
      const refused = await runToEnd(onDemand, "echo", 1);
      assert.ok(refused.status === "no-capacity", JSON.stringify(refused).slice(0, 300));
      assert.match(refused.reason, /has no Fargate capacity: Capacity is unavailable at this time/);
      await ecs.setCapacity("FARGATE", true);
      await ecs.setCapacity("FARGATE_SPOT", false);
      const moved = await runToEnd(spot, "echo", "on-demand");
      assert.ok(moved.status === "succeeded", JSON.stringify(moved).slice(0, 300));
      assert.equal((await describeTask(moved.runtimeId)).launchType, "FARGATE");
      assert.ok(moved.events.some((e) => e.kind === "log" && /no Fargate Spot capacity .* running it on-demand/.test(e.message)));
      assert.equal(spot.counts.spotFallbacks, 1);
      const ranOn = (r: { events: { kind: string; capacity?: unknown }[] }) => r.events.find((e) => e.kind === "running")?.capacity;
      // (moto's tasks carry no cpu and memory, which ECS's do: taskCapacity is tested on its own)
      assert.deepEqual(ranOn(moved), { spot: false }, "the fallback says it ran on-demand (the cost estimate prices it so)");
      await ecs.setCapacity("FARGATE_SPOT", true);
      assert.deepEqual(ranOn(await runToEnd(spot, "echo", "on Spot")), { spot: true });
    } finally {
      await ecs.setCapacity("FARGATE", true);
      await ecs.setCapacity("FARGATE_SPOT", true);
      await onDemand.close?.();
      await spot.close?.();
    }
  });

  it("an out-of-memory kill (exit 137, OutOfMemoryError) is a retryable OutOfMemory naming the task", async () => {
    const backend = backendWith();
    try {
      const r = launch(backend, "cooperativeHang");
      await within(r.running, 20_000, "onRunning");
      await ecs.oomKill(r.runtimeId());
      const o = await r.outcome;
      assert.ok(o.status === "failed", JSON.stringify(o).slice(0, 300));
      assert.equal(o.error.type, "OutOfMemory");
      assert.equal(o.error.nonRetryable, false);
      assert.match(o.error.message, /ran out of memory: the container was killed with exit code 137 .*OutOfMemoryError: Container killed due to memory usage/);
      assert.ok(o.error.message.includes(r.runtimeId()));
    } finally {
      await backend.close?.();
    }
  });

  it("kill: StopTask, confirmed by DescribeTasks (STOPPED, UserInitiated) -> stopped; the outcome is Cancelled", async () => {
    const backend = backendWith();
    try {
      const r = launch(backend, "cooperativeHang");
      await within(r.running, 20_000, "onRunning");
      assert.equal(await within(r.handle.kill("not needed any more"), 10_000, "kill"), "stopped");
      const task = await describeTask(r.runtimeId());
      assert.equal(task.lastStatus, "STOPPED", "confirmed: ECS says STOPPED when kill resolves");
      assert.equal(task.stopCode, "UserInitiated");
      assert.equal(task.stoppedReason, "smelter: not needed any more");
      const o = await r.outcome;
      assert.ok(o.status === "failed" && o.error.type === "Cancelled", JSON.stringify(o).slice(0, 300));
      assert.match(o.error.message, /not needed any more/);
      assert.ok(o.stats.endedAt >= o.stats.startedAt, "a cancelled outcome carries stats");
      assert.deepEqual(await leftovers(), []);
    } finally {
      await backend.close?.();
    }
  });

  it("a kill that ECS does not confirm within stopConfirmMs is abandoned", async () => {
    await ecs.holdProvisioning(true);
    const backend = backendWith({ stopConfirmMs: 1 });
    try {
      const r = launch(backend, "echo", 1);
      await waitFor("the task to exist", 10_000, async () => ((await ecs.agentTasks()).length > 0 ? true : undefined));
      await new Promise((res) => setTimeout(res, 200));
      // A task takes tens of ms to go from StopTask to STOPPED: not within 1 ms.
      assert.equal(await within(r.handle.kill("give up"), 5000, "kill"), "abandoned");
      const o = await r.outcome;
      assert.ok(o.status === "failed" && o.error.type === "Cancelled", JSON.stringify(o).slice(0, 300));
      assert.match(o.error.message, /was not seen STOPPED within 1 ms; its result will not be taken/);
    } finally {
      await ecs.holdProvisioning(false);
      await backend.close?.();
    }
  });

  it("a kill while the attempt waits for a slot never starts a task", async () => {
    const backend = backendWith({ concurrency: 1 });
    try {
      const before = (await ecs.agentTasks()).length;
      const busy = launch(backend, "sleep", { ms: 500 });
      const queued = launch(backend, "echo", "never");
      assert.equal(await within(queued.handle.kill("not needed"), 1000, "kill of a queued attempt"), "stopped");
      const o = await queued.outcome;
      assert.ok(o.status === "failed" && o.error.type === "Cancelled");
      assert.equal((await busy.outcome).status, "succeeded");
      assert.equal((await ecs.agentTasks()).length, before + 1, "only the busy attempt's task was started");
    } finally {
      await backend.close?.();
    }
  });

  it("refuses bad settings and checks the cluster and task definition", async () => {
    assert.throws(() => fargateBackend({ cluster: "", taskDefinition: "t", subnets: ["subnet-1"], securityGroups: ["sg-1"], objects: urlObjects }), /the ECS cluster is required/);
    assert.throws(() => fargateBackend({ cluster: "c", taskDefinition: "t", subnets: ["subnet-x"], securityGroups: ["sg-1"], objects: urlObjects }), /subnets must be subnet ids/);
    assert.throws(() => fargateBackend({ cluster: "c", taskDefinition: "t", subnets: ["subnet-1"], securityGroups: [], objects: urlObjects }), /at least one security group/);
    assert.throws(() => fargateBackend({ cluster: "c", taskDefinition: "t", subnets: ["subnet-1"], securityGroups: ["sg-1"], endpoint: "nowhere", objects: urlObjects }), /endpoint must be a URL/);
    const good = backendWith();
    assert.equal((await good.check()).cluster, `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`);
    await good.close?.();
    const noCluster = backendWith({ cluster: "no-such-cluster" });
    await assert.rejects(noCluster.check(), /ECS cluster no-such-cluster does not exist or is not ACTIVE/);
    await noCluster.close?.();
    const noDefinition = backendWith({ taskDefinition: "no-such-family" });
    await assert.rejects(noDefinition.check(), /the task definition no-such-family is not registered/);
    await noDefinition.close?.();
    const wrongContainer = backendWith({ container: "worker" });
    await assert.rejects(wrongContainer.check(), /has no container named "worker" \(it has smelter\)/);
    await wrongContainer.close?.();
  });
});

describe("fargate backend under the scheduler: Spot interruptions and a task that never starts", () => {
  it("a Spot interruption is TaskPreempted, retried without spending the budget; after N preemptions the task runs on-demand", async () => {
    const backend = backendWith({ spot: { fallbackAfterPreemptions: 2 } });
    const manager = new Manager({ backend });
    const job = manager.job({ name: "spot" });
    const events: SmelterEvent[] = [];
    job.events.on((e) => events.push(e));
    const interrupted: string[] = [];
    job.events.on((e) => {
      // Interrupt the first two attempts as soon as they run.
      if (e.type === "attempt-running" && interrupted.length < 2) {
        interrupted.push(e.runtimeId);
        void ecs.interrupt(e.runtimeId);
      }
    });
    const stage = job.stage({ worker: "sleep", policy: { retry: { maxAttempts: 1, initialInterval: 50 } } });
    stage.push({ ms: 1500 });
    stage.close();
    await within(job.wait(), 60_000, "the job");
    const failed = events.filter((e): e is Extract<SmelterEvent, { type: "attempt-failed" }> => e.type === "attempt-failed");
    assert.deepEqual(failed.slice(0, 2).map((e) => [e.error.type, e.retryable]), [["TaskPreempted", true], ["TaskPreempted", true]]);
    assert.match(failed[0]!.error.message, /was interrupted by Fargate Spot \(Your Spot Task was interrupted\.\)/);
    const running = events.filter((e): e is Extract<SmelterEvent, { type: "attempt-running" }> => e.type === "attempt-running");
    assert.equal(running.length, 3, "two preempted attempts and a third, with maxAttempts 1: preemptions did not spend the budget");
    const providers = await Promise.all(running.map(async (e) => (await describeTask(e.runtimeId)).capacityProviderName ?? (await describeTask(e.runtimeId)).launchType));
    assert.deepEqual(providers, ["FARGATE_SPOT", "FARGATE_SPOT", "FARGATE"], "on-demand after 2 preemptions");
    assert.equal(backend.counts.preempted, 2);
    await backend.close?.();
  });

  it("a task that never starts: the scheduler's startTimeout stops it (StopTask confirmed) and fails the attempt StartTimeout", async () => {
    await ecs.holdProvisioning(true);
    const backend = backendWith();
    const manager = new Manager({ backend });
    const job = manager.job({ name: "never-starts" });
    const events: SmelterEvent[] = [];
    job.events.on((e) => events.push(e));
    try {
      const stage = job.stage({ worker: "echo", policy: { retry: { maxAttempts: 1 }, timeouts: { startTimeout: 800 } } });
      stage.push(1);
      stage.close();
      await assert.rejects(within(job.wait(), 30_000, "the job"), /still pending after 800 ms \(startTimeout\)/);
      await waitFor("the kill to be confirmed", 10_000, () => (events.some((e) => e.type === "kill-confirmed" || e.type === "attempt-abandoned") ? true : undefined));
      assert.ok(events.some((e) => e.type === "kill-confirmed"), "StopTask confirmed, not abandoned");
      const launched = events.find((e): e is Extract<SmelterEvent, { type: "attempt-launched" }> => e.type === "attempt-launched");
      assert.ok(launched);
      const agent = await ecs.agentTasks();
      const last = agent.at(-1)!;
      assert.equal(last.lastStatus, "STOPPED");
      assert.equal(last.pid, null, "no process was ever started");
    } finally {
      await ecs.holdProvisioning(false);
      await backend.close?.();
    }
  });

  it("liveness through the channel: a silent task is lost by the heartbeat timeout and stopped; a beating one outlives it", async () => {
    for (const transport of ["http", "store"] as const) {
      const backend = backendWith({ channel: { transport, pollMs: 200, flushMs: 200 } });
      const manager = new Manager({ backend });
      const events: SmelterEvent[] = [];
      const policy = { retry: { maxAttempts: 1 }, timeouts: { heartbeatTimeout: 4000 } };
      const beatingJob = manager.job({ name: "beating" });
      const beating = beatingJob.stage({ worker: "heartbeats", policy });
      beating.push({ count: 12, gapMs: 500 }); // 6 s, beyond the 4 s timeout: alive only if its heartbeats arrive while it runs
      beating.close();
      const silentJob = manager.job({ name: "silent" });
      silentJob.events.on((e) => events.push(e));
      const silent = silentJob.stage({ worker: "hang", policy });
      silent.push(null);
      silent.close();
      const [beatingDone, silentDone] = await Promise.allSettled([within(beatingJob.wait(), 40_000, "the beating job"), within(silentJob.wait(), 40_000, "the silent job")]);
      assert.equal(beatingDone.status, "fulfilled", `${transport}: ${String((beatingDone as PromiseRejectedResult).reason)}`);
      assert.equal(silentDone.status, "rejected");
      assert.match(String((silentDone as PromiseRejectedResult).reason), /sent no heartbeat or log for [\d.]+ ms \(heartbeatTimeout 4000 ms\)/);
      await waitFor("the lost task's kill", 15_000, () => (events.some((e) => e.type === "kill-confirmed" || e.type === "attempt-abandoned") ? true : undefined));
      assert.ok(events.some((e) => e.type === "kill-confirmed"), `${transport}: the lost task was stopped, StopTask confirmed`);
      const running = events.find((e): e is Extract<SmelterEvent, { type: "attempt-running" }> => e.type === "attempt-running");
      assert.equal((await describeTask(running!.runtimeId)).stopCode, "UserInitiated");
      await backend.close?.();
    }
  });

  it("a Spot task that does not start within spot.startTimeoutMs is stopped and relaunched on-demand, in the same attempt", async () => {
    const backend = backendWith({ spot: { startTimeoutMs: 500 } });
    await ecs.holdProvisioning(true);
    try {
      const r = launch(backend, "echo", "from on-demand");
      await waitFor("the Spot task", 10_000, async () => ((await ecs.agentTasks()).some((t) => t.lastStatus === "PROVISIONING") ? true : undefined));
      // Release the hold once the Spot task was given up, so that the on-demand one starts.
      await waitFor("the fallback", 10_000, async () => (backend.counts.spotFallbacks > 0 ? true : undefined));
      await ecs.holdProvisioning(false);
      const o: AttemptOutcome = await r.outcome;
      assert.ok(o.status === "succeeded" && o.output === "from on-demand", JSON.stringify(o).slice(0, 300));
      const task = await describeTask(r.runtimeId());
      assert.equal(task.launchType, "FARGATE");
      assert.ok(r.events.some((e) => e.kind === "log" && /did not start within 500 ms on Fargate Spot .*relaunched on-demand/.test(e.message)));
      assert.equal(r.events.find((e) => e.kind === "running")?.capacity?.spot, false, "priced on-demand");
    } finally {
      await ecs.holdProvisioning(false);
      await backend.close?.();
    }
  });
});
