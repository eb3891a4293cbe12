/**
 * Bad input that comes through the API, not a flag: task payloads that do not match their
 * worker's schema, shuffle manifests and segments corrupted or removed in storage, and input
 * objects deleted or changed between the listing and the read. Each ends with a SmelterError in
 * Smelter's words that names what is wrong, never a raw TypeError or RangeError, never a hang.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createBackend } from "../../src/backends/index.js";
import "../../src/builtin-workers/builtin.js";
import { tablesFromFlags } from "../../src/cli/sql-flags.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { SmelterError, TaskFailedError } from "../../src/job/errors.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { executePrepared } from "../../src/query/execute.js";
import { prepareQuery } from "../../src/query/prepare.js";
import { Manager } from "../../src/scheduler/manager.js";
import { completeKey, manifestKey, publishComplete, publishMapOutput, readSegment, watchMapOutputs, type ShufflePlan } from "../../src/shuffle/index.js";
import { planQuery } from "../../src/sql/plan.js";
import { localStore } from "../../src/storage/local.js";

/** The rules every API case keeps: a SmelterError, `[smelter]` first, what it names, no stack in the message. */
function assertClear(err: unknown, ...says: RegExp[]): true {
  assert.ok(err instanceof SmelterError, `a SmelterError, not ${String(err)}`);
  assert.ok(err.message.startsWith("[smelter]"), err.message);
  assert.doesNotMatch(err.message, /^ {4}at /m, "no stack trace in the message");
  for (const re of says) assert.match(err.message, re);
  return true;
}

