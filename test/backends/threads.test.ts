import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { threadsBackend } from "../../src/backends/index.js";
import { launch, runBackendConformance, runToEnd, within } from "./conformance.js";

const entry = new URL("../fixtures/workers.js", import.meta.url);
const warmEntry = new URL("../fixtures/warm-workers.js", import.meta.url);

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

describe("threads backend close", () => {
  /** A grace no thread needs: a close that waited for it would fail `within` first. */
  const LONG_GRACE_MS = 120_000;

  const withDir = async (f: (dir: string) => Promise<void>): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-threads-close-"));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("lets each thread close what it keeps warm (its open DuckDB) and end on its own", () =>
    withDir(async (dir) => {
      const path = join(dir, "warm.duckdb");
      const journal = join(dir, "journal");
      const backend = threadsBackend({ entry: warmEntry, workers: 1, killGraceMs: LONG_GRACE_MS });
      try {
        const o = await runToEnd(backend, "warmDuckDb", { path, journal });
        assert.ok(o.status === "succeeded", JSON.stringify(o));
        assert.deepEqual(o.output, { wal: true }, "while the DuckDB is open, its row is in the WAL");
        assert.equal(existsSync(journal), false);
        await within(backend.close!(), 60_000, "close");
        assert.equal(readFileSync(journal, "utf8"), "closed\n", "the thread ran its close-at-end hooks once");
        assert.equal(existsSync(`${path}.wal`), false, "the thread closed its DuckDB (which checkpoints the WAL into the file)");
      } finally {
        await backend.close?.();
      }
    }));

  it("aborts the attempt a thread runs at close, then lets the thread end on its own", async () => {
    const backend = threadsBackend({ entry, workers: 1, killGraceMs: LONG_GRACE_MS });
    try {
      const run = launch(backend, "cooperativeHang");
      await run.running;
      await within(backend.close!(), 60_000, "close");
      const o = await run.outcome;
      assert.ok(o.status === "failed");
      assert.equal(o.error.type, "Cancelled");
    } finally {
      await backend.close?.();
    }
  });

  it("terminates a thread that does not end within killGraceMs, so close never hangs", () =>
    withDir(async (dir) => {
      const journal = join(dir, "journal");
      const backend = threadsBackend({ entry: warmEntry, workers: 1, killGraceMs: 100 });
      try {
        const o = await runToEnd(backend, "stuckAtEnd", { journal });
        assert.equal(o.status, "succeeded");
        await within(backend.close!(), 60_000, "close");
        assert.equal(readFileSync(journal, "utf8"), "closing\n", "the thread was asked to end, and began closing");
      } finally {
        await backend.close?.();
      }
    }));
});
