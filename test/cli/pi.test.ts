/** The CLI as a user runs it: `smelter pi`, --events, bad flags, Ctrl-C. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

function smelter(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
}

test("--version and --help", () => {
  assert.match(smelter("--version").stdout, /^\d+\.\d+\.\d+/);
  const help = smelter("--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /pi/);
  assert.match(help.stdout, /query2/);
});

test("pi: the result on stdout, progress lines on stderr, every event in --events", () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-cli-"));
  const events = join(dir, "events.jsonl");
  const r = smelter("pi", "--backend", "threads", "--workers", "2", "--tasks", "6", "--samples", "20000", "--stragglers", "0", "--events", events);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pi ~ 3\.1\d+/);
  // 6 tasks and 1 retry (the demo fails one task once); tiny tasks may also draw a speculative
  // duplicate, and when the duplicate of the attempt meant to fail wins first, that attempt is
  // cancelled before it fails: no retry then (seen once on Node 24: 7 attempts, 0 retries, 1 won).
  const row = /sample\s+6\s+(\d+)\s+([01])\s+(\d+) \(\d+\)/.exec(r.stdout);
  assert.ok(row, r.stdout);
  const [attempts, retries, speculative] = [Number(row[1]), Number(row[2]), Number(row[3])];
  assert.equal(attempts, 6 + retries + speculative, "attempts = tasks + retries + speculative duplicates");
  assert.ok(retries === 1 || speculative >= 1, `no retry only when a duplicate overtook the failing attempt: ${r.stdout}`);
  assert.match(r.stderr, /\[smelter\] j[0-9a-f]+ .*sample 6\/6 done/, "a final status line when stderr is not a TTY");
  const lines = readFileSync(events, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string });
  assert.equal(lines.at(-1)!.type, "job-done");
  assert.equal(lines.some((e) => e.type === "retry-scheduled"), retries === 1, "a retry-scheduled event exactly when the table shows the retry");
  assert.ok(lines.filter((e) => e.type === "attempt-succeeded").length >= 6 + 1);
});

test("pi --quiet prints nothing on stderr", () => {
  const r = smelter("pi", "--backend", "inline", "--tasks", "3", "--samples", "1000", "--quiet");
  assert.equal(r.status, 0);
  assert.equal(r.stderr, "");
});

test("bad flags say what is wrong and exit 1", () => {
  const r = smelter("pi", "--workers", "zero");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--workers must be a number/);
  const b = smelter("pi", "--backend", "mainframe");
  assert.notEqual(b.status, 0);
  assert.match(b.stderr, /Allowed choices are inline, threads, processes/);
  const u = smelter("pi", "--no-such-flag");
  assert.notEqual(u.status, 0);
  assert.match(u.stderr, /unknown option/);
});

test("Ctrl-C cancels the job, stops every worker process, and exits 130", async () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-cli-"));
  const events = join(dir, "events.jsonl");
  const child = spawn(process.execPath, [bin, "pi", "--backend", "processes", "--workers", "2", "--tasks", "50", "--samples", "200000000", "--events", events], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // wait until a worker runs an attempt
  for (let i = 0; i < 100 && !/attempt-running/.test(safeRead(events)); i++) await new Promise((r) => setTimeout(r, 100));
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelling job/);
  const lines = readFileSync(events, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; runtimeId?: string; status?: string });
  assert.equal(lines.at(-1)!.status, "cancelled");
  const pids = lines.filter((e) => e.type === "attempt-running" && e.runtimeId?.startsWith("pid-")).map((e) => Number(e.runtimeId!.slice(4)));
  assert.ok(pids.length > 0);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
