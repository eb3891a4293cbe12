/**
 * SQL through the real engine (threads backend, 2 workers; some on processes): each query of
 * sql-cases.ts is planned, run as a job of `smelter.sql.stage` tasks with shuffles through a local
 * store (several tasks per CSV file: small task bytes), gathered into DuckDB, and compared with
 * DuckDB alone over the same files. Floats within a relative 1e-6; order only under ORDER BY.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { Manager } from "../../src/scheduler/manager.js";
import { localStore } from "../../src/storage/local.js";
import { executePlan } from "../../src/query/execute.js";
import { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import { parseTables, type SqlTableInput } from "../../src/sql/tables.js";
import { assertSameResult, csvHeaderOf, readFileLike, readTable, runDirect } from "../helpers/local-plan.js";
import { SQL_CASES } from "../helpers/sql-cases.js";
import { makeSqlTestData, type SqlTestData } from "../helpers/sql-data.js";

const entry = new URL("../../src/builtin-workers/builtin.js", import.meta.url);
const TASK_BYTES = 48 * 1024; // ~4 tasks per uservisits CSV file

/** Cases run on the processes backend too. */
const ON_PROCESSES = new Set(["BDB Q2A", "BDB Q3 partitioned", "COUNT(DISTINCT) grouped", "NULLs global"]);

