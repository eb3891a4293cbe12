/**
 * A remote backend's objects (envelopes, replies, channel batches under `<backend store><jobId>/`)
 * are the job's temporaries (src/backends/remote/job-objects.ts): registered when the job's first
 * attempt is staged, removed by the job's cleanup with its work prefix, also when the job fails,
 * and recorded for `smelter clean <job>` while the job runs, so a coordinator killed outright
 * leaves nothing `smelter clean` cannot remove. On the container backend in miniature
 * (test/backends/remote-process.ts: real processes running bin/smelter-task.js) and the embedded
 * S3 server.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { keepRecord, recordPath } from "../../src/cli/leftovers.js";
import { temporaries, type Temporary } from "../../src/job/temporaries.js";
import { runStages } from "../../src/mapreduce/stages.js";
import { remoteStore } from "../../src/remote-task.js";
import { Manager } from "../../src/scheduler/manager.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { openStore } from "../../src/storage/url.js";
import { remoteProcessBackend } from "./remote-process.js";

const workers = fileURLToPath(new URL("../fixtures/workers.js", import.meta.url));
const BIN = fileURLToPath(new URL("../../../bin/smelter.js", import.meta.url));

describe("a remote backend's envelopes and replies are the job's temporaries", () => {
  let s3: S3Server;
  let bucket: ObjectStore;
  let state: string;
  let saved: NodeJS.ProcessEnv;
  before(async () => {
    s3 = await startS3Server({ buckets: ["remote-tmp"] });
    saved = { ...process.env };
    state = mkdtempSync(join(tmpdir(), "smelter-remote-state-"));
    Object.assign(process.env, s3.env, { SMELTER_STATE_DIR: state });
    bucket = (await openStore("s3://remote-tmp/")).store;
  });
  after(async () => {
    await bucket?.close();
    if (saved) process.env = saved;
    await s3?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const keysUnder = async (prefix: string) => {
    const keys: string[] = [];
    for await (const o of bucket.list(prefix)) keys.push(o.key);
    return keys;
  };

  test("a failed job removes its attempts' objects under the backend's store (a late batch included); smelter clean removes what a killed coordinator left", async () => {
    // Envelopes over 64 bytes go through the store: every attempt stages one.
    const backend = remoteProcessBackend({ store: remoteStore("s3://remote-tmp/backend/"), workerModule: workers, env: s3.env, inlineLimit: 64, maxConcurrency: 3 });
    const manager = new Manager({ backend });
    const seen: Temporary[] = [];
    const stopWatching = temporaries.onChange((items) => seen.push(...items.filter((t) => t.kind === "prefix" && t.prefix.startsWith("backend/"))));
    let jobId = "";
    let record = "";
    try {
      const run = runStages(
        manager,
        {
          name: "remote-temporaries",
          // Stage 1 fails at once (non-retryable); stage 2's attempts hang until the failure cancels them.
          stages: [
            { name: "fails", worker: "nonRetryable", tasks: { count: 1 }, reads: [], output: { kind: "opaque" }, payload: () => ({ pad: "x".repeat(200) }) },
            { name: "hangs", worker: "cooperativeHang", tasks: { count: 2 }, reads: [], output: { kind: "opaque" }, payload: () => ({ pad: "y".repeat(200) }) },
          ],
          work: { store: bucket, url: "s3://remote-tmp", prefix: "work/" },
          format: "opaque",
        },
        {
          onJob: (job) => {
            jobId = job.id;
            const stopRecord = keepRecord(job.id);
            // What `smelter <command>` keeps in the state dir while the job runs: copied once the backend's prefix is in it.
            const stopCopy = temporaries.onChange(() => {
              if (existsSync(recordPath(job.id)) && readFileSync(recordPath(job.id), "utf8").includes('"backend/')) record ||= readFileSync(recordPath(job.id), "utf8");
            });
            void job.wait().catch(() => undefined).finally(() => (stopRecord(), stopCopy()));
            // A channel batch an attempt writes and nobody reads (an attempt killed, the manager gone): only the job's cleanup removes it.
            void bucket.put(`backend/${job.id}/channel/${job.id}-lost/000000.ndjson`, new TextEncoder().encode("{}\n"));
          },
        },
      );
      await assert.rejects(run, /nonRetryable|non-retryable/i);
    } finally {
      stopWatching();
      await manager.close();
    }
    assert.ok(jobId);
    assert.deepEqual(
      seen.filter((t, i) => seen.findIndex((u) => JSON.stringify(u) === JSON.stringify(t)) === i),
      [{ kind: "prefix", store: "s3://remote-tmp", prefix: `backend/${jobId}/` }],
      "the backend's job directory registered once",
    );
    assert.deepEqual(await keysUnder("backend/"), [], "nothing left under the backend's store");
    assert.deepEqual(await keysUnder("work/"), [], "nothing left under the work prefix");
    assert.equal(temporaries.ofJob(jobId).length, 0);
    assert.ok(!temporaries.list().some((t) => t.kind === "prefix" && t.prefix.includes(jobId)), "released");

    // The coordinator killed outright mid-job: its record stays, and so do the attempts' objects.
    assert.match(record, new RegExp(`"prefix": "backend/${jobId}/"`), "the record lists the backend's job directory");
    writeFileSync(recordPath(jobId), record);
    for (const k of [`backend/${jobId}/results/${jobId}-s01-t00000-a1.envelope.json`, `backend/${jobId}/results/${jobId}-s02-t00000-a1.json`]) await bucket.put(k, new TextEncoder().encode("{}"));
    const clean = spawnSync(process.execPath, [BIN, "clean", jobId], { env: { ...process.env }, encoding: "utf8", timeout: 60_000 });
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stderr, new RegExp(`removed 2 objects under s3://remote-tmp/backend/${jobId}/`));
    assert.deepEqual(await keysUnder("backend/"), [], "smelter clean removed them");
    assert.equal(existsSync(recordPath(jobId)), false, "the record is gone");
  });
});
