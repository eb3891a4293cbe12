/**
 * One listing per table, handed from the catalog to execution: a store wrapper that counts
 * listing calls sees each table listed once by `smelter sql`'s path (catalog -> plan -> prepare ->
 * execute), by Query 2 and by the functions API; and `smelter explain` prints the task count that `smelter sql` then runs
 * (same --workers and --task-bytes), stage by stage.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { inlineBackend } from "../../src/backends/index.js";
import "../../src/builtin-workers/builtin.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { wordCount } from "../fixtures/function-jobs.js";
import { executePrepared } from "../../src/query/execute.js";
import { prepareQuery } from "../../src/query/prepare.js";
import { runQuery2 } from "../../src/query/query2.js";
import { Manager } from "../../src/scheduler/manager.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { memoryStore } from "../../src/storage/memory.js";
import { registerMemoryStore } from "../../src/storage/url.js";
import { resolveCatalog } from "../../src/sql/catalog.js";
import { planQuery } from "../../src/sql/plan.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

/** A memory store that counts listing calls by prefix (every way of listing goes through listPages or list). */
function countingStore(name: string): { store: ObjectStore; listings: Map<string, number> } {
  const inner = memoryStore(name);
  const listings = new Map<string, number>();
  const count = (prefix: string) => listings.set(prefix, (listings.get(prefix) ?? 0) + 1);
  const store: ObjectStore = {
    ...inner,
    listPages: (prefix, o) => {
      count(prefix);
      return inner.listPages(prefix, o);
    },
    list: (prefix, o) => {
      count(prefix);
      return inner.list(prefix, o);
    },
  };
  return { store, listings };
}