describe("SQL through the engine equals DuckDB alone", () => {
  let data: SqlTestData;
  let db: DuckDb;
  let session: SqlSession;
  let threads: Manager;
  let processes: Manager;
  before(async () => {
    data = await makeSqlTestData();
    db = await openDuckDb({ threads: 1 });
    session = await SqlSession.open();
    threads = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
    processes = new Manager({ backend: processesBackend({ entry, workers: 2 }) });
  });
  after(async () => {
    db?.close();
    session?.close();
    await threads?.close();
    await processes?.close();
  });

  async function check(manager: Manager, label: string, sql: string, ordered: boolean, options: object, tables: SqlTableInput[] = data.tables, combine: "auto" | "skip" = "auto"): Promise<number[]> {
    const plan = await planQuery(sql, tables, { partitions: 4, workers: 2, ...options }, session);
    const out = await openDuckDb({ threads: 1 });
    try {
      const r = await executePlan(manager, out, plan, { targetTaskBytes: TASK_BYTES, work: `${data.dir}/work/`, combine });
      if (combine === "skip") {
        const uncombined = plan.stages.filter((s) => s.uncombined).map((s) => s.id);
        const skipped = r.run.results.flat().filter((t) => (t.stats.counters.combineSkipped ?? 0) > 0).length;
        assert.equal(skipped, uncombined.reduce((n, id) => n + r.tasks[id - 1]!, 0), `${label}: every task of a partial aggregate stage skipped its combine`);
      }
      const got = await readTable(out, "result");
      const want = await runDirect(db, sql, parseTables(tables), data.files);
      assertSameResult(got, want, ordered, label);
      assert.equal(r.rows, want.rows.length);
      return r.tasks;
    } finally {
      out.close();
    }
  }

  for (const [label, sql, ordered, options] of SQL_CASES) {
    test(`threads: ${label}`, async () => {
      const tasks = await check(threads, label, sql, ordered, options ?? {});
      if (/\buservisits\b/i.test(sql)) assert.ok(Math.max(...tasks) > 4, `${label}: several tasks per CSV file (tasks per stage: ${tasks.join(", ")})`);
    });
    if (ON_PROCESSES.has(label)) test(`processes: ${label}`, () => check(processes, label, sql, ordered, options ?? {}).then(() => undefined));
    // Grouped partial aggregates again with every split task skipping its combine (one row of partials per input row).
    if (/group by/i.test(sql)) test(`threads, combine skipped: ${label}`, () => check(threads, label, sql, ordered, options ?? {}, data.tables, "skip").then(() => undefined));
  }

  test("a task skips its combine when a sample finds its keys nearly all distinct, and keeps it otherwise", async () => {
    const dir = `${data.dir}/distinct/`;
    mkdirSync(dir, { recursive: true });
    const rows = 150_000;
    // u: every key distinct (Query 2C's case); few: 50 keys (2A's case). Two files: two tasks.
    for (let f = 0; f < 2; f++) await db.run(`COPY (SELECT 'u' || (i * 2 + ${f}) AS u, 'k' || (i % 50) AS few, i % 7 AS v FROM range(${rows}) AS r(i)) TO '${dir}part-${f}.parquet' (FORMAT parquet)`);
    const tables: SqlTableInput[] = [{ name: "d", url: dir, format: "parquet", columns: [{ name: "u", type: "VARCHAR" }, { name: "few", type: "VARCHAR" }, { name: "v", type: "BIGINT" }] }];
    for (const [key, skips] of [["u", true], ["few", false]] as const) {
      const sql = `SELECT ${key}, sum(v) AS s, count(*) AS n, avg(v) AS a FROM d GROUP BY ${key}`;
      const plan = await planQuery(sql, tables, { workers: 2 }, session);
      assert.ok(plan.stages[0]!.uncombined, "the split stage carries its uncombined SQL");
      const out = await openDuckDb({ threads: 1 });
      try {
        const r = await executePlan(threads, out, plan, { work: `${data.dir}/work/`, targetTaskBytes: 1024 });
        const maps = r.run.results[0]!;
        assert.equal(maps.length, 2);
        assert.deepEqual(maps.map((t) => (t.stats.counters.combineSkipped ?? 0) > 0), [skips, skips], `GROUP BY ${key}: combine skipped`);
        assertSameResult(await readTable(out, "result"), await runDirect(db, sql, parseTables(tables), { d: [`${dir}part-0.parquet`, `${dir}part-1.parquet`] }), false, `GROUP BY ${key}`);
      } finally {
        out.close();
      }
    }
  });

  test("integers beyond 2^53, HUGEINT sums and dates reach the coordinator exactly", async () => {
    const dir = `${data.dir}/big/`;
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 3; f++) writeFileSync(`${dir}part-${f}.csv`, `k,v,d\n${[0, 1, 2, 3].map((i) => `k${i % 2},${9007199254740993n + BigInt(f * 4 + i)},2020-0${1 + i}-1${f}`).join("\n")}\n`);
    const tables: SqlTableInput[] = [{ name: "big", url: dir, format: "csv", header: true, columns: [{ name: "k", type: "VARCHAR" }, { name: "v", type: "BIGINT" }, { name: "d", type: "DATE" }] }];
    const sql = "SELECT k, sum(v) AS s, max(v) AS m, min(d) AS first, count(*) AS n FROM big GROUP BY k ORDER BY k";
    const plan = await planQuery(sql, tables, { partitions: 3, workers: 2 }, session);
    const out = await openDuckDb({ threads: 1 });
    try {
      await executePlan(threads, out, plan, { work: `${data.dir}/work/` });
      const rows = await out.all<{ k: string; s: bigint; m: bigint; first: unknown }>("SELECT k, s::VARCHAR AS s, m, first::VARCHAR AS first FROM result ORDER BY k");
      const want = await db.all<{ k: string; s: bigint; m: bigint; first: unknown }>(`SELECT k, sum(v)::VARCHAR AS s, max(v) AS m, min(d)::VARCHAR AS first FROM read_csv('${dir}*.csv', header = true, columns = {'k': 'VARCHAR', 'v': 'BIGINT', 'd': 'DATE'}) GROUP BY k ORDER BY k`);
      assert.deepEqual(rows, want);
      const types = await out.all<{ column_type: string }>("DESCRIBE result");
      assert.deepEqual(types.map((t) => t.column_type), plan.columns.map((c) => c.type), "the result's types are DuckDB alone's (HUGEINT sum included)");
    } finally {
      out.close();
    }
  });

  test("output: the result as ONE object, uploaded by the tasks of the result stage (splits or partitions) or by the coordinator; equal to the result table", async () => {
    const cases: [sql: string, file: string, writtenBy: "tasks" | "coordinator", ordered: boolean][] = [
      ["SELECT sourceIP, visitDate, adRevenue FROM uservisits WHERE duration > 8", "scan.csv", "tasks", false],
      ["SELECT countryCode, count(*), count(*), sum(duration), avg(adRevenue) FROM uservisits GROUP BY 1", "grouped.csv", "tasks", false],
      ["SELECT countryCode, count(*) AS n FROM uservisits GROUP BY 1 ORDER BY n DESC, 1 LIMIT 7", "top.csv", "coordinator", true],
      ["SELECT count(*), sum(adRevenue), max(visitDate) FROM uservisits", "global.csv", "coordinator", false],
      ["SELECT k, sum(big) AS total, sum(amount) AS money, max(ts) AS last FROM typed GROUP BY k", "typed.parquet", "coordinator", false],
    ];
    mkdirSync(`${data.dir}/objects`, { recursive: true }); // an output's directory must exist (checked before the job)
    for (const [sql, name, writtenBy, ordered] of cases) {
      const plan = await planQuery(sql, data.tables, { partitions: 3, workers: 2 }, session);
      const out = await openDuckDb({ threads: 1 });
      try {
        const file = `${data.dir}/objects/${name}`;
        const r = await executePlan(threads, out, plan, { targetTaskBytes: TASK_BYTES, work: `${data.dir}/work/`, output: file });
        assert.equal(r.object?.writtenBy, writtenBy, sql);
        if (writtenBy === "tasks") assert.equal(r.object?.partitions, r.tasks[plan.coordinator.resultStage! - 1], `${sql}: one partition per task of the result stage`);
        if (writtenBy === "tasks") assert.ok(r.object!.partitions > 1, `${sql}: several partitions`);
        assert.equal(r.object?.size, statSync(file).size);
        assertSameResult(await readFileLike(out, file, "result"), await readTable(out, "result"), ordered, sql);
        if (name.endsWith(".csv")) assert.equal(readFileSync(file, "utf8").split("\n")[0], await csvHeaderOf(out, "result", data.dir), `${sql}: one header, DuckDB's`);
      } finally {
        out.close();
      }
    }
    const left: string[] = [];
    for await (const o of localStore(`${data.dir}/objects/`).list("")) left.push(o.key);
    assert.deepEqual(left.sort(), cases.map((c) => c[1]).sort(), "the objects, and no staging object");
  });

  test("the work prefix is deleted; a failing task is named with its attempts", async () => {
    const left: string[] = [];
    for await (const o of localStore(`${data.dir}/work/`).list("")) left.push(o.key);
    assert.deepEqual(left, [], "no shuffle objects left behind");
    const dir = `${data.dir}/bad/`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}part-0.csv`, "a,b\n1,2\n3,x\n");
    const plan = await planQuery("SELECT a, sum(b) FROM bad GROUP BY a", [{ name: "bad", url: dir, format: "csv", header: true, columns: [{ name: "a", type: "INTEGER" }, { name: "b", type: "INTEGER" }] }], { partitions: 2 }, session);
    const out = await openDuckDb({ threads: 1 });
    mkdirSync(`${data.dir}/failed`, { recursive: true });
    try {
      await assert.rejects(executePlan(threads, out, plan, { work: `${data.dir}/work/`, output: `${data.dir}/failed/r.csv` }), (err: Error) => {
        assert.match(err.message, /task j\w+-s01-t00000 .*failed/);
        assert.match(err.message, /stage 1 \(.*\) failed in DuckDB reading .*part-0\.csv/);
        assert.match(err.message, /Check the input's format/);
        return true;
      });
      const failed: string[] = [];
      for await (const o of localStore(`${data.dir}/failed/`).list("")) failed.push(o.key);
      assert.deepEqual(failed, [], "the upload was aborted: no object, no staging");
    } finally {
      out.close();
    }
  });
});
