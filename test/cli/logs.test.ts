/** `smelter logs`: a real job's log lines from its events file, --task, and --follow while the job writes the file. */
import { eventsHeaderLine } from "../../src/job/event-schema.js";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { threadsBackend } from "../../src/backends/index.js";
import { writeEventsFile } from "../../src/cli/progress.js";
import { Manager } from "../../src/scheduler/manager.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const entry = new URL("../fixtures/workers.js", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "smelter-logs-"));

test("logs: every log line of a real job, in order, with its attempt; --task picks one task", async () => {
  const file = join(dir, "job.jsonl");
  const manager = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
  try {
    const job = manager.job();
    const written = writeEventsFile(job, file);
    const stage = job.stage({ worker: "logs" });
    void stage.pushAll([{ console: true }, null]);
    await stage.collect();
    await job.wait();
    await written;
  } finally {
    await manager.close();
  }
  const r = spawnSync(process.execPath, [bin, "logs", file], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const events = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; attemptId?: string; message?: string });
  const logs = events.filter((e) => e.type === "log");
  assert.equal(lines.length, logs.length, "one line per log event");
  assert.ok(logs.length >= 6);
  for (const [i, e] of logs.entries()) assert.ok(lines[i]!.includes(`${e.attemptId} `) && lines[i]!.endsWith(e.message!), lines[i]);
  const first = logs[0]!.attemptId!;
  const only = spawnSync(process.execPath, [bin, "logs", file, "--task", first.split("-").slice(-2, -1)[0]!], { encoding: "utf8", timeout: 30_000 });
  assert.equal(only.status, 0, only.stderr);
  const picked = only.stdout.trim().split("\n");
  assert.equal(picked.length, logs.filter((e) => e.attemptId === first).length);
  assert.ok(picked.every((l) => l.includes(first)));
  const missing = spawnSync(process.execPath, [bin, "logs", join(dir, "none.jsonl")], { encoding: "utf8", timeout: 30_000 });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^\[smelter\] no events file at .*none\.jsonl/);
});

test("logs --follow prints lines as they are appended and stops at job-done", async () => {
  const file = join(dir, "growing.jsonl");
  const base = { jobId: "jf", stage: 1, stageName: "map", taskId: "jf-s01-t00000", attemptId: "jf-s01-t00000-a1" };
  writeFileSync(file, `${eventsHeaderLine()}\n${JSON.stringify({ type: "job-started", time: 1, jobId: "jf", name: "f" })}\n`);
  const child = spawn(process.execPath, [bin, "logs", file, "--follow"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const seen = async (text: string) => {
    for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes(text), `saw ${text} in ${out}`);
  };
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  appendFileSync(file, `${JSON.stringify({ type: "log", time: 2, ...base, stream: "log", message: "héllo one" })}\n`);
  await seen("héllo one");
  // a line written in two pieces is printed once whole
  const second = JSON.stringify({ type: "log", time: 3, ...base, stream: "stderr", message: "two" });
  appendFileSync(file, second.slice(0, 20));
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(file, `${second.slice(20)}\n`);
  await seen("stderr: two");
  appendFileSync(file, `${JSON.stringify({ type: "job-done", time: 4, jobId: "jf", status: "succeeded" })}\n`);
  assert.equal(await exited, 0, "stops by itself at job-done");
  assert.equal(out.trim().split("\n").length, 2);
});
