/**
 * Ctrl-C while a `threads` pool's DuckDB runs a long query: the attempt's query is interrupted
 * (task-resources.ts `withDuckDb`), so the attempt ends within the kill's grace and no thread is
 * terminated with its DuckDB busy, which aborted the whole process before ("terminate called after
 * throwing an instance of 'Napi::Error'", exit 134). The command exits 130 and says it cancelled.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "smelter-interrupt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("Ctrl-C while the threads' DuckDB runs a long query: exit 130, cancelled, no native abort", async () => {
  mkdirSync(join(dir, "t"));
  const rows = Array.from({ length: 100_000 }, (_, i) => `k${i % 97},${i}`).join("\n");
  for (const f of ["a", "b"]) writeFileSync(join(dir, "t", `${f}.csv`), `k,v\n${rows}\n`);
  const events = join(dir, "events.jsonl");
  // Each task's query takes seconds: repeat() builds a 20,000-character string per row.
  const child = spawn(process.execPath, [bin, "sql", "SELECT k, sum(length(repeat(k, 20000))) AS s FROM t GROUP BY k", "--table", `t=${join(dir, "t")}/`, "--backend", "threads", "--workers", "2", "--quiet", "--events", events], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const deadline = performance.now() + 60_000;
    while (!(existsSync(events) && readFileSync(events, "utf8").includes('"attempt-running"'))) {
      assert.ok(performance.now() < deadline, `no attempt ran within 60 s: ${stderr}`);
      await sleep(100);
    }
    await sleep(500); // inside the query
    child.kill("SIGINT");
    const code = await Promise.race([exited, sleep(30_000).then(() => "still running")]);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /cancelled: interrupted \(Ctrl-C\)/);
    assert.doesNotMatch(stderr, /terminate called|Napi::Error/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});
