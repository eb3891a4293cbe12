import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { threadsBackend } from "../../src/backends/index.js";
import { runBackendConformance, runToEnd } from "./conformance.js";

const entry = new URL("../fixtures/workers.js", import.meta.url);

runBackendConformance("threads", () => threadsBackend({ entry, workers: 2, killGraceMs: 200 }), {
  crash: true,
  killHung: true,
  stdio: true,
  warm: true,
});

describe("threads backend", () => {
  it("reports a thread that reaches its heap limit as OutOfMemory", async () => {
    const backend = threadsBackend({ entry, workers: 1, maxMemoryMb: 64 });
    try {
      const o = await runToEnd(backend, "oom");
      assert.equal(o.status, "failed");
      assert.ok(o.status === "failed");
      assert.equal(o.error.type, "OutOfMemory");
      assert.equal(o.error.nonRetryable, false);
      assert.match(o.runtimeId, /^thread-\d+$/);
      const next = await runToEnd(backend, "echo", "alive");
      assert.ok(next.status === "succeeded" && next.output === "alive");
    } finally {
      await backend.close?.();
    }
  });

  it("fails with a ConfigError naming the entry module when it cannot be loaded", async () => {
    const backend = threadsBackend({ entry: "/nonexistent/workers.js", workers: 1 });
    try {
      const o = await runToEnd(backend, "echo", 1);
      assert.ok(o.status === "failed");
      assert.equal(o.error.type, "ConfigError");
      assert.match(o.error.message, /nonexistent\/workers\.js/);
    } finally {
      await backend.close?.();
    }
  });
});