describe("bad input through the API", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-bad-api-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("task payloads that do not match the worker's schema (inline backend)", () => {
    const manager = new Manager({ backend: createBackend("inline", {}) });
    after(() => manager.close());
    const payloads: [string, string, unknown, RegExp][] = [
      ["smelter.sql.stage", "null", null, /smelter\.sql\.stage/],
      ["smelter.sql.stage", "a string", "SELECT * FROM t", /smelter\.sql\.stage/],
      ["smelter.sql.stage", "no sql", { shuffle: { storeUrl: "memory://x/", prefix: "p/", stage: 1, partitions: 1, format: "parquet" }, partition: null, stage: { id: 1, name: "s" }, columns: [], partitionBy: null, inputs: [] }, /sql/],
      ["smelter.upload-partition", "a negative partition", { storeUrl: "memory://x", handle: {}, partition: -1, source: { kind: "teleport" } }, /partition|source/],
    ];
    for (const [worker, what, input, field] of payloads) {
      test(`${worker}: ${what}`, async () => {
        const events: SmelterEvent[] = [];
        const job = manager.job({ policy: { retry: { maxAttempts: 3, initialInterval: 10 } } });
        job.events.on((e) => events.push(e));
        void job.stage({ worker }).pushAll([input]);
        await assert.rejects(job.wait(), (err: unknown) => assertClear(err, /invalid input for worker/, field));
        assert.equal(events.filter((e) => e.type === "attempt-launched").length, 1, "not retried");
      });
    }
  });

  describe("shuffle manifests and segments corrupted in storage", () => {
    let store: ReturnType<typeof localStore>;
    const plan: ShufflePlan = { storeUrl: "", prefix: "work/j1/", stage: 1, partitions: 2, format: "parquet" };
    const drain = async () => {
      const out = [];
      for await (const o of watchMapOutputs(store, plan, { pollMs: 5, maxPollMs: 20 })) out.push(o);
      return out;
    };
    before(() => {
      store = localStore(join(dir, "shuffle"));
    });

    test("a manifest record that is not JSON", async () => {
      await store.put(manifestKey(plan, 0), new TextEncoder().encode("{ half a record"));
      await assert.rejects(drain(), (err: unknown) => assertClear(err, /manifest record .*t00000\.json is not JSON/, /rerun the job/));
      await store.delete(manifestKey(plan, 0));
    });

    test("a manifest record with offsets that go down", async () => {
      await store.put(manifestKey(plan, 0), new TextEncoder().encode(JSON.stringify({ task: 0, attempt: 1, key: "work/j1/s01/t00000-a1.seg", offsets: [0, 9, 3] })));
      await assert.rejects(drain(), (err: unknown) => assertClear(err, /malformed/, /offsets must ascend/, /rerun the job/));
      await store.delete(manifestKey(plan, 0));
    });

    test("a _complete marker that is not a count", async () => {
      await store.put(completeKey(plan), new TextEncoder().encode(JSON.stringify({ mapTasks: "many" })));
      await assert.rejects(drain(), (err: unknown) => assertClear(err, /_complete\.json is malformed/, /mapTasks/));
      await store.delete(completeKey(plan));
    });

    test("a segment deleted after its manifest record was published", async () => {
      await publishMapOutput(store, plan, { task: 0, attempt: 1, key: "work/j1/s01/t00000-a1.seg", offsets: [0, 4, 8] });
      await publishComplete(store, plan, 1);
      const [output] = await drain();
      assert.ok(output);
      await assert.rejects(readSegment(store, output, 1), (err: unknown) => assertClear(err, /t00000-a1\.seg" not found/));
    });

    test("a manifest record with fewer partitions than the plan", async () => {
      const output = { task: 0, attempt: 1, key: "work/j1/s01/t00000-a1.seg", offsets: [0, 4] };
      await assert.rejects(readSegment(store, output, 1), (err: unknown) => assertClear(err, /t00000-a1\.seg has no partition 1/, /rerun the job/));
    });
  });

  describe("input objects changed between the listing and the read (smelter sql's steps, inline backend)", () => {
    const manager = new Manager({ backend: createBackend("inline", {}) });
    after(() => manager.close());

    /** Lists and plans `SELECT sum(a) FROM t` over `files`, runs `change`, then executes. */
    async function runAfter(name: string, change: (tableDir: string) => void): Promise<unknown> {
      const tableDir = join(dir, name);
      mkdirSync(tableDir);
      for (let i = 0; i < 3; i++) writeFileSync(join(tableDir, `p${i}.csv`), `a,b\n${Array.from({ length: 50 }, (_, r) => `${r},${i}`).join("\n")}\n`);
      const catalog = await tablesFromFlags({ table: [`t=${tableDir}/`], schema: ["t=a INTEGER, b INTEGER"] });
      const plan = await planQuery("SELECT sum(a) AS s FROM t", catalog.tables, { workers: 2 });
      const prepared = await prepareQuery(plan, catalog.listings, { workers: 2 });
      change(tableDir);
      const db = await openDuckDb({ threads: 1 });
      try {
        await executePrepared(manager, db, prepared, { work: join(dir, `${name}-work`) });
        return undefined;
      } catch (err) {
        return err;
      } finally {
        db.close();
      }
    }

    test("an object deleted after the listing", async () => {
      const err = await runAfter("deleted", (d) => unlinkSync(join(d, "p1.csv")));
      assert.ok(err instanceof TaskFailedError, `the job fails: ${String(err)}`);
      assertClear(err, /p1\.csv/, /not found/);
    });

    test("an object cut short after the listing", async () => {
      const err = await runAfter("shrunk", (d) => truncateSync(join(d, "p2.csv"), 20));
      assert.ok(err instanceof TaskFailedError, `the job fails: ${String(err)}`);
      assertClear(err, /p2\.csv/, /changed/);
    });

    test("an object grown after the listing", async () => {
      const err = await runAfter("grown", (d) => writeFileSync(join(d, "p0.csv"), `a,b\n${Array.from({ length: 500 }, (_, r) => `${r},0`).join("\n")}\n`));
      assert.ok(err instanceof TaskFailedError, `the job fails, not a sum over part of the new object: ${String(err)}`);
      assertClear(err, /p0\.csv/, /changed/);
    });
  });
});