describe("one listing per table, and explain shows the tasks that run", () => {
  const counted = countingStore("listing-once");
  let unregister: () => void;
  let manager: Manager;
  before(async () => {
    unregister = registerMemoryStore("listing-once", counted.store);
    manager = new Manager({ backend: inlineBackend() });
    const enc = new TextEncoder();
    for (let f = 0; f < 3; f++) {
      const rows = Array.from({ length: 50 }, (_, i) => `k${(i + f) % 4},${i * (f + 1)}`);
      await counted.store.put(`t/part-${f}.csv`, enc.encode(`k,v\n${rows.join("\n")}\n`));
      const uv = Array.from({ length: 40 }, (_, i) => `10.${f}.${i % 7}.${i},page${i},1980-01-01,${(i * 0.25).toFixed(2)},ua,US,EN,word,${i % 9}`);
      await counted.store.put(`uv/part-0000${f}`, enc.encode(`${uv.join("\n")}\n`));
    }
    await counted.store.put("u/part-0.csv", enc.encode("k,name\nk0,zero\nk1,one\nk2,two\n"));
  });
  after(async () => {
    unregister();
    await manager.close();
  });

  test("smelter sql's path lists each table once (catalog, plan, tasks, run), a join included", async () => {
    counted.listings.clear();
    const catalog = await resolveCatalog([
      { name: "t", url: "memory://listing-once/t/" },
      { name: "u", url: "memory://listing-once/u/" },
    ]);
    const plan = await planQuery("SELECT u.name, sum(t.v) AS s FROM t JOIN u ON t.k = u.k GROUP BY 1", catalog.tables, { workers: 2 });
    const prepared = await prepareQuery(plan, catalog.listings, { workers: manager.maxConcurrentTasks, taskBytes: 1024 });
    const db = await openDuckDb({ threads: 1 });
    try {
      const r = await executePrepared(manager, db, prepared);
      assert.equal(r.rows, 3);
      assert.deepEqual(r.tasks, prepared.stages.map((s) => s.tasks.length), "the job ran the prepared tasks");
    } finally {
      db.close();
    }
    assert.equal(counted.listings.get("t/"), 1, `t listed once: ${JSON.stringify([...counted.listings])}`);
    assert.equal(counted.listings.get("u/"), 1, `u listed once: ${JSON.stringify([...counted.listings])}`);
  });

  test("Query 2 lists its input once", async () => {
    counted.listings.clear();
    const db = await openDuckDb({ threads: 1 });
    try {
      const r = await runQuery2(manager, db, { input: "memory://listing-once/uv/", prefixLen: 8, partitions: 2, targetTaskBytes: 1024 });
      assert.ok(r.rows > 0);
      assert.ok(r.tasks[0]! >= 3, `several map tasks (${r.tasks[0]})`);
    } finally {
      db.close();
    }
    assert.equal(counted.listings.get("uv/"), 1, `uv listed once: ${JSON.stringify([...counted.listings])}`);
  });

  test("the functions API lists its input once", async () => {
    await counted.store.put("text/a.txt", new TextEncoder().encode("the cat and the hat\nthe end\n".repeat(200)));
    counted.listings.clear();
    const r = await wordCount.run(manager, { input: "memory://listing-once/text/", partitions: 2, targetTaskBytes: 1024 });
    assert.ok(r.mapTasks >= 3, `several map tasks (${r.mapTasks})`);
    assert.equal((r.records as { word: string; count: number }[]).find((x) => x.word === "the")?.count, 600);
    assert.equal(counted.listings.get("text/"), 1, `text listed once: ${JSON.stringify([...counted.listings])}`);
  });

  test("smelter explain's task counts are the ones smelter sql runs (same --workers and --task-bytes)", () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-explain-tasks-"));
    mkdirSync(join(dir, "t"));
    // Two objects of ~40 KiB and one of ~4 KiB: packed into tasks of 16 KiB, the big ones cut into ranges.
    for (const [f, n] of [[0, 4000], [1, 4000], [2, 400]] as const) writeFileSync(join(dir, "t", `part-${f}.csv`), `k,v\n${Array.from({ length: n }, (_, i) => `k${i % 5},${i}`).join("\n")}\n`);
    const args = ["--table", `t=${join(dir, "t")}/`, "--workers", "2", "--task-bytes", String(16 * 1024)];
    for (const [query, extra] of [
      ["SELECT k, count(*) AS n FROM t GROUP BY k", ["--partitions", "3"]],
      ["SELECT k, count(*) AS n FROM t GROUP BY k", []],
      ["SELECT k, v FROM t WHERE v % 1000 = 7", []],
    ] as const) {
      const explained = spawnSync(process.execPath, [bin, "explain", query, ...args, ...extra, "--format", "json"], { encoding: "utf8", timeout: 60_000 });
      assert.equal(explained.status, 0, explained.stderr);
      const planned = (JSON.parse(explained.stdout) as { tasks: { stage: number; count: number }[] }).tasks.map((t) => t.count);
      const file = join(dir, `run-${Math.random().toString(36).slice(2)}.duckdb`);
      const ran = spawnSync(process.execPath, [bin, "sql", query, ...args, ...extra, "--backend", "threads", "--quiet", "--format", "csv", "--output", file], { encoding: "utf8", timeout: 120_000 });
      assert.equal(ran.status, 0, ran.stderr);
      const counts = spawnSync(process.execPath, ["-e", `import("${new URL("../../src/duckdb/index.js", import.meta.url).href}").then(async ({ openDuckDb }) => { const db = await openDuckDb({ path: ${JSON.stringify(file)} }); const rows = await db.all("SELECT stage, count(DISTINCT task_id)::INTEGER AS n FROM attempts GROUP BY stage ORDER BY stage"); console.log(JSON.stringify(rows.map((r) => r.n))); db.close(); })`], { encoding: "utf8" });
      assert.equal(counts.status, 0, counts.stderr);
      assert.deepEqual(JSON.parse(counts.stdout), planned, `${query} ${extra.join(" ")}: explain said ${JSON.stringify(planned)}`);
      assert.ok(planned[0]! >= 5, `the CSV objects were cut into several tasks (${planned[0]})`);
    }
  });
});
