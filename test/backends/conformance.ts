/**
 * The backend conformance suite: every backend's test file runs it. Cases a backend cannot
 * support are skipped with the reason given in its capabilities.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AttemptHandle, AttemptOutcome, Backend, TaskEnvelope } from "../../src/backends/contract.js";
import { attemptOutcomeSchema } from "../../src/backends/contract.js";
import type { AttemptCapacity } from "../../src/job/attempt.js";
import { attemptId } from "../../src/job/ids.js";
import { bigString } from "../fixtures/workers.js";

/** `true` when supported, or the reason it is skipped. */
export interface BackendCapabilities {
  /** A worker that calls process.exit is reported as TaskCrashed and replaced. */
  crash: true | string;
  /** A worker that ignores its signal is stopped by kill(). */
  killHung: true | string;
  /** Raw stdout/stderr lines of the worker arrive as log events. */
  stdio: true | string;
  /** Workers stay warm: consecutive attempts run on the same runtime. */
  warm: true | string;
  /** A kill of a running cooperative attempt is confirmed as "stopped" (a backend that cannot stop one says "abandoned"). @default true */
  stoppable?: true | string;
}

type Event = { kind: "running"; cold?: boolean; capacity?: AttemptCapacity } | { kind: "log"; stream: string; message: string } | { kind: "heartbeat"; details: unknown } | { kind: "outcome" };

export interface Run {
  handle: AttemptHandle;
  /** The final runtime id, from onRunning (the handle's may be a placeholder). */
  runtimeId(): string;
  events: Event[];
  running: Promise<void>;
  outcome: Promise<AttemptOutcome>;
}

let nextTask = 0;

export function envelope(worker: string, input: unknown): TaskEnvelope {
  const ids = { jobId: "jconf", stage: 1, task: nextTask++, attempt: 1 };
  return { ...ids, attemptId: attemptId(ids), worker, input };
}

/** Launches one attempt and records what the listener saw. */
export function launch(backend: Backend, worker: string, input: unknown = null): Run {
  const events: Event[] = [];
  let markRunning!: () => void;
  const running = new Promise<void>((r) => (markRunning = r));
  let runtimeId: string | undefined;
  const handle = backend.launch(envelope(worker, input), {
    onRunning: (info) => (events.push({ kind: "running", cold: info.cold, ...(info.capacity ? { capacity: info.capacity } : {}) }), (runtimeId = info.runtimeId), markRunning()),
    onLog: (stream, message) => events.push({ kind: "log", stream, message }),
    onHeartbeat: (details) => events.push({ kind: "heartbeat", details }),
  });
  const outcome = within(handle.result, 20_000, `outcome of ${worker}`).then((o) => {
    events.push({ kind: "outcome" });
    assert.ok(attemptOutcomeSchema.safeParse(o).success, `outcome matches the schema: ${JSON.stringify(o).slice(0, 300)}`);
    return o;
  });
  return { handle, events, running, outcome, runtimeId: () => runtimeId ?? handle.runtimeId };
}

