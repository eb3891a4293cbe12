/**
 * Parallel upload of one object (seed 002) on a local-directory store: end-to-end jobs on the
 * threads backend (upload-scenarios.ts), plus the coordinator's rules checked directly on a
 * memory store with small parts (randomized partition sizes).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inlineBackend, processesBackend, threadsBackend } from "../../src/backends/index.js";
import { abortParallelUpload, beginParallelUpload, completeParallelUpload } from "../../src/outputs/parallel-upload.js";
import { parallelUploadJob } from "../../src/outputs/parallel-upload-job.js";
import { uploadPartition } from "../../src/outputs/upload-partition.js";
import "../fixtures/upload-workers.js";
import { checkPartitionSize, MAX_PARTITION_BYTES, type PartitionResult } from "../../src/outputs/upload-protocol.js";
import { Manager } from "../../src/scheduler/manager.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { localStore } from "../../src/storage/local.js";
import { clearMemoryStore, memoryStore } from "../../src/storage/memory.js";
import { assertNothingLeft, expectedSha, gen, keysUnder, objectSha } from "../helpers/upload.js";
import { runUploadScenarios, UPLOAD_ENTRY, type UploadEnv } from "./upload-scenarios.js";

let env: UploadEnv;
let onProcesses: UploadEnv;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "smelter-pu-"));
  env = { store: localStore(dir), manager: new Manager({ backend: threadsBackend({ entry: UPLOAD_ENTRY, workers: 2, killGraceMs: 100 }) }) };
  onProcesses = { store: localStore(join(dir, "processes")), manager: new Manager({ backend: processesBackend({ entry: UPLOAD_ENTRY, workers: 2, killGraceMs: 100 }) }) };
});
after(async () => {
  await Promise.all([env?.manager.close(), onProcesses?.manager.close()]);
  await rm(dir, { recursive: true, force: true });
});

runUploadScenarios("local directory", () => env);
runUploadScenarios("local directory", () => onProcesses, { only: ["mixed", "failure"], backend: "processes" });

/** Deterministic bytes for the direct tests. */
function bytesOf(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function* chunked(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}

describe("parallel upload: the coordinator's rules (memory store, 1 KiB parts)", () => {
  const P = 1024;
  let store: ObjectStore;
  before(() => {
    clearMemoryStore("pu");
    store = memoryStore("pu", { minPartSize: P });
  });

  it("any mix of partition sizes comes out in order, every part but the last >= partSize (200 random cases)", async () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n);
    for (let c = 0; c < 200; c++) {
      const n = 1 + rand(12);
      const sizes = Array.from({ length: n }, () => [0, 1 + rand(P), P + rand(P), 2 * P + rand(4 * P)][rand(4)]!);
      const h = await beginParallelUpload(store, `rand/${c}`, { partitions: n, partSize: P });
      const datas = sizes.map((s, i) => bytesOf(c * 100 + i, s));
      // Tasks finish in any order; half of them stream their bytes.
      const results: PartitionResult[] = await Promise.all(datas.map((d, i) => uploadPartition(store, h, i, i % 2 ? chunked(d, 1 + rand(3 * P)) : d)));
      const s = await completeParallelUpload(store, h, results.reverse());
      assert.deepEqual(Buffer.from(await store.get(`rand/${c}`)), Buffer.concat(datas), `case ${c}: sizes ${sizes.join(",")}`);
      assert.equal(s.size, sizes.reduce((a, b) => a + b, 0));
      assert.deepEqual(await keysUnder(store, h.stagingPrefix), []);
      assert.deepEqual(await store.multipart!.listUploads(`rand/${c}`), []);
    }
  });

  it("results are validated: a missing, duplicated or foreign result aborts the upload", async () => {
    const h = await beginParallelUpload(store, "bad/out", { partitions: 2, partSize: P });
    const r0 = await uploadPartition(store, h, 0, bytesOf(1, 3 * P));
    await assert.rejects(completeParallelUpload(store, h, [r0]), { type: "ValidationError", message: /got 1 task results for 2 partitions/ });
    await assertNothingLeft(store, h, true);
    const h2 = await beginParallelUpload(store, "bad/out", { partitions: 2, partSize: P });
    const a = await uploadPartition(store, h2, 0, bytesOf(1, 10));
    await assert.rejects(completeParallelUpload(store, h2, [a, a]), { message: /partition 0 has two results/ });
    const h3 = await beginParallelUpload(store, "bad/out", { partitions: 1, partSize: P });
    const b = await uploadPartition(store, h3, 0, bytesOf(1, 10));
    await assert.rejects(completeParallelUpload(store, h3, [{ ...b, staged: { key: "elsewhere/x", size: 10 } }]), { message: /no staged object under/ });
  });

  it("a staged object changed after its task finished is caught by its MD5; the upload is aborted", async () => {
    const h = await beginParallelUpload(store, "tamper/out", { partitions: 2, partSize: P });
    const results = [await uploadPartition(store, h, 0, bytesOf(2, 100)), await uploadPartition(store, h, 1, bytesOf(3, 3 * P))];
    await store.put(results[0]!.staged!.key, bytesOf(9, 100));
    await assert.rejects(completeParallelUpload(store, h, results), { type: "ValidationError", message: /staged partition 0 .* was changed after the task finished/ });
    await assertNothingLeft(store, h, true);
  });

  it("abort reports how it verified; the limits are ConfigErrors that say what to do", async () => {
    const h = await beginParallelUpload(store, "abort/out", { partitions: 3, partSize: P });
    await uploadPartition(store, h, 0, bytesOf(4, 5 * P));
    const report = await abortParallelUpload(store, h);
    assert.deepEqual({ ...report, stagingDeleted: report.stagingDeleted }, { aborted: true, verified: "listParts", stagingDeleted: 1 });
    await assertNothingLeft(store, h, true);
    await assert.rejects(beginParallelUpload(store, "x", { partitions: 5001 }), { type: "ConfigError", message: /1 to 5000 partitions.*10,000 parts/ });
    await assert.rejects(beginParallelUpload(store, "x", { partitions: 0 }), { type: "ConfigError" });
    await assert.rejects(beginParallelUpload(store, "x/y", { partitions: 1, stagingPrefix: "x/" }), { type: "ConfigError", message: /would contain the object/ });
    assert.throws(() => checkPartitionSize(h, 2, MAX_PARTITION_BYTES + 1), { type: "ConfigError", message: /over 5368709120 bytes .*use more partitions/ });
    await assert.rejects(uploadPartition(store, h, 3, bytesOf(1, 1)), { type: "ValidationError", message: /partition 3 is outside 0..2/ });
  });

  it("inline backend + memory store, as a stage of an existing job", async () => {
    const manager = new Manager({ backend: inlineBackend() });
    try {
      const job = manager.job({ name: "with an upload stage" });
      const sources = gen([3 * P, 10, 0, 2 * P + 1, P - 1, 4 * P], 90);
      const s = await parallelUploadJob(job, store, "inline/out", sources, "smelter.upload-partition", { partSize: P });
      await job.wait();
      assert.equal(s.partitions, 6);
      assert.equal(await objectSha(store, "inline/out"), await expectedSha(sources));
    } finally {
      await manager.close();
    }
  });

  it("a stream that fails, or a head part that fails while streaming, fails the partition with that error", async () => {
    const h = await beginParallelUpload(store, "stream-fail/out", { partitions: 1, partSize: P });
    async function* broken(): AsyncIterable<Uint8Array> {
      yield bytesOf(1, 3 * P);
      throw new Error("source broke");
    }
    await assert.rejects(uploadPartition(store, h, 0, broken()), { message: "source broke" });
    const mp = store.multipart!;
    const failing: ObjectStore = { ...store, multipart: { ...mp, uploadPart: async () => Promise.reject(new Error("part refused")) } };
    let pulled = 0;
    async function* endless(): AsyncIterable<Uint8Array> {
      for (;;) {
        pulled++;
        await new Promise((r) => setTimeout(r, 1));
        yield bytesOf(2, P);
      }
    }
    await assert.rejects(uploadPartition(failing, h, 0, endless()), { message: "part refused" });
    assert.ok(pulled < 10, `reading stopped soon after the head failed (${pulled} chunks)`);
    await abortParallelUpload(store, h);
    await assertNothingLeft(store, h, true);
  });

  it("an all-empty object is written as an empty object", async () => {
    const h = await beginParallelUpload(store, "empty/out", { partitions: 2, partSize: P });
    const rs = [await uploadPartition(store, h, 0, new Uint8Array(0)), await uploadPartition(store, h, 1, chunked(new Uint8Array(0), 1))];
    const s = await completeParallelUpload(store, h, rs);
    assert.equal(s.size, 0);
    assert.equal((await store.head("empty/out"))?.size, 0);
    assert.deepEqual(await store.multipart!.listUploads("empty/"), []);
  });
});
