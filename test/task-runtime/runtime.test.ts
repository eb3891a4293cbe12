import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import type { AttemptOutcome, TaskEnvelope } from "../../src/backends/contract.js";
import { defineWorker } from "../../src/task-runtime/registry.js";
import { closeAtWorkerEnd } from "../../src/job/warm-resources.js";
import { runTask, serveTasks, type FromWorkerMessage, type ToWorkerMessage } from "../../src/task-runtime/runtime.js";
import { StatsCollector } from "../../src/task-runtime/stats.js";
import { isWorkerProcess } from "../../src/task-runtime/main.js";
import "../fixtures/workers.js";

defineWorker("rt.date", () => ({ when: new Date(0), nothing: undefined }));
defineWorker("rt.void", () => {});
defineWorker("rt.badSchema", () => 42 as unknown as string, { output: z.string() });
defineWorker("rt.alloc", async (_: unknown, ctx) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < 20; i++) chunks.push(Buffer.alloc(2 * 1024 * 1024, i));
  await new Promise((r) => setTimeout(r, 120));
  ctx.count("chunks", chunks.length);
  return chunks.length;
});

const envelope = (worker: string, input: unknown = null): TaskEnvelope => ({ attemptId: "jrt-s01-t00000-a1", jobId: "jrt", stage: 1, task: 0, attempt: 1, worker, input });

function collect() {
  const seen: string[] = [];
  const channel = {
    onRunning: () => seen.push("running"),
    onLog: (stream: string, message: string) => seen.push(`${stream}:${message}`),
    onHeartbeat: (d?: unknown) => seen.push(`hb:${JSON.stringify(d)}`),
  };
  return { seen, channel };
}

const run = (worker: string, input?: unknown, signal = new AbortController().signal) => runTask(envelope(worker, input), collect().channel, signal);
const errorOf = (o: AttemptOutcome) => (assert.ok(o.status === "failed", JSON.stringify(o)), o.error);

describe("runTask", () => {
  it("rejects a bad envelope as a non-retryable ValidationError", async () => {
    const e = errorOf(await runTask({ worker: "echo" } as TaskEnvelope, collect().channel, new AbortController().signal));
    assert.equal(e.type, "ValidationError");
    assert.equal(e.nonRetryable, true);
    assert.match(e.message, /attemptId/);
  });

  it("names the missing worker, the registered ones and the entry option", async () => {
    const e = errorOf(await run("nope"));
    assert.equal(e.name, "ConfigError");
    assert.equal(e.nonRetryable, true);
    assert.match(e.message, /no worker named "nope" \(registered here: .*echo.*\).*`entry`.*defineWorker\("nope", fn\)/);
  });

  it("validates input and output with the worker's schemas", async () => {
    assert.equal(errorOf(await run("add", { a: 1 })).type, "ValidationError");
    const out = await run("add", { a: 1, b: 2 });
    assert.ok(out.status === "succeeded" && out.output === 3);
    assert.match(errorOf(await run("rt.badSchema")).message, /does not match its schema/);
  });

  it("returns JSON: undefined becomes null, Dates become strings, BigInt fails", async () => {
    const d = await run("rt.date");
    assert.ok(d.status === "succeeded");
    assert.deepEqual(d.output, { when: "1970-01-01T00:00:00.000Z" });
    const v = await run("rt.void");
    assert.ok(v.status === "succeeded" && v.output === null);
    const e = errorOf(await run("badOutput"));
    assert.equal(e.type, "ValidationError");
    assert.match(e.message, /not JSON-serialisable.*BigInt/);
  });

  it("reports Cancelled when the signal is aborted, before or during the run", async () => {
    const pre = new AbortController();
    pre.abort(new Error("too late"));
    const { seen, channel } = collect();
    const e1 = errorOf(await runTask(envelope("echo"), channel, pre.signal));
    assert.equal(e1.type, "Cancelled");
    assert.deepEqual(seen, [], "onRunning is not called for an attempt that never ran");
    const during = new AbortController();
    const p = runTask(envelope("cooperativeHang"), collect().channel, during.signal);
    setTimeout(() => during.abort(new Error("lost the race")), 20);
    const o = await p;
    const e2 = errorOf(o);
    assert.equal(e2.type, "Cancelled");
    assert.match(e2.message, /jrt-s01-t00000-a1 was cancelled: lost the race/);
    assert.ok(e2.cause, "the function's own error is kept as the cause");
    assert.ok(o.stats && o.stats.wallMs >= 10);
  });

  it("formats logs like console.log and throttles heartbeats; a throwing listener is harmless", async () => {
    const { seen, channel } = collect();
    const o = await runTask(envelope("logs"), channel, new AbortController().signal);
    assert.ok(o.status === "succeeded");
    assert.deepEqual(seen, ["running", "log:first 1", "log:second 2 { x: 1 }", "log:third"]);
    const burst = collect();
    await runTask(envelope("heartbeatBurst", { count: 100 }), burst.channel, new AbortController().signal);
    assert.deepEqual(burst.seen, ["running", 'hb:{"i":0}', 'hb:{"i":99}']);
    const throwing = { onRunning: () => { throw new Error("x"); }, onLog: () => { throw new Error("y"); }, onHeartbeat: () => {} };
    const ok = await runTask(envelope("logs"), throwing, new AbortController().signal);
    assert.equal(ok.status, "succeeded");
  });

  it("measures the attempt: peak RSS sampled while it runs, counters, where it ran", async () => {
    const rssBefore = process.memoryUsage.rss();
    const o = await run("rt.alloc");
    assert.ok(o.status === "succeeded");
    assert.ok(o.stats.peakRssBytes >= rssBefore + 30 * 1024 * 1024, `peak ${o.stats.peakRssBytes} vs ${rssBefore} before 40 MiB were allocated`);
    assert.ok(o.stats.wallMs >= 100);
    assert.equal(o.stats.counters.chunks, 20);
    assert.equal(o.stats.pid, process.pid);
    assert.equal(o.stats.threadId, undefined);
    assert.ok(o.stats.loadAvg.max >= 0);
  });
});

