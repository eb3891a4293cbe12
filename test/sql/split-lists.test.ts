/**
 * Long split lists travel through the work store, not in task payloads (src/sql/split-lists.ts):
 * the thresholds on their own, and through the engine a table of 6,000 tiny files (Spark-like
 * names, ~1.1 MiB of split list) read whole by every task of a broadcast join (over the 1 MiB
 * payload limit inline), and scanned with a low threshold (the leaf tasks' own lists through the
 * store too). Compared with DuckDB alone.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { threadsBackend } from "../../src/backends/index.js";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { Manager } from "../../src/scheduler/manager.js";
import type { Split } from "../../src/splits/split.js";
import { localStore } from "../../src/storage/local.js";
import { executePlan } from "../../src/query/execute.js";
import { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import { readSplitList, SplitListWriter } from "../../src/sql/split-lists.js";
import { parseTables, type SqlTableInput } from "../../src/sql/tables.js";
import { assertSameResult, readTable, runDirect } from "../helpers/local-plan.js";

const entry = new URL("../../src/builtin-workers/builtin.js", import.meta.url);
const split = (i: number): Split => ({ key: `dt=2024-01-01/part-${String(i).padStart(5, "0")}.csv`, format: "csv", range: { start: 0, end: 10 }, fileSize: 10 });

describe("split lists through the work store", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-lists-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a list up to the threshold rides inline; a longer one is written once and read back validated", async () => {
    const store = localStore(join(dir, "work"));
    const lists = new SplitListWriter(store, 1000);
    const short = [split(0), split(1)];
    assert.equal(await lists.list(short, "jobs/j1/", true), short, "inline");
    const long = Array.from({ length: 50 }, (_, i) => split(i));
    const own = [...long];
    assert.equal(await lists.list(own, "jobs/j1/", false), own, "a task's own list rides inline up to 8 x the threshold");
    assert.ok(!Array.isArray(await lists.list([...long, ...long], "jobs/j1/", false)), "a longer one is written for that task");
    const ref = await lists.list(long, "jobs/j1/", true);
    assert.ok(!Array.isArray(ref), "a reference");
    assert.match(ref.ref.key, /^jobs\/j1\/inputs\/splits-\d+\.json$/);
    assert.equal(ref.ref.count, 50);
    assert.equal(await lists.list(long, "jobs/j1/", true), ref, "the same list is written once");
    const keys: string[] = [];
    for await (const o of store.list("jobs/j1/")) keys.push(o.key);
    assert.equal(keys.length, 2, "two lists written");
    assert.ok(keys.includes(ref.ref.key));
    assert.deepEqual(await readSplitList(ref), long);
    assert.equal(await readSplitList(ref), await readSplitList(ref), "fetched once per worker");
    await store.put("jobs/j1/inputs/bad.json", new TextEncoder().encode(JSON.stringify({ splits: [{ key: "" }] })));
    await assert.rejects(readSplitList({ ref: { ...ref.ref, key: "jobs/j1/inputs/bad.json" } }), /split list jobs\/j1\/inputs\/bad\.json .* is malformed \(splits\.0\..*\): rerun the query/);
    await assert.rejects(readSplitList({ ref: { ...ref.ref, count: 51 } }), /holds 50 splits, not 51/);
  });

  describe("6,000 tiny files through the engine", () => {
    let db: DuckDb;
    let session: SqlSession;
    let manager: Manager;
    let tables: SqlTableInput[];
    let files: Record<string, string[]>;
    before(async () => {
      const many = join(dir, "many");
      files = { many: [], big: [] };
      for (let d = 0; d < 6; d++) {
        mkdirSync(join(many, `dt=2024-01-0${d + 1}`), { recursive: true });
        for (let i = d * 1000; i < (d + 1) * 1000; i++) {
          const f = join(many, `dt=2024-01-0${d + 1}`, `part-${String(i).padStart(5, "0")}-3f1d2a9e-7b5c-4e8f-9a1d-2b3c4d5e6f70-c000.csv`);
          writeFileSync(f, `k,v\nkey${i},${i}\n`);
          files.many!.push(f);
        }
      }
      mkdirSync(join(dir, "big"));
      for (let f = 0; f < 2; f++) {
        const file = join(dir, "big", `part-${f}.csv`);
        writeFileSync(file, `k,g\n${Array.from({ length: 20000 }, (_, i) => `key${(i * 7 + f) % 6500},g${i % 5}`).join("\n")}\n`);
        files.big!.push(file);
      }
      const bytes = (fs: string[]) => fs.reduce((n, f) => n + statSync(f).size, 0);
      tables = [
        { name: "many", url: `${many}/`, format: "csv", header: true, columns: [{ name: "k", type: "VARCHAR" }, { name: "v", type: "BIGINT" }], bytes: bytes(files.many!) },
        { name: "big", url: `${dir}/big/`, format: "csv", header: true, columns: [{ name: "k", type: "VARCHAR" }, { name: "g", type: "VARCHAR" }], bytes: bytes(files.big!) },
      ];
      db = await openDuckDb({ threads: 1 });
      session = await SqlSession.open();
      manager = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
    });
    after(async () => {
      db?.close();
      session?.close();
      await manager?.close();
    });

    const cases: [label: string, sql: string, strategy: RegExp, inlineSplitListBytes?: number][] = [
      ["broadcast join of the 6,000 files", "SELECT b.g, count(*) AS n, sum(m.v) AS s FROM big b JOIN many m ON b.k = m.k GROUP BY b.g", /broadcast join many into big/],
      ["leaf tasks over the 6,000 files, their own lists through the store", "SELECT count(*), sum(v), min(k), max(k) FROM many", /scan many/, 1024],
    ];
    for (const [label, sql, strategy, inlineSplitListBytes] of cases) {
      test(label, async () => {
        const plan = await planQuery(sql, tables, { partitions: 2, workers: 2 }, session);
        assert.match(plan.stages[0]!.name, strategy);
        const out = await openDuckDb({ threads: 1 });
        try {
          await executePlan(manager, out, plan, { work: `${dir}/work/`, ...(inlineSplitListBytes ? { inlineSplitListBytes } : {}) });
          assertSameResult(await readTable(out, "result"), await runDirect(db, sql, parseTables(tables), files), false, label);
        } finally {
          out.close();
        }
      });
    }
  });
});
