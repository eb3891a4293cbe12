/**
 * A worker process killed from outside while it loads its entry module is not "an entry module
 * that cannot be imported": another worker starts and the attempt runs; only workers killed
 * again and again fail what waits, saying something outside kills them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { processesBackend } from "../../src/backends/index.js";
import { launch, within } from "./conformance.js";

const entry = fileURLToPath(new URL("../fixtures/slow-entry.js", import.meta.url));

/** The pid of a child process of this test that was not seen before, once it exists. */
async function newChild(seen: Set<number>): Promise<number> {
  for (let i = 0; i < 100; i++) {
    // by the worker's entry in its command line: `comm` is "node" only until Node 24 names the
    // main thread "MainThread"
    const pids = execFileSync("ps", ["-o", "pid=,stat=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([, stat, ...args]) => args.some((a) => a.endsWith("bootstrap-process.js")) && !stat?.startsWith("Z"))
      .map(([pid]) => Number(pid))
      .filter((p) => p > 0 && !seen.has(p));
    if (pids.length > 0) return pids[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no worker process started");
}

describe("processes backend: a worker killed while starting", () => {
  it("killed once by SIGKILL while loading: another worker starts and the attempt succeeds", async () => {
    const backend = processesBackend({ entry, workers: 1 });
    try {
      const r = launch(backend, "echo", "after a kill");
      const pid = await newChild(new Set());
      process.kill(pid, "SIGKILL");
      const o = await within(r.outcome, 30_000, "the attempt");
      assert.ok(o.status === "succeeded", JSON.stringify(o));
      assert.equal(o.output, "after a kill");
    } finally {
      await backend.close?.();
    }
  });

  it("killed three times in a row: what waits fails, saying something outside kills the workers", async () => {
    const backend = processesBackend({ entry, workers: 1 });
    try {
      const r = launch(backend, "echo", "never");
      const seen = new Set<number>();
      for (let k = 0; k < 3; k++) {
        const pid = await newChild(seen);
        seen.add(pid);
        process.kill(pid, "SIGKILL");
      }
      const o = await within(r.outcome, 30_000, "the attempt");
      assert.ok(o.status === "failed");
      assert.match(o.error.message, /was killed by SIGKILL while loading its entry module, 3 times in a row: something outside Smelter kills the workers/);
      assert.doesNotMatch(o.error.message, /check that the entry module can be imported/);
    } finally {
      await backend.close?.();
    }
  });
});
