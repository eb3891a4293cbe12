import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { processesBackend } from "../../src/backends/index.js";
import { OUTCOME_MARKER } from "../../src/task-runtime/main.js";
import { launch, runBackendConformance, runToEnd, within } from "./conformance.js";

const entry = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
const oneShotMain = fileURLToPath(new URL("../fixtures/oneshot-main.js", import.meta.url));

runBackendConformance("processes", () => processesBackend({ entry, workers: 2, killGraceMs: 200 }), {
  crash: true,
  killHung: true,
  stdio: true,
  warm: true,
});

describe("processes backend", () => {
  it("reports a process that runs out of heap as OutOfMemory", async () => {
    const backend = processesBackend({ entry, workers: 1, maxMemoryMb: 64 });
    try {
      const o = await runToEnd(backend, "oom");
      assert.ok(o.status === "failed");
      assert.equal(o.error.type, "OutOfMemory");
      assert.equal(o.error.nonRetryable, false);
      assert.match(o.error.message, /pid-\d+ .*heap/s);
      const next = await runToEnd(backend, "echo", "alive");
      assert.ok(next.status === "succeeded" && next.output === "alive");
    } finally {
      await backend.close?.();
    }
  });

  it("kills a process that ignores SIGTERM with SIGKILL after the grace", async () => {
    const backend = processesBackend({ entry, workers: 1, killGraceMs: 100 });
    try {
      const r = launch(backend, "stubborn");
      await within(r.running, 10_000, "onRunning");
      const pid = Number(r.runtimeId().slice(4));
      const t0 = Date.now();
      await within(r.handle.kill("stop"), 5000, "kill");
      assert.ok(Date.now() - t0 >= 200, "abort grace, then SIGTERM grace");
      assert.throws(() => process.kill(pid, 0), "the process is gone when kill() resolves");
      const o = await r.outcome;
      assert.ok(o.status === "failed" && o.error.type === "Cancelled");
    } finally {
      await backend.close?.();
    }
  });

  it("names the exit code and the last stderr lines of a crash", async () => {
    const backend = processesBackend({ entry, workers: 1 });
    try {
      await runToEnd(backend, "logs", { console: true });
      const o = await runToEnd(backend, "crash");
      assert.ok(o.status === "failed");
      assert.match(o.error.message, /^\[smelter\] pid-\d+ exited with code 3 while running attempt jconf-s01-t\d+-a1 \(worker "crash"\)/);
      assert.match(o.error.message, /last stderr lines:\n {2}about to exit with code 3$/, "only this attempt's stderr is quoted");
    } finally {
      await backend.close?.();
    }
  });
});

describe("SMELTER_TASK one-shot mode", () => {
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, [oneShotMain], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 10_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith(OUTCOME_MARKER));
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outcome: line ? JSON.parse(line.slice(OUTCOME_MARKER.length)) : undefined };
  };

  it("runs the named worker with SMELTER_INPUT and prints the outcome line", () => {
    const r = run({ SMELTER_TASK: "echo", SMELTER_INPUT: '{"a":[1,2]}' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.outcome.status, "succeeded");
    assert.deepEqual(r.outcome.output, { a: [1, 2] });
    assert.ok(r.outcome.stats.wallMs >= 0);
    assert.doesNotMatch(r.stdout, /manager ran/);
  });

  it("accepts a JSON envelope, finds workers defined after runMain, and exits 1 on failure", () => {
    const envelope = { attemptId: "jab12-s02-t00007-a3", jobId: "jab12", stage: 2, task: 7, attempt: 3, worker: "late", input: "x" };
    const ok = run({ SMELTER_TASK: JSON.stringify(envelope) });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.outcome.output, "late x");
    const failed = run({ SMELTER_TASK: "throws", SMELTER_INPUT: '{"message":"nope"}' });
    assert.equal(failed.status, 1);
    assert.equal(failed.outcome.error.message, "nope");
    const logs = run({ SMELTER_TASK: "logs" });
    assert.match(logs.stdout, /first 1\nsecond 2 \{ x: 1 \}\nthird\n/);
  });

  it("runs the manager when SMELTER_TASK is unset, exit code 1 when it throws", () => {
    const env = { SMELTER_TASK: "" };
    const ok = run(env);
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /manager ran/);
    const failed = run({ ...env, FAIL_MANAGER: "1" });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /\[smelter\] Error: the manager failed on purpose/);
  });
});