describe("serveTasks", () => {
  it("after a shutdown: the running attempt ends, then the warm resources close (latest first), then the worker exits, running nothing more", async () => {
    const seen: string[] = [];
    let deliver!: (m: ToWorkerMessage) => void;
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    const exited = new Promise<void>((resolve) => {
      void serveTasks(
        {
          send: (m: FromWorkerMessage) => {
            if (m.type === "running") running();
            if (m.type === "outcome") seen.push(`outcome ${m.attemptId} ${m.outcome.status}`);
          },
          onMessage: (handler) => (deliver = handler),
          exit: () => (seen.push("exit"), resolve()),
        },
        undefined,
        { endMarkers: false },
      );
    });
    closeAtWorkerEnd(() => void seen.push("close the first"));
    closeAtWorkerEnd(async () => {
      await new Promise((r) => setTimeout(r, 10));
      seen.push("close the second");
    });
    const forget = closeAtWorkerEnd(() => void seen.push("close one closed earlier"));
    forget(); // closed before the end: not closed again
    deliver({ type: "run", envelope: { ...envelope("sleep", { ms: 50 }), attemptId: "jrt-s01-t00000-a1" } });
    await started;
    deliver({ type: "shutdown" });
    deliver({ type: "run", envelope: { ...envelope("echo", 1), attemptId: "jrt-s01-t00001-a1" } });
    await exited;
    assert.deepEqual(seen, ["outcome jrt-s01-t00000-a1 succeeded", "close the second", "close the first", "exit"]);
  });
});

describe("StatsCollector", () => {
  it("returns the same stats when finished twice and ignores non-finite counts", () => {
    const c = new StatsCollector();
    c.start();
    c.count("x", Number.NaN);
    c.count("x", 2);
    const a = c.finish();
    assert.equal(a.counters.x, 2);
    assert.equal(c.finish(), a);
    assert.ok(a.peakRssBytes > 0);
  });
});

describe("isWorkerProcess", () => {
  it("is false in the manager (SMELTER_TASK unset)", () => {
    assert.equal(isWorkerProcess(), Boolean(process.env.SMELTER_TASK));
  });
});
