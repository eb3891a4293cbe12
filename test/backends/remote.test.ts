/**
 * The shared remote attempt (src/backends/remote/, src/remote-task.ts): real processes running
 * Smelter's container entry (bin/smelter-task.js), as a Fargate task or a pod would, with the
 * envelope and the reply through the embedded S3 server; the manager side's pieces on their own.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { remoteEnvelope, TASK_ENV, TASK_URL_ENV } from "../../src/backends/remote/envelope.js";
import { channelPrefixFor, attemptResultUrl } from "../../src/backends/remote/keys.js";
import { readRemoteReply, REMOTE_PROTOCOL } from "../../src/backends/remote/reply.js";
import { REMOTE_EXIT } from "../../src/backends/remote/outcome.js";
import type { AttemptOutcome } from "../../src/backends/contract.js";
import { remoteStore } from "../../src/remote-task.js";
import { openStore } from "../../src/storage/url.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { bigString } from "../fixtures/workers.js";
import { envelope, runBackendConformance, runToEnd } from "./conformance.js";
import { remoteProcessBackend, TASK_BIN } from "./remote-process.js";

const workers = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
const s3: S3Server = await startS3Server({ buckets: ["smelter"] });
Object.assign(process.env, s3.env);
after(() => s3.stop());

const PREFIX = "remote-test/";
const store = remoteStore(`s3://smelter/${PREFIX}`);
const backendWith = (o: { inlineLimit?: number } = {}) => remoteProcessBackend({ store, workerModule: workers, env: s3.env, ...o });

async function leftovers(): Promise<string[]> {
  const { store: root } = await openStore("s3://smelter/");
  const keys: string[] = [];
  for await (const o of root.list(PREFIX)) keys.push(o.key);
  return keys;
}

/** Runs the entry as a process with `env`; resolves with its exit code and stderr. */
function runEntry(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TASK_BIN], { env: { ...process.env, SMELTER_TASK: "", ...s3.env, SMELTER_WORKER_MODULE: workers, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

runBackendConformance("remote-process (the container entry)", () => remoteProcessBackend({ store, workerModule: workers, env: s3.env, maxConcurrency: 1 }), {
  crash: true,
  killHung: true,
  stdio: "a container's stdout and stderr go to its own logs (CloudWatch, kubectl logs), not back to the manager (ctx.log lines do)",
  warm: "one process per attempt, as a Fargate task or a Job's pod",
});

describe("remote attempt: envelope and reply through the work store", () => {
  it("passes an envelope over the inline limit by URL and a 7 MB output in the reply, leaving nothing behind", async () => {
    const big = bigString(1);
    const o = await runToEnd(backendWith({ inlineLimit: 1024 }), "echo", big);
    assert.equal(o.status, "succeeded");
    assert.ok((o as Extract<AttemptOutcome, { status: "succeeded" }>).output === big, "the 1 MB input came back intact");
    const out = await runToEnd(backendWith(), "bigOutput", { mb: 7 });
    assert.ok(out.status === "succeeded" && (out.output as string).length === 7 * 1024 * 1024);
    assert.deepEqual(await leftovers(), [], "the staged envelope and the replies are deleted");
  });

  it("puts a small envelope inline in SMELTER_TASK, a large one in SMELTER_TASK_URL, with an attempt-scoped resultUrl", async () => {
    const small = await remoteEnvelope({ envelope: envelope("echo", 1), store });
    assert.deepEqual(Object.keys(small.env), [TASK_ENV]);
    assert.equal(small.resultUrl, `s3://smelter/${PREFIX}jconf/results/${small.envelope.attemptId}.json`);
    assert.equal(JSON.parse(small.env[TASK_ENV]!).resultUrl, small.resultUrl);
    const large = await remoteEnvelope({ envelope: envelope("echo", "x".repeat(5000)), store });
    assert.deepEqual(Object.keys(large.env), [TASK_URL_ENV]);
    assert.match(large.env[TASK_URL_ENV]!, /\.envelope\.json$/);
    await large.cleanup();
    assert.deepEqual(await leftovers(), []);
    await assert.rejects(remoteEnvelope({ envelope: envelope("echo", 1), store: undefined }), /needs the job's work store/);
    const given = attemptResultUrl({ jobId: "j", attemptId: "a", resultUrl: "s3://b/w/j/results/a.json" }, "s3://other/");
    assert.equal(given, "s3://b/w/j/results/a.json", "the job's own resultUrl wins");
    assert.equal(channelPrefixFor(given, "a"), "s3://b/w/j/channel/a/");
  });

  it("refuses a missing reply, a reply that is not Smelter's, and another attempt's reply, in clear words", async () => {
    const url = `s3://smelter/${PREFIX}jx/results/a1.json`;
    await assert.rejects(readRemoteReply(store, url, "a1"), (e: Error & { type?: string }) => e.type === "ReplyMissing" && /left no reply at s3:\/\/smelter/.test(e.message));
    await store.write(url, "{\"hello\":1}");
    await assert.rejects(readRemoteReply(store, url, "a1"), (e: Error & { type?: string }) => e.type === "ReplyInvalid" && /not a Smelter reply/.test(e.message));
    const now = Date.now();
    const stats = { startedAt: now, endedAt: now, wallMs: 0, cpuUserMs: 0, cpuSystemMs: 0, peakRssBytes: 0, loadAvg: { mean: 0, max: 0 }, pid: 1, counters: {} };
    await store.write(url, JSON.stringify({ smelter: REMOTE_PROTOCOL, attemptId: "a0", outcome: { status: "succeeded", output: 1, stats }, logs: [], logsDropped: 0, heartbeats: [] }));
    await assert.rejects(readRemoteReply(store, url, "a1"), /attempt a0's, not a1's: it is not taken/);
    await store.delete(url);
  });

  it("the entry exits 66 without an envelope and 78 without a resultUrl, saying why", async () => {
    const none = await runEntry({});
    assert.equal(none.code, REMOTE_EXIT.noEnvelope);
    assert.match(none.stderr, /\[smelter\] neither SMELTER_TASK .* nor SMELTER_TASK_URL is set/);
    const noUrl = await runEntry({ [TASK_ENV]: JSON.stringify(envelope("echo", 1)) });
    assert.equal(noUrl.code, REMOTE_EXIT.noResultUrl);
    assert.match(noUrl.stderr, /has no resultUrl/);
    const missing = await runEntry({ [TASK_URL_ENV]: `s3://smelter/${PREFIX}nothing.json` });
    assert.equal(missing.code, REMOTE_EXIT.noEnvelope);
    assert.match(missing.stderr, /could not read the envelope at SMELTER_TASK_URL=s3:\/\/smelter\/remote-test\/nothing\.json/);
  });

  it("honours the envelope's deadline: a task still running then is a retryable TaskTimeout with stats", async () => {
    const backend = backendWith();
    const e = envelope("cooperativeHang", null);
    const outcome = await new Promise<AttemptOutcome>((resolve) => {
      void backend.launch({ ...e, deadline: Date.now() + 3000 }, { onRunning: () => {}, onLog: () => {}, onHeartbeat: () => {} }).result.then(resolve);
    });
    assert.equal(outcome.status, "failed");
    const f = outcome as Extract<AttemptOutcome, { status: "failed" }>;
    assert.equal(f.error.type, "TaskTimeout");
    assert.equal(f.error.nonRetryable, false);
    assert.match(f.error.message, /reached the attempt's deadline/);
    assert.ok(f.stats.wallMs > 0 && f.stats.pid !== process.pid && f.stats.peakRssBytes > 0, `stats measured by the worker: ${JSON.stringify(f.stats)}`);
  });

  it("reports a worker module that cannot load as a non-retryable ConfigError in the reply", async () => {
    const backend = remoteProcessBackend({ store, workerModule: "/nonexistent/workers.js", env: s3.env });
    const o = await runToEnd(backend, "echo", 1);
    assert.equal(o.status, "failed");
    const f = o as Extract<AttemptOutcome, { status: "failed" }>;
    assert.equal(f.error.type, "ConfigError");
    assert.match(f.error.message, /could not import the worker module .*nonexistent\/workers\.js \(SMELTER_WORKER_MODULE\)/);
  });
});
