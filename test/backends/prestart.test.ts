/**
 * `prestart()` of the local pools: the workers start before the first launch (so that their start
 * overlaps the caller's planning), the attempts then run on them, and close() stops them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { runToEnd } from "./conformance.js";

const entry = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));

/** The pids of this process's child processes. */
function children(): Set<number> {
  const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  // Only the worker processes, by their bootstrap in the command line (`ps` itself is a child while
  // it runs; `comm` is "node" only until Node 24 names the main thread "MainThread").
  return new Set(out.split("\n").filter((l) => l.includes("bootstrap-process.js")).map((l) => Number.parseInt(l.trim(), 10)).filter((n) => n > 0));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("prestart", () => {
  it("processes: starts every worker before any launch; the attempts run on them; close() stops them", async () => {
    const before = children();
    const backend = processesBackend({ entry, workers: 2 });
    try {
      backend.prestart!();
      const started = [...children()].filter((pid) => !before.has(pid));
      assert.equal(started.length, 2, "two worker processes started by prestart()");
      const [a, b] = await Promise.all([runToEnd(backend, "echo", 1), runToEnd(backend, "echo", 2)]);
      assert.ok(a.status === "succeeded" && a.output === 1 && b.status === "succeeded" && b.output === 2);
      const ran = new Set([a.runtimeId, b.runtimeId]);
      for (const id of ran) assert.ok(started.includes(Number(id.slice("pid-".length))), `${id} is a prestarted worker (${started.join(", ")})`);
      assert.equal([...children()].filter((pid) => !before.has(pid)).length, 2, "no worker started beyond the prestarted ones");
      await backend.close!();
      for (const pid of started) assert.equal(alive(pid), false, `worker ${pid} stopped by close()`);
    } finally {
      await backend.close?.();
    }
  });

  it("processes: prestart() twice starts no more workers, and after close() starts none", async () => {
    const before = children();
    const backend = processesBackend({ entry, workers: 1 });
    backend.prestart!();
    backend.prestart!();
    assert.equal([...children()].filter((pid) => !before.has(pid)).length, 1);
    await backend.close!();
    const after = children();
    backend.prestart!();
    assert.deepEqual([...children()].filter((pid) => !after.has(pid)), [], "a closed pool starts nothing");
  });

  it("threads: the prestarted worker runs the first attempt", async () => {
    const backend = threadsBackend({ entry, workers: 1 });
    try {
      backend.prestart!();
      const o = await runToEnd(backend, "echo", "x");
      assert.ok(o.status === "succeeded" && o.output === "x");
      const again = await runToEnd(backend, "echo", "y");
      assert.equal(again.runtimeId, o.runtimeId, "one worker in all");
    } finally {
      await backend.close?.();
    }
  });
});
