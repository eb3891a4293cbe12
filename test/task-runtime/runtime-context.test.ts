/**
 * One runtime context: no module outside it reads the global clock, timers or random ids, and
 * the context reaches hedged reads, manifest polling, heartbeats, stats and the worker's ctx.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import type { TaskEnvelope } from "../../src/backends/contract.js";
import { VirtualClock } from "../../src/job/clock.js";
import { createRuntimeContext } from "../../src/job/runtime-context.js";
import { publishComplete, publishMapOutput, watchMapOutputs } from "../../src/shuffle/manifest.js";
import { delayedStore } from "../../src/storage/delayed.js";
import { memoryStore } from "../../src/storage/memory.js";
import { RangedReader } from "../../src/storage/ranged.js";
import { defineWorker } from "../../src/task-runtime/registry.js";
import { runTask } from "../../src/task-runtime/runtime.js";

const SRC = new URL("../../../src/", import.meta.url).pathname;

/**
 * The only modules that may touch the globals. Each entry says why it cannot take the context.
 * Keep this list short: everything else gets time, timers and ids from its RuntimeContext.
 */
const ALLOWED: Record<string, string> = {
  "job/clock.ts": "the system clock itself (and the virtual clock's event-loop turns)",
  "job/runtime-context.ts": "seeds the default context's random source",
  "report/live-html.ts": "the live page's own script, which runs in the browser (setTimeout there is the page's poll)",
  "backends/remote/channel-token.ts": "per-job access tokens (the remote channel's, the --ui page's) come from the operating system's secure random source (crypto.randomBytes), never from a seeded context",
  "storage/server.ts": "supervises the embedded S3 server's child process (start and kill deadlines in real time), outside any job",
};

