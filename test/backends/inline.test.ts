import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { existsSync, mkdirSync } from "node:fs";
import { createBackend, inlineBackend } from "../../src/backends/index.js";
import { jobTempDir } from "../../src/job/temporaries.js";
import { ConfigError } from "../../src/job/errors.js";
import "../fixtures/workers.js";
import { launch, runBackendConformance, runToEnd, within } from "./conformance.js";

runBackendConformance("inline", () => inlineBackend({ killGraceMs: 200 }), {
  crash: "inline cannot survive a crash: process.exit would end the test process itself",
  killHung: "inline cannot stop a function that ignores its signal: kill() abandons it (tested below)",
  stdio: "inline does not capture console output: it shares the manager's stdout and stderr",
  warm: "inline has no workers to keep warm",
});

describe("inline backend", () => {
  it("abandons a function that ignores its signal: Cancelled at once, kill resolves after the grace", async () => {
    const backend = inlineBackend({ killGraceMs: 100 });
    const r = launch(backend, "hang");
    await within(r.running, 5000, "onRunning");
    const t0 = Date.now();
    const killed = r.handle.kill("stop");
    const outcome = await within(r.outcome, 50, "Cancelled outcome");
    assert.equal(outcome.status === "failed" && outcome.error.type, "Cancelled");
    assert.equal(await killed, "abandoned", "a function that ignores its signal cannot be confirmed stopped");
    assert.ok(Date.now() - t0 >= 90, "kill waited for the grace time");
  });

  it("close removes the local temp directory of every job it ran (a worker stopped midway may have made it again)", async () => {
    const backend = inlineBackend();
    assert.equal((await runToEnd(backend, "echo", 1)).status, "succeeded");
    const dir = jobTempDir("jconf"); // the conformance envelopes' job
    mkdirSync(dir, { recursive: true });
    await backend.close?.();
    assert.ok(!existsSync(dir), `${dir} removed`);
  });

  it("fails launches after close with a ConfigError", async () => {
    const backend = inlineBackend();
    await backend.close?.();
    const o = await runToEnd(backend, "echo", 1);
    assert.equal(o.status === "failed" && o.error.type, "ConfigError");
  });
});

describe("createBackend", () => {
  it("creates backends by name and validates their options", async () => {
    const b = createBackend("inline", { maxConcurrency: 3 });
    assert.equal(b.name, "inline");
    assert.equal(b.maxConcurrency, 3);
    assert.throws(() => createBackend("inline", { maxConcurrency: 0 }), (e: unknown) => e instanceof ConfigError && /maxConcurrency/.test(e.message));
    assert.throws(() => createBackend("threads", { workers: 2, wrokers: 3 } as never), /wrokers/);
    assert.throws(() => createBackend("processes", { killGraceMs: -1 }), /killGraceMs/);
  });

  it("names the valid backends when the name is unknown", () => {
    assert.throws(
      () => createBackend("lamda"),
      (e: unknown) => e instanceof ConfigError && /unknown backend "lamda".*inline, threads, processes/.test(e.message),
    );
  });
});
