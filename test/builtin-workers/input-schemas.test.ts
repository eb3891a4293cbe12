/**
 * Every built-in worker declares its input schema (`defineWorker(name, fn, { input })`): a payload
 * that does not match fails its one attempt with a non-retryable ValidationError naming the worker
 * and the field, on real thread and process pools loading the CLI's entry module; it is not
 * retried as a ZodError thrown from inside the function would be.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Backend } from "../../src/backends/contract.js";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { TaskFailedError } from "../../src/job/errors.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { Manager } from "../../src/scheduler/manager.js";
import { getWorker } from "../../src/task-runtime/registry.js";
import "../../src/builtin-workers/builtin.js";

const ENTRY = new URL("../../src/builtin-workers/builtin.js", import.meta.url);
const SHUFFLE = { storeUrl: "memory://schemas/", prefix: "jobs/j/", stage: 1, partitions: 2, format: "parquet" };

/** A bad payload per built-in worker, and the field the error must name. */
const BAD: { worker: string; input: unknown; field: RegExp }[] = [
  { worker: "smelter.sql.stage", input: { shuffle: { ...SHUFFLE, partitions: 0 }, partition: null, stage: { id: 1, name: "s" }, sql: "SELECT 1", columns: [{ name: "x", type: "INTEGER" }], partitionBy: null, inputs: [] }, field: /shuffle\.partitions: / },
  { worker: "smelter.upload-partition", input: { storeUrl: "memory://schemas", handle: {}, partition: 0, source: { kind: "teleport" } }, field: /source\.kind: / },
  { worker: "demo.sample", input: { seed: 1.5, samples: 10 }, field: /seed: / },
  { worker: "demo.combine", input: { partials: [{ inside: -1, samples: 1 }] }, field: /partials\.0\.inside: / },
];

it("every built-in worker has an input schema", () => {
  for (const { worker } of BAD) assert.ok(getWorker(worker)?.input, `${worker} declares no input schema`);
});

for (const [name, make] of [
  ["threads", () => threadsBackend({ entry: ENTRY, workers: 2 })],
  ["processes", () => processesBackend({ entry: ENTRY, workers: 2 })],
] as [string, () => Backend][]) {
  describe(`built-in workers reject bad input at once (${name})`, () => {
    const manager = new Manager({ backend: make() });
    after(() => manager.close());

    for (const bad of BAD) {
      it(`${bad.worker}: one attempt, a ValidationError naming the worker and the field`, async () => {
        const events: SmelterEvent[] = [];
        const job = manager.job({ policy: { retry: { maxAttempts: 3, initialInterval: 10 } } });
        job.events.on((e) => events.push(e));
        const stage = job.stage({ worker: bad.worker });
        void stage.pushAll([bad.input]);
        await assert.rejects(job.wait(), (err: unknown) => {
          assert.ok(err instanceof TaskFailedError, String(err));
          assert.match(err.message, /after a non-retryable error/);
          return true;
        });
        assert.equal(events.filter((e) => e.type === "attempt-launched").length, 1, "not retried");
        const failed = events.find((e): e is Extract<SmelterEvent, { type: "attempt-failed" }> => e.type === "attempt-failed");
        assert.ok(failed);
        assert.equal(failed.retryable, false);
        assert.equal(failed.error.type, "ValidationError");
        assert.equal(failed.error.nonRetryable, true);
        assert.ok(failed.error.message.startsWith(`[smelter] invalid input for worker "${bad.worker}" (${failed.attemptId}): `), failed.error.message);
        assert.match(failed.error.message, bad.field);
        assert.doesNotMatch(failed.error.message, /ZodError|\n\s+at /, "Smelter's words, no stack");
      });
    }
  });
}