export async function runToEnd(backend: Backend, worker: string, input: unknown = null): Promise<AttemptOutcome & { events: Event[]; runtimeId: string }> {
  const r = launch(backend, worker, input);
  const o = await r.outcome;
  return { ...o, events: r.events, runtimeId: r.runtimeId() };
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function errorOf(o: AttemptOutcome) {
  assert.equal(o.status, "failed", `expected a failure, got ${JSON.stringify(o).slice(0, 200)}`);
  return (o as Extract<AttemptOutcome, { status: "failed" }>).error;
}

function outputOf(o: AttemptOutcome): unknown {
  assert.equal(o.status, "succeeded", `expected success, got ${JSON.stringify(o).slice(0, 500)}`);
  return (o as Extract<AttemptOutcome, { status: "succeeded" }>).output;
}

export function runBackendConformance(name: string, makeBackend: () => Backend, caps: BackendCapabilities): void {
  describe(`${name} backend conformance`, () => {
    let backend: Backend;
    before(() => {
      backend = makeBackend();
    });
    after(async () => {
      await backend.close?.();
    });

    it("runs a task: output, stats, onRunning before the outcome", async () => {
      const o = await runToEnd(backend, "echo", { hello: "world", n: [1, 2] });
      assert.deepEqual(outputOf(o), { hello: "world", n: [1, 2] });
      assert.deepEqual(o.events.map((e) => e.kind), ["running", "outcome"]);
      assert.equal(typeof (o.events[0] as { cold?: boolean }).cold, "boolean", "onRunning says whether the start was cold");
      assert.ok(o.runtimeId && !o.runtimeId.endsWith("pending"), `runtimeId ${o.runtimeId}`);
      assert.equal(outputOf(await runToEnd(backend, "add", { a: 2, b: 3 })), 5);
    });

    it("returns sane stats with the task's counters", async () => {
      const slept = await runToEnd(backend, "sleep", { ms: 30 });
      assert.ok(slept.status === "succeeded");
      const s = slept.stats;
      assert.ok(s.wallMs >= 25 && s.wallMs < 5000, `wallMs ${s.wallMs}`);
      assert.ok(s.cpuUserMs >= 0 && s.cpuSystemMs >= 0);
      assert.ok(s.peakRssBytes > 10 * 1024 * 1024, `peakRssBytes ${s.peakRssBytes}`);
      assert.ok(s.loadAvg.mean >= 0 && s.loadAvg.max >= s.loadAvg.mean - 1e-9);
      assert.ok(s.startedAt > Date.now() - 60_000 && s.endedAt >= s.startedAt);
      assert.equal(typeof s.pid, "number");
      const counted = await runToEnd(backend, "stats", { bytes: 1234 });
      assert.ok(counted.status === "succeeded");
      assert.equal(counted.stats.counters.bytesRead, 1234);
      assert.equal(counted.stats.counters.readRequests, 1);
      assert.equal(counted.stats.counters.rows, 7);
      assert.equal(counted.stats.counters.bytesWritten, 0);
      assert.ok(counted.stats.wallMs > 0);
    });

    it("reports a thrown error as retryable data", async () => {
      const e = errorOf(await runToEnd(backend, "throws", { message: "kaput" }));
      assert.equal(e.name, "Error");
      assert.equal(e.type, "Error");
      assert.equal(e.message, "kaput");
      assert.equal(e.nonRetryable, false);
      assert.match(e.stack ?? "", /kaput/);
    });

    it("keeps nonRetryable=true across the boundary", async () => {
      const e = errorOf(await runToEnd(backend, "nonRetryable"));
      assert.equal(e.name, "NonRetryableError");
      assert.equal(e.type, "NonRetryable");
      assert.equal(e.nonRetryable, true);
      assert.match(e.message, /does not exist/);
    });

    it("fails an unknown worker or invalid input without retry", async () => {
      const missing = errorOf(await runToEnd(backend, "noSuchWorker"));
      assert.equal(missing.type, "ConfigError");
      assert.equal(missing.nonRetryable, true);
      assert.match(missing.message, /"noSuchWorker".*echo.*entry/s);
      const invalid = errorOf(await runToEnd(backend, "add", { a: "2" }));
      assert.equal(invalid.type, "ValidationError");
      assert.equal(invalid.nonRetryable, true);
    });

    it("reports a crash as TaskCrashed and keeps working", { skip: caps.crash === true ? false : caps.crash }, async () => {
      const e = errorOf(await runToEnd(backend, "crash"));
      assert.equal(e.type, "TaskCrashed");
      assert.equal(e.nonRetryable, false);
      assert.match(e.message, /code 3/);
      assert.equal(outputOf(await runToEnd(backend, "echo", "after crash")), "after crash");
      const uncaught = errorOf(await runToEnd(backend, "asyncThrow"));
      assert.equal(uncaught.type, "TaskCrashed");
      assert.match(uncaught.message, /uncaught in a timer|code 1/);
      assert.equal(outputOf(await runToEnd(backend, "echo", "after uncaught")), "after uncaught");
    });

    it("kills a task that ignores its signal: kill resolves, outcome Cancelled", { skip: caps.killHung === true ? false : caps.killHung }, async () => {
      const r = launch(backend, "hang");
      await within(r.running, 10_000, "onRunning");
      const t0 = Date.now();
      await within(r.handle.kill("test kill"), 10_000, "kill of a hung task");
      const e = errorOf(await r.outcome);
      assert.equal(e.type, "Cancelled");
      assert.match(e.message, /test kill/);
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(outputOf(await runToEnd(backend, "echo", "after kill")), "after kill");
    });

    it("cancels a cooperative task quickly and keeps its worker", { skip: (caps.stoppable ?? true) === true ? false : caps.stoppable }, async () => {
      const before = await runToEnd(backend, "echo", 1);
      const r = launch(backend, "cooperativeHang");
      await within(r.running, 10_000, "onRunning");
      const handleId = r.handle.runtimeId;
      const t0 = Date.now();
      assert.equal(await within(r.handle.kill("no longer needed"), 5000, "kill of a cooperative task"), "stopped", "a confirmed kill says stopped");
      assert.ok(Date.now() - t0 < 400, `cooperative kill took ${Date.now() - t0} ms`);
      assert.equal(r.handle.runtimeId, handleId, "the handle's runtime id never changes");
      const killed = await r.outcome;
      assert.ok(killed.stats && killed.stats.endedAt >= killed.stats.startedAt, "a cancelled outcome carries stats");
      const e = errorOf(killed);
      assert.equal(e.type, "Cancelled");
      assert.match(e.message, /no longer needed/);
      const next = await runToEnd(backend, "echo", 2);
      assert.equal(outputOf(next), 2);
      if (caps.warm === true) {
        assert.equal(next.runtimeId, before.runtimeId, "the worker stayed warm");
        assert.equal((next.events[0] as { cold?: boolean }).cold, false, "a warm worker's start is not cold");
      }
    });

    it("kill after the outcome is a no-op", async () => {
      const r = launch(backend, "echo", 3);
      assert.equal(outputOf(await r.outcome), 3);
      await within(r.handle.kill("late"), 1000, "late kill");
      assert.equal(outputOf(await r.handle.result), 3);
    });

    it("streams logs in order, before the outcome", async () => {
      const o = await runToEnd(backend, "logs", { console: caps.stdio === true });
      assert.equal(outputOf(o), "logged");
      const lines = (stream: string) => o.events.flatMap((e) => (e.kind === "log" && e.stream === stream ? [e.message] : []));
      assert.deepEqual(lines("log"), ["first 1", "second 2 { x: 1 }", "third"]);
      if (caps.stdio === true) {
        assert.deepEqual(lines("stdout"), ["out one", "out two", "partial line without newline"]);
        assert.deepEqual(lines("stderr"), ["err one"]);
      }
      assert.equal(o.events.at(-1)?.kind, "outcome");
    });

    it("delivers heartbeats, throttled", async () => {
      const spaced = await runToEnd(backend, "heartbeats", { count: 3, gapMs: 120 });
      const details = (o: typeof spaced) => o.events.flatMap((e) => (e.kind === "heartbeat" ? [e.details] : []));
      assert.deepEqual(details(spaced), [{ i: 0 }, { i: 1 }, { i: 2 }]);
      const burst = await runToEnd(backend, "heartbeatBurst", { count: 50 });
      assert.deepEqual(details(burst), [{ i: 0 }, { i: 49 }]);
    });

    it("returns a 10 MB output intact", async () => {
      const o = await runToEnd(backend, "bigOutput", { mb: 10 });
      const out = outputOf(o) as string;
      assert.equal(out.length, 10 * 1024 * 1024);
      assert.ok(out === bigString(10), "the output is byte for byte what the worker returned");
    });

    it("runs up to maxConcurrency attempts at once and queues the rest", async () => {
      const n = backend.maxConcurrency ?? 4;
      // Workers start lazily and a busy machine may start one late, so measure up to 3 rounds.
      let best = 0;
      for (let round = 0; round < 3 && best < n + (backend.maxConcurrency === undefined ? 1 : 0); round++) {
        const runs = Array.from({ length: n + 1 }, () => launch(backend, "sleep", { ms: 300 }));
        const outcomes = await Promise.all(runs.map((r) => r.outcome));
        const intervals = outcomes.map((o) => (assert.ok(o.status === "succeeded"), [o.stats.startedAt, o.stats.endedAt] as const));
        // Start and end are read by each worker on its own clock (performance.timeOrigin + now(),
        // sub-millisecond): clocks of two threads or processes may disagree by a fraction of a
        // millisecond, so one attempt's end and the next one's start are compared with 1 ms of slack.
        const peak = maxOverlap(intervals.map(([s, e]) => [s + CLOCK_SKEW_MS, e - CLOCK_SKEW_MS] as const));
        if (backend.maxConcurrency !== undefined) assert.ok(peak <= n, `${peak} attempts ran at once, more than maxConcurrency=${n}`);
        best = Math.max(best, peak);
      }
      if (backend.maxConcurrency === undefined) assert.equal(best, n + 1, "every attempt ran at once");
      else assert.equal(best, n, `maxConcurrency=${n} attempts ran at once`);
    });
  });
}

/** How far two workers' clocks may disagree (see the maxConcurrency test). */
const CLOCK_SKEW_MS = 1;

/** The largest number of [start, end) intervals that overlap at one instant. */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const points = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of points) peak = Math.max(peak, (now += d));
  return peak;
}
