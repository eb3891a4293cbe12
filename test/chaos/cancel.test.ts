/**
 * Cancellation through the real CLI against the complete S3 server (versitygw): SIGINT or SIGTERM
 * when the --events file shows a stage reached stops every worker and the command (exit 130 for
 * SIGINT, 143 for SIGTERM) and leaves nothing: no worker process of its group, no object under the
 * work prefix, no staging object, no open multipart upload, no temp file, no output. A second
 * SIGINT exits at once and says what it left and the `smelter clean` command, which removes it.
 * The S3 server killed mid-job: the message lists what is left; after a restart on the same data,
 * `smelter clean <job>` removes it all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ObjectStore } from "../../src/storage/contract.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";
import { startFaultProxy } from "../tooling/fault-proxy.js";
import { allLeftovers, bucketStore, generateTables, readEvents, runCli, s3Env, waitForEvent, workerPids, workersGone, type CliRun } from "./harness.js";

describe("cancellation: SIGINT / SIGTERM mid-job leave nothing", () => {
  let server: CompleteS3Server;
  let data: ObjectStore;
  let out: ObjectStore;
  let local: string;
  let inputs = new Set<string>();

  before(async () => {
    server = await startCompleteS3Server({ buckets: ["data", "out"] });
    data = bucketStore(server, "data");
    out = bucketStore(server, "out");
    local = mkdtempSync(join(tmpdir(), "smelter-cancel-"));
    inputs = await generateTables(local, data, [{ table: "uservisits", dir: "uv", rows: 20000, files: 4 }]);
  });
  after(async () => {
    await data?.close();
    await out?.close();
    await server?.stop();
    if (local) rmSync(local, { recursive: true, force: true });
  });

  const query2 = (events: string, extra: string[] = []) => ["query2", "--input", "s3://data/uv/", "--task-bytes", "40000", "--partitions", "3", "--workers", "2", "--quiet", "--format", "csv", "--events", events, ...extra];

  /** Every leftover check; returns what was found (the assertions name it). */
  const leftovers = (run: CliRun) => allLeftovers(run, [data, out], (k) => inputs.has(k));

  for (const c of [
    { name: "SIGINT in the map stage", signal: "SIGINT", code: 130, at: (e: { type: string; stage?: number }) => e.type === "attempt-running" && e.stage === 1, args: [] as string[] },
    { name: "SIGTERM in stage 2 (the shuffle read, reduce)", signal: "SIGTERM", code: 143, at: (e: { type: string; stage?: number }) => e.type === "attempt-running" && e.stage === 2, args: [] },
    { name: "SIGINT in the parallel upload (partitions uploaded, the object not complete)", signal: "SIGINT", code: 130, at: (e: { type: string; stage?: number }) => e.type === "attempt-succeeded" && e.stage === 2, args: ["--output", "s3://out/r.csv"] },
  ] as const) {
    test(`${c.name}: exit ${c.code}, every worker stopped, nothing left`, async () => {
      const events = join(local, `ev-${c.signal}-${c.code}-${c.args.length}.jsonl`);
      const run = runCli(query2(events, [...c.args]), s3Env(server));
      await waitForEvent(run, events, c.at);
      const pids = workerPids(run);
      const sent = performance.now();
      process.kill(run.child.pid!, c.signal);
      const gone = await workersGone(run, pids, sent);
      const workersMs = gone.lastAliveMs;
      const exit = await run.exited;
      const ms = exit.at - sent;
      process.stderr.write(`[cancel] ${c.name}: workers gone ${Math.round(workersMs)} ms, exit ${exit.code} ${Math.round(ms)} ms after ${c.signal} (the work prefix removed first)\n`);
      assert.ok(gone.stopped, "every worker stopped");
      assert.ok(workersMs < 2000, `every worker stopped within 2 s of the signal: one was still alive ${Math.round(workersMs)} ms after it`);
      assert.equal(exit.code, c.code, run.stderr());
      assert.match(run.stderr(), new RegExp(`${c.signal}: cancelling job j\\w+: every worker stops`));
      assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
      assert.ok(ms < 10_000, `exited ${Math.round(ms)} ms after the signal`);
      assert.deepEqual(await leftovers(run), []);
      assert.equal((await out.head("r.csv")), undefined, "no output object");
    });
  }

  test("SIGINT while listing (every S3 request delayed 2 s): exit 130 at once, nothing made", async () => {
    const proxy = await startFaultProxy({ target: server.endpoint, seed: 1, latencyRate: 1, latencyMs: 2000, latencyShape: 50, maxLatencyMs: 2000 });
    try {
      const events = join(local, "ev-listing.jsonl");
      const run = runCli(query2(events), s3Env({ ...server, endpoint: proxy.endpoint }));
      const t = performance.now();
      while (proxy.stats.requests === 0 && performance.now() - t < 30_000) await new Promise((r) => setTimeout(r, 10));
      assert.ok(proxy.stats.requests > 0, run.stderr());
      const sent = performance.now();
      process.kill(run.child.pid!, "SIGINT");
      // The CLI (and any worker) last seen alive, from the signal: this process's own lateness under load does not count.
      const gone = await workersGone(run, [run.child.pid!], sent);
      const exit = await run.exited;
      process.stderr.write(`[cancel] SIGINT while listing: exit ${exit.code}, last seen alive ${Math.round(gone.lastAliveMs)} ms after SIGINT (exit seen ${Math.round(exit.at - sent)} ms after)\n`);
      assert.equal(exit.code, 130, run.stderr());
      assert.ok(gone.stopped && gone.lastAliveMs < 2000, `exited within 2 s of the signal: still alive ${Math.round(gone.lastAliveMs)} ms after it`);
      assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
      assert.deepEqual(await leftovers(run), []);
    } finally {
      await proxy.stop();
    }
  });

  test("SIGINT after the tasks, in the coordinator's final merge and output write: exit 130; the object is absent or complete", async () => {
    const events = join(local, "ev-final.jsonl");
    const run = runCli(["query2", "--input", "s3://data/uv/", "--workers", "2", "--quiet", "--format", "csv", "--events", events, "--output", "s3://out/final.csv"], s3Env(server));
    await waitForEvent(run, events, (e) => e.type === "job-done");
    process.kill(run.child.pid!, "SIGINT");
    const exit = await run.exited;
    assert.equal(exit.code, 130, run.stderr());
    assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
    const info = await out.head("final.csv");
    process.stderr.write(`[cancel] SIGINT at job-done: exit ${exit.code}, the object ${info ? "complete" : "absent"}\n`);
    if (info) {
      const lines = Buffer.from(await out.get("final.csv")).toString("utf8").trim().split("\n");
      const db = await openDuckDb();
      const groups = Number(await db.value(`SELECT count(DISTINCT substr(column0, 1, 8)) FROM read_csv('${join(local, "uv")}/*', header=false)`));
      db.close();
      assert.equal(lines.length, groups + 1, "a complete object: the header and every group");
      await out.delete("final.csv");
    }
    assert.deepEqual(await leftovers(run), []);
  });

  test("a second SIGINT exits at once, lists what it left and the smelter clean command; smelter clean removes it", async () => {
    const events = join(local, "ev-twice.jsonl");
    const run = runCli(query2(events, ["--output", "s3://out/twice.csv"]), s3Env(server));
    await waitForEvent(run, events, (e) => e.type === "attempt-running" && e.stage === 1);
    process.kill(run.child.pid!, "SIGINT");
    // The second Ctrl-C once the first is acknowledged (a loaded machine may otherwise handle both late, after the cleanup).
    for (let i = 0; i < 500 && !/cancelling job/.test(run.stderr()); i++) await new Promise((r) => setTimeout(r, 10));
    process.kill(run.child.pid!, "SIGINT");
    const exit = await run.exited;
    assert.equal(exit.code, 130, run.stderr());
    assert.match(run.stderr(), /second SIGINT: exiting now/);
    const jobId = readEvents(events)[0]?.jobId;
    assert.ok(jobId);
    const left = await leftovers(run);
    if (left.length > 0) assert.match(run.stderr(), new RegExp(`smelter clean ${jobId}`), "what is left is announced with the command");
    // The workers die with the coordinator's pipes; give them a moment, then clean what is left.
    await new Promise((r) => setTimeout(r, 1500));
    const clean = runCli(["clean", jobId], s3Env(server), run.dirs);
    const cleaned = await clean.exited;
    assert.equal(cleaned.code, 0, clean.stderr());
    assert.deepEqual(await leftovers(run), []);
  });

  test("the S3 server killed mid-job: the message lists what is left and smelter clean removes it after a restart", async () => {
    const events = join(local, "ev-crash.jsonl");
    const env = { ...s3Env(server), SMELTER_S3_MAX_ATTEMPTS: "2", SMELTER_S3_CONNECT_TIMEOUT_MS: "500", SMELTER_S3_FIRST_BYTE_TIMEOUT_MS: "1000" };
    const run = runCli(query2(events, ["--output", "s3://out/crash.csv"]), env);
    await waitForEvent(run, events, (e) => e.type === "attempt-succeeded" && e.stage === 1);
    const port = Number(new URL(server.endpoint).port);
    await server.crash();
    const exit = await run.exited;
    const jobId = readEvents(events)[0]?.jobId;
    assert.ok(jobId);
    assert.equal(exit.code, 1, run.stderr());
    assert.match(run.stderr(), new RegExp(`job ${jobId} could not remove`));
    assert.match(run.stderr(), /the objects under s3:\/\/data\/_smelter\/jobs\//);
    assert.match(run.stderr(), /the open multipart upload \S+ of s3:\/\/out\/crash\.csv/);
    assert.match(run.stderr(), new RegExp(`smelter clean ${jobId}`));
    assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
    server = await startCompleteS3Server({ dir: server.dir, port });
    const clean = runCli(["clean", jobId], s3Env(server), run.dirs);
    const cleaned = await clean.exited;
    assert.equal(cleaned.code, 0, clean.stderr());
    assert.match(clean.stderr(), /removed \d+ objects? .*under s3:\/\/data\/_smelter\/jobs\//);
    assert.match(clean.stderr(), /removed the multipart upload \S+ of s3:\/\/out\/crash\.csv \(aborted\)/);
    data = bucketStore(server, "data");
    out = bucketStore(server, "out");
    assert.deepEqual(await leftovers(run), []);
  });
});