const FORBIDDEN: [RegExp, string][] = [
  [/(^|[^.\w])setTimeout\s*\(/, "setTimeout"],
  [/(^|[^.\w])setInterval\s*\(/, "setInterval"],
  [/(^|[^.\w])setImmediate\s*\(/, "setImmediate"],
  [/Date\.now\s*\(/, "Date.now"],
  [/new Date\(\s*\)/, "new Date()"],
  [/randomUUID/, "crypto.randomUUID"],
  [/randomBytes/, "crypto.randomBytes"],
  [/Math\.random\s*\(/, "Math.random"],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
}

test("no module but the runtime context reads the global clock, timers or random ids", () => {
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel in ALLOWED) continue;
    readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments
      for (const [re, what] of FORBIDDEN) if (re.test(line)) offenders.push(`src/${rel}:${i + 1}: ${what}`);
    });
  }
  assert.deepEqual(offenders, [], `use the RuntimeContext (clock, random, ids) instead:\n${offenders.join("\n")}`);
});

test("hedged reads run on the context's clock: a straggling GET is hedged in virtual time", async () => {
  const clock = new VirtualClock(0);
  const inner = memoryStore(`ctx-ranged-${process.pid}`);
  await inner.put("k", new Uint8Array(1000).fill(7));
  const store = delayedStore(inner, { latencyMs: 20, slow: (r) => (r.index === 0 ? 60_000 : 0), clock });
  const reader = new RangedReader(store, { partSize: 1000, hedgeAfter: 3, clock });
  const data = await clock.run(reader.getRange("k", { start: 0, end: 1000 }));
  assert.equal(data.byteLength, 1000);
  assert.ok(clock.now() < 60_000, `the hedge won long before the straggler (at ${clock.now()} ms virtual)`);
  assert.deepEqual(store.requests.map((r) => r.outcome), ["aborted", "done"]);
});

test("manifest polling waits on the context's clock", async () => {
  const clock = new VirtualClock(0);
  const store = memoryStore(`ctx-manifest-${process.pid}`);
  const plan = { storeUrl: store.url, prefix: "job/", stage: 1, partitions: 1, format: "ndjson" };
  const waits: number[] = [];
  const seen: number[] = [];
  const reader = (async () => {
    for await (const out of watchMapOutputs(store, plan, { pollMs: 50, maxPollMs: 400, clock, onWait: () => waits.push(clock.now()) })) seen.push(out.task);
  })();
  const writer = (async () => {
    await clock.sleep(1_000);
    await publishMapOutput(store, plan, { task: 0, attempt: 1, key: "job/s01/t0-a1.seg", offsets: [0, 1] });
    await publishComplete(store, plan, 1);
  })();
  await clock.run(Promise.all([reader, writer]));
  assert.deepEqual(seen, [0]);
  assert.deepEqual(waits.slice(0, 5), [0, 50, 150, 350, 750], "backoff doubles in virtual time");
});

defineWorker("ctx.sleepy", async (input: { ms: number }, ctx) => {
  for (let i = 0; i < 5; i++) ctx.heartbeat({ i });
  await ctx.clock.sleep(input.ms, ctx.signal);
  ctx.count("bytesRead", 3);
  return { deadline: ctx.deadline ?? null, resume: ctx.resume ?? null };
});
defineWorker("ctx.big", (input: { bytes: number }) => "x".repeat(input.bytes));

const envelope = (worker: string, input: unknown, extra: Partial<TaskEnvelope> = {}): TaskEnvelope => ({ attemptId: "jctx-s01-t00000-a2", jobId: "jctx", stage: 1, task: 0, attempt: 2, worker, input, ...extra });
const channel = (beats: unknown[]) => ({ onRunning: () => {}, onLog: () => {}, onHeartbeat: (d?: unknown) => void beats.push(d) });

test("the worker runtime takes the context: ctx.clock, throttled heartbeats and stats on virtual time; deadline and resume reach ctx", async () => {
  const clock = new VirtualClock(1_000);
  const context = createRuntimeContext({ clock, seed: 1 });
  const beats: unknown[] = [];
  const outcome = await clock.run(runTask(envelope("ctx.sleepy", { ms: 250 }, { deadline: 9_000, resume: { attemptId: "jctx-s01-t00000-a1", details: { offset: 42 } } }), channel(beats), new AbortController().signal, { context }));
  assert.equal(outcome.status, "succeeded");
  if (outcome.status !== "succeeded") return;
  assert.deepEqual(outcome.output, { deadline: 9_000, resume: { offset: 42 } });
  assert.equal(outcome.stats.wallMs, 250, "wall time on the context's clock");
  assert.equal(outcome.stats.startedAt, 1_000);
  assert.deepEqual(beats, [{ i: 0 }, { i: 4 }], "leading beat, then the latest details after the throttle");
});

test("outputs are bounded like inputs: over maxOutputBytes is a non-retryable error naming the limit; over the channel's limit goes to the result URL", async () => {
  const signal = new AbortController().signal;
  const tooBig = await runTask(envelope("ctx.big", { bytes: 2_000 }, { maxOutputBytes: 1_000 }), channel([]), signal);
  assert.equal(tooBig.status, "failed");
  if (tooBig.status === "failed") {
    assert.equal(tooBig.error.type, "OutputTooLarge");
    assert.equal(tooBig.error.nonRetryable, true);
    assert.match(tooBig.error.message, /2002 bytes, over the 1000-byte limit \(maxOutputBytes\)/);
    assert.ok(tooBig.stats.wallMs >= 0, "a failure carries stats");
  }
  const written = new Map<string, string>();
  const viaStore = await runTask(envelope("ctx.big", { bytes: 500 }, { maxOutputBytes: 1_000, resultUrl: "mem://work/jctx/results/a2.json" }), channel([]), signal, {
    maxInlineOutputBytes: 100,
    writeResult: async (url, json) => void written.set(url, json),
  });
  assert.equal(viaStore.status, "succeeded");
  assert.equal(viaStore.status === "succeeded" && viaStore.outputUrl, "mem://work/jctx/results/a2.json");
  assert.equal(written.get("mem://work/jctx/results/a2.json"), JSON.stringify("x".repeat(500)));
  const noStore = await runTask(envelope("ctx.big", { bytes: 500 }), channel([]), signal, { maxInlineOutputBytes: 100 });
  assert.ok(noStore.status === "failed" && /over the 100 bytes this backend returns inline.*work store/.test(noStore.error.message));
});

test("stores take the runtime context: times and upload ids come from it, and openStore hands it down", async () => {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { pathToFileURL } = await import("node:url");
  const { openStore } = await import("../../src/storage/url.js");
  const clock = new VirtualClock(1_700_000_000_000);
  const context = () => createRuntimeContext({ clock, seed: 42 });
  const mem = await openStore("memory://context-test/", { context: context() });
  await mem.store.put("k", new TextEncoder().encode("x"));
  assert.equal((await mem.store.head("k"))?.lastModified?.getTime(), 1_700_000_000_000, "memory store's times are the context's clock");
  const dir = await mkdtemp(join(tmpdir(), "smelter-ctx-"));
  try {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { store } = await openStore(`${pathToFileURL(dir).href}/`, { context: context() });
      const id = await store.multipart!.create(`up-${i}`);
      ids.push(id);
      await store.multipart!.abort(`up-${i}`, id);
    }
    assert.equal(ids[0], ids[1], "the same seed gives the same upload id: the local store draws it from the context");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
