/**
 * End-to-end parallel uploads as jobs on the threads backend, run against each store by the
 * test files: all-large, all-small, mixed, a permanent failure, a cancel, a retry after upload,
 * a speculative duplicate. The object must equal the partitions concatenated in order.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CancelledError, TaskFailedError } from "../../src/job/errors.js";
import { parallelUploadJob } from "../../src/outputs/parallel-upload-job.js";
import type { ParallelUploadHandle } from "../../src/outputs/upload-protocol.js";
import type { Manager } from "../../src/scheduler/manager.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import type { FaultySource } from "../fixtures/upload-workers.js";
import { assertNothingLeft, expectedSha, gen, keysUnder, MiB, objectSha } from "../helpers/upload.js";

export const UPLOAD_ENTRY = new URL("../fixtures/upload-workers.js", import.meta.url);
const BUILTIN = "smelter.upload-partition";
const FAULTY = "test.upload-faulty";

export interface UploadEnv {
  store: ObjectStore;
  manager: Manager;
}

export interface ScenarioOptions {
  /** Only these scenarios (default: all). */
  only?: string[];
  /** Why ListParts / ListMultipartUploads checks are skipped, when the store lacks them. */
  noListing?: string;
  /** The backend's name, in the suite's title. @default "threads" */
  backend?: string;
}

export function runUploadScenarios(name: string, env: () => UploadEnv, options: ScenarioOptions = {}): void {
  const want = (s: string): boolean => !options.only || options.only.includes(s);
  const canList = options.noListing === undefined;
  const check = async (key: string, sources: { bytes: number; seed: number }[]) => {
    const { store } = env();
    assert.equal((await store.head(key))?.size, sources.reduce((n, s) => n + s.bytes, 0));
    assert.equal(await objectSha(store, key), await expectedSha(sources), "the object is the partitions concatenated in order");
  };
  const noStaging = async (h: ParallelUploadHandle | undefined) => assert.deepEqual(await keysUnder(env().store, h!.stagingPrefix), []);
  const run = <S>(key: string, sources: S[], worker: string, extra: Parameters<typeof parallelUploadJob>[5] = {}) => {
    let handle: ParallelUploadHandle | undefined;
    const result = parallelUploadJob(env().manager, env().store, key, sources, worker, { ...extra, onBegin: (h) => (handle = h) });
    return { result, handle: () => handle };
  };

  describe(`parallel upload on ${options.backend ?? "threads"}: ${name}${options.noListing ? ` (not checked: ${options.noListing})` : ""}`, () => {
    if (want("large"))
      it("all large partitions (3 x 11 MiB): head + body parts from the tasks, nothing through the coordinator", async () => {
        const sources = gen([11 * MiB, 11 * MiB + 7, 11 * MiB + 1], 10);
        const r = run("large/out.bin", sources, BUILTIN);
        const s = await r.result;
        assert.deepEqual([s.parts, s.coordinatorParts, s.coordinatorBytes], [6, 0, 0]);
        // Each task: head part, body part, staged head (counted in the attempt's stats).
        assert.deepEqual([s.taskBytesWritten, s.taskWriteRequests], [33 * MiB + 8 + 3 * 5 * MiB, 9]);
        await check("large/out.bin", sources);
        await noStaging(r.handle());
      });

    if (want("small"))
      it("all small partitions (5 x 1 MiB): merged by the coordinator into one last part", async () => {
        const sources = gen([MiB, MiB + 3, MiB, MiB - 5, MiB], 20);
        const r = run("small/out.bin", sources, BUILTIN);
        const s = await r.result;
        assert.deepEqual([s.parts, s.coordinatorParts], [1, 1]);
        await check("small/out.bin", sources);
        await noStaging(r.handle());
      });

    if (want("mixed"))
      it("mixed (small, large, small, small, large, small): small runs go into the next large head or the last part", async () => {
        const sources = gen([MiB + 11, 11 * MiB, 2 * MiB, 3, 12 * MiB + 5, MiB], 30);
        const r = run("mixed/out.bin", sources, BUILTIN);
        const s = await r.result;
        // parts: 3 (p0 + head of p1), 4, 9 (p2 + p3 + head of p4), 10, 11 (p5, last)
        assert.deepEqual([s.parts, s.coordinatorParts], [5, 3]);
        assert.equal(s.coordinatorBytes, MiB + 11 + 2 * MiB + 3 + MiB + 2 * 5 * MiB);
        await check("mixed/out.bin", sources);
        await noStaging(r.handle());
      });

    if (want("failure"))
      it("a task failing for good mid-way: the upload is aborted, no object, nothing left", async () => {
        const sources: FaultySource[] = [
          { bytes: 11 * MiB, seed: 40 },
          { bytes: MiB, seed: 41, failAfterUpload: "always", delayMs: 300 },
          { bytes: 11 * MiB, seed: 42 },
          { bytes: 2 * MiB, seed: 43, delayMs: 2000 },
        ];
        const r = run("fail/out.bin", sources, FAULTY);
        await assert.rejects(r.result, (e: unknown) => e instanceof TaskFailedError && /injected permanent failure/.test(e.message));
        await assertNothingLeft(env().store, r.handle()!, canList);
      });

    if (want("cancel"))
      it("a cancel mid-way (signal): attempts stop, the upload is aborted, nothing left", async () => {
        const sources: FaultySource[] = [
          { bytes: 11 * MiB, seed: 50, waitForCancel: true },
          { bytes: MiB, seed: 51, waitForCancel: true },
          { bytes: 3 * MiB, seed: 52, waitForCancel: true },
        ];
        const ac = new AbortController();
        const r = run("cancel/out.bin", sources, FAULTY, { signal: ac.signal });
        // Cancel once some partition has been staged (uploads are under way).
        for (let i = 0; i < 200 && (!r.handle() || (await keysUnder(env().store, r.handle()!.stagingPrefix)).length === 0); i++) await new Promise((res) => setTimeout(res, 25));
        ac.abort();
        await assert.rejects(r.result, (e: unknown) => e instanceof CancelledError);
        await assertNothingLeft(env().store, r.handle()!, canList);
      });

    if (want("retry"))
      it("tasks that upload and then fail once are retried: same parts overwritten, the object is right", async () => {
        const sources: FaultySource[] = [
          { bytes: 11 * MiB, seed: 60, failAfterUpload: "once" },
          { bytes: 2 * MiB, seed: 61, failAfterUpload: "once" },
          { bytes: 3 * MiB, seed: 62 },
        ];
        const r = run("retry/out.bin", sources, FAULTY, { policy: { retry: { initialInterval: 10 } } });
        const s = await r.result;
        assert.equal(s.attempts, 5);
        await check("retry/out.bin", sources);
        await noStaging(r.handle());
      });

    if (want("speculation"))
      it("a straggler that uploaded and hangs is duplicated; the winner's result is used, the object is right", async () => {
        const sources: FaultySource[] = [
          { bytes: 11 * MiB, seed: 70, hangFirstAfterUpload: true },
          { bytes: MiB, seed: 71 },
          { bytes: 6 * MiB, seed: 72 },
        ];
        const r = run("spec/out.bin", sources, FAULTY, { policy: { speculation: { lastTasks: 1 } } });
        const s = await r.result;
        assert.equal(s.attempts, 4, "one speculative duplicate");
        await check("spec/out.bin", sources);
        await noStaging(r.handle());
      });
  });
}
