/**
 * Every input read exactly (issue 9): each case is a wrong answer once seen, or an input that
 * failed, now compared with DuckDB alone reading the same files (its own read_csv / read_json,
 * not Smelter's) through the real engine (threads, 2 workers, CSV objects cut into many byte
 * ranges) and, where the existing SQL tests do, the local plan executor. Inputs that cannot be
 * read exactly are refused with a message naming the object.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { sqlIdentifier as q } from "../../src/duckdb/sql.js";
import type { Manager } from "../../src/scheduler/manager.js";
import { tablesFromFlags } from "../../src/cli/sql-flags.js";
import { resolveTables, type TableRequest } from "../../src/sql/catalog.js";
import { executePlan } from "../../src/query/execute.js";
import { formatPlan } from "../../src/query/explain.js";
import type { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import type { SqlTableInput } from "../../src/sql/tables.js";
import { openInputTestEnv, type InputTestEnv } from "../helpers/input-env.js";
import { assertSameResult, readTable, runPlanLocally, type TestResult } from "../helpers/local-plan.js";

const TASK_BYTES = 4 * 1024; // many byte ranges per object

describe("every input read exactly, as DuckDB alone reads it", () => {
  let env: InputTestEnv;
  let dir: string;
  let db: DuckDb;
  let session: SqlSession;
  let threads: Manager;
  before(async () => {
    env = await openInputTestEnv("smelter-inputs-");
    ({ dir, db, session, threads } = env);
  });
  after(async () => {
    await env?.close();
  });
  const files = (name: string, contents: Record<string, string | Uint8Array>) => env.files(name, contents);

  const resolve = (requests: TableRequest[]) => resolveTables(requests);

  async function viaEngine(sql: string, tables: SqlTableInput[], taskBytes = TASK_BYTES): Promise<TestResult & { tasks: number[]; badRows: number }> {
    const plan = await planQuery(sql, tables, { workers: 2 }, session);
    const out = await openDuckDb({ threads: 1 });
    try {
      const r = await executePlan(threads, out, plan, { targetTaskBytes: taskBytes, work: `${dir}/work/` });
      const badRows = r.run.results.flat().reduce((n, t) => n + (t.stats.counters.badRows ?? 0), 0);
      return { ...(await readTable(out, "result")), tasks: r.tasks, badRows };
    } finally {
      out.close();
    }
  }

  async function viaLocalPlan(sql: string, tables: SqlTableInput[]): Promise<TestResult> {
    const plan = await planQuery(sql, tables, { workers: 2 }, session);
    const byTable: Record<string, string[]> = {};
    for (const t of tables) byTable[t.name] = readdirSync(t.url).sort().map((f) => join(t.url, f));
    return runPlanLocally(db, plan, byTable);
  }

  /** DuckDB alone: views over its own table functions, the query's result stored as a table. */
  async function alone(sql: string, views: Record<string, string>): Promise<TestResult> {
    for (const [name, source] of Object.entries(views)) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(name)} AS SELECT * FROM ${source}`);
    await db.run(`CREATE OR REPLACE TEMP TABLE __alone AS ${sql}`);
    try {
      return await readTable(db, "__alone");
    } finally {
      await db.run("DROP TABLE __alone");
    }
  }

  test("a headered CSV cut into byte ranges keeps the first row of every range (was: 199,997 of 200,000)", async () => {
    const parts: Record<string, string> = {};
    for (let f = 0; f < 3; f++) {
      const rows = Array.from({ length: 2000 }, (_, i) => `${f * 10000 + i},${(i * 7) % 13},name ${i}`);
      parts[`f${f}.csv`] = `id,v,name\n${rows.join("\n")}\n`;
    }
    const url = files("headered", parts);
    const tables = await resolve([{ name: "t", url }]);
    const sql = "SELECT count(*) AS n, sum(v) AS s, min(id) AS lo, max(id) AS hi, max(name) AS name FROM t";
    const want = await alone(sql, { t: `read_csv('${url}*.csv')` });
    assert.equal(want.rows[0]![0], "6000");
    const got = await viaEngine(sql, tables);
    assert.ok(got.tasks[0]! >= 9, `several ranges per object (tasks: ${got.tasks.join(", ")})`);
    assertSameResult(got, want, false, "headered ranges, engine");
    assertSameResult(await viaLocalPlan(sql, tables), want, false, "headered, local plan");
  });

  test("objects with the same columns in another order are matched by name (DuckDB's union_by_name); other columns are refused, named", async () => {
    const ab = Array.from({ length: 500 }, (_, i) => `${i},${i * 1000}`).join("\n");
    const ba = Array.from({ length: 500 }, (_, i) => `${i * 1000 + 1},${i + 1}`).join("\n");
    const url = files("order", { "f1.csv": `a,b\n${ab}\n`, "f2.csv": `b,a\n${ba}\n` });
    const tables = await resolve([{ name: "t", url }]);
    const sql = "SELECT count(*) AS n, sum(a) AS sa, sum(b) AS sb, max(a) AS ma FROM t";
    const want = await alone(sql, { t: `read_csv('${url}*.csv', union_by_name = true)` });
    assertSameResult(await viaEngine(sql, tables), want, false, "column order, engine");
    assertSameResult(await viaLocalPlan(sql, tables), want, false, "column order, local plan");

    const other = files("other-columns", { "f1.csv": `a,b\n${ab}\n`, "f3.csv": `a,c\n${ab}\n` });
    const t2 = await resolve([{ name: "t", url: other }]);
    await assert.rejects(viaEngine(sql.replace("sum(b)", "sum(a)"), t2), (err: Error) => {
      assert.match(err.message, /f3\.csv: its header \(a, c\) does not name the same columns as the table's columns \(a, b/);
      assert.doesNotMatch(err.message, /file:\/\/file:/, "the object's URL once");
      return true;
    });
  });

  test("a row longer than the limit is an error naming the object, the byte offset and the limit, never dropped (in place and in ranges)", async () => {
    const long = "y".repeat(40 * 1024 * 1024);
    const head = "k,v\n1,x\n2,x\n";
    const url = files("long", { "a.csv": `${head}3,${long}\n` });
    // DuckDB alone refuses it too.
    await assert.rejects(db.all(`SELECT count(*) FROM read_csv('${url}a.csv')`));
    const tables = await resolve([{ name: "t", url }]);
    const message = new RegExp(`a\\.csv: the record at byte ${head.length} is longer than the limit of 16777216 bytes`);
    await assert.rejects(viaEngine("SELECT count(*) FROM t", tables, 1024 * 1024 * 1024), message); // whole object, read in place
    await assert.rejects(viaEngine("SELECT count(*) FROM t", tables, 8 * 1024 * 1024), message); // byte ranges
  });

  test("NDJSON tables are read as JSON (by extension, or --input-format), also gzip-compressed", async () => {
    const recs = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, cat: `c${i % 4}`, x: i / 4, tag: i % 5 ? "a" : null }));
    const url = files("ndjson", { "a.ndjson": `${recs.slice(0, 150).join("\n")}\n`, "b.jsonl": `${recs.slice(150).join("\n")}\n` });
    const tables = await resolve([{ name: "j", url }]);
    const sql = "SELECT cat, count(*) AS n, sum(id) AS s, avg(x) AS m, count(tag) AS tags FROM j GROUP BY cat";
    const want = await alone(sql, { j: `read_json(['${url}a.ndjson', '${url}b.jsonl'], format = 'newline_delimited')` });
    assertSameResult(await viaEngine(sql, tables), want, false, "ndjson, engine");
    assertSameResult(await viaLocalPlan(sql, tables), want, false, "ndjson, local plan");

    const gz = files("ndjson-gz", { "a.txt.gz": gzipSync(`${recs.join("\n")}\n`) });
    const gzTables = await resolve([{ name: "j", url: gz, options: { format: "ndjson" } }]);
    assertSameResult(await viaEngine(sql, gzTables), want, false, "ndjson gzip with --input-format, engine");
  });

  test("RFC 4180 quoting: quoted delimiters and doubled quotes in byte ranges; Smelter reads back its own CSV output", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? `${i},,"q,z ${i}"` : i % 3 === 1 ? `${i},"he said ""hi""",plain` : `${i},"",","`));
    const url = files("quoted", { "q.csv": `a,b,c\n${rows.join("\n")}\n` });
    const tables = await resolve([{ name: "t", url }]);
    const sql = "SELECT count(*) AS n, count(b) AS nb, max(c) AS mc, min(b) AS mb, min(c) AS lc, sum(a) AS s FROM t";
    const want = await alone(sql, { t: `read_csv('${url}q.csv')` });
    const got = await viaEngine(sql, tables);
    assert.ok(got.tasks[0]! > 3, "several ranges");
    assertSameResult(got, want, false, "quoted, engine");
    assertSameResult(await viaLocalPlan(sql, tables), want, false, "quoted, local plan");

    // Its own output: every row of t written as one CSV object, then read back as a table.
    const outDir = join(dir, "own-output");
    mkdirSync(outDir);
    const plan = await planQuery("SELECT a, b, c FROM t", tables, { workers: 2 }, session);
    const out = await openDuckDb({ threads: 1 });
    try {
      await executePlan(threads, out, plan, { targetTaskBytes: TASK_BYTES, work: `${dir}/work/`, output: join(outDir, "x.csv") });
    } finally {
      out.close();
    }
    const back = await resolve([{ name: "t", url: `${outDir}/` }]);
    const sql2 = "SELECT count(*) AS n, count(b) AS nb, max(c) AS mc, min(b) AS mb, min(c) AS lc, sum(a) AS s FROM t";
    assertSameResult(await viaEngine(sql2, back), await alone(sql2, { t: `read_csv('${outDir}/x.csv')` }), false, "own output read back");
  });

  test("quoted newlines: a cut object is refused naming it and the way out; read whole it equals DuckDB alone", async () => {
    const rows = Array.from({ length: 400 }, (_, i) => (i % 50 === 7 ? `${i},"two\nlines ${i}"` : `${i},one line ${i}`));
    const url = files("multiline", { "m.csv": `id,note\n${rows.join("\n")}\n` });
    const sql = "SELECT count(*) AS n, sum(id) AS s, max(length(note)) AS l, count(*) FILTER (WHERE note LIKE '%\n%') AS multi FROM t";
    const want = await alone(sql, { t: `read_csv('${url}m.csv')` });
    assert.equal(want.rows[0]![0], "400");
    const tables = await resolve([{ name: "t", url, options: { quote: '"' } }]);
    await assert.rejects(viaEngine(sql, tables), /m\.csv: a quoted field holds a line break .* read such objects whole \(smelter sql\/explain: --whole-files/);
    const whole = await resolve([{ name: "t", url, options: { quote: '"', whole: true } }]);
    assert.match(formatPlan(await planQuery(sql, whole, { workers: 2 }, session)), /objects read whole; 1 split/);
    assertSameResult(await viaEngine(sql, whole), want, false, "multiline, whole objects");
  });

  test("gzip and zstd CSV objects: header sniffed from the decompressed data, rows equal DuckDB alone's", async () => {
    const text = `k,v,d\n${Array.from({ length: 500 }, (_, i) => `k${i % 7},${i},2024-01-${String((i % 28) + 1).padStart(2, "0")}`).join("\n")}\n`;
    const url = files("compressed", { "a.csv.gz": gzipSync(text) });
    writeFileSync(join(dir, "compressed", "plain.csv"), text);
    await db.run(`COPY (SELECT * FROM read_csv('${url}plain.csv', all_varchar = true)) TO '${url}b.csv.zst' (FORMAT csv, HEADER, COMPRESSION zstd)`);
    // A second zstd object with the columns in another order (matched by name, as union_by_name does).
    await db.run(`COPY (SELECT d, k, v FROM read_csv('${url}plain.csv', all_varchar = true)) TO '${url}c.csv.zst' (FORMAT csv, HEADER, COMPRESSION zstd)`);
    const sql = "SELECT k, count(*) AS n, sum(v) AS s, max(d) AS d FROM t GROUP BY k";
    for (const glob of ["*.gz", "*.zst"]) {
      const tables = await resolve([{ name: "t", url: `${url}${glob}` }]);
      assert.deepEqual(tables[0]!.columns.map((c) => c.name), ["k", "v", "d"]);
      assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `read_csv('${url}${glob}', union_by_name = true)` }), false, `compressed ${glob}`);
    }
    // A CRLF zstd object with a quoted LF in a record: its header was read by DuckDB's own line-ending detection, which refused it ("state machine reached an invalid state").
    const crlf = `${dir}/compressed-crlf/`;
    mkdirSync(crlf);
    await db.run(`COPY (SELECT i AS id, CASE WHEN i = 5 THEN 'l1' || chr(10) || 'l2' ELSE 'v' || i END AS s, i % 7 AS x FROM range(20) t(i)) TO '${crlf}a.csv.zst' (FORMAT csv, HEADER, NEW_LINE '\r\n', COMPRESSION zstd)`);
    const crlfTables = await resolve([{ name: "t", url: crlf }]);
    assert.deepEqual(crlfTables[0]!.columns.map((c) => c.name), ["id", "s", "x"]);
    const crlfSql = "SELECT x, count(*) AS n, sum(length(s)) AS ls, max(s) AS ms FROM t GROUP BY x";
    assertSameResult(await viaEngine(crlfSql, crlfTables), await alone(crlfSql, { t: `read_csv('${crlf}a.csv.zst')` }), false, "CRLF zstd with a quoted LF");
  });

  test("dialect options: given or sniffed, shown by explain, read as DuckDB reads them with the same options", async () => {
    const rows = Array.from({ length: 400 }, (_, i) => `${i};${i % 9 === 0 ? "NA" : `v${i % 5}`};${String((i % 28) + 1).padStart(2, "0")}/0${(i % 9) + 1}/2023`);
    const url = files("dialect", { "a.txt": `${rows.slice(0, 200).join("\n")}\n`, "b.txt": `${rows.slice(200).join("\n")}\n` });
    const options = { header: false, nullString: "NA", dateFormat: "%d/%m/%Y" };
    const tables = await resolve([{ name: "t", url, options }]);
    const t = tables[0]!;
    assert.equal(t.delimiter, ";");
    assert.deepEqual(t.columns.map((c) => c.type), ["BIGINT", "VARCHAR", "DATE"]);
    const text = formatPlan(await planQuery("SELECT count(*) FROM t", tables, { workers: 2 }, session));
    assert.match(text, /\(csv, no header, delimiter ";", .*null "NA", dates "%d\/%m\/%Y"; /);
    assert.match(text, /sniffed from its first objects with data \(up to 10, as DuckDB alone sniffs a glob\): delimiter, quote, escape/);
    const sql = "SELECT column1, count(*) AS n, sum(column0) AS s, min(column2) AS lo, max(column2) AS hi FROM t GROUP BY column1";
    const want = await alone(sql, { t: `read_csv(['${url}a.txt', '${url}b.txt'], header = false, nullstr = 'NA', dateformat = '%d/%m/%Y')` });
    assertSameResult(await viaEngine(sql, tables), want, false, "dialect, engine");
    assertSameResult(await viaLocalPlan(sql, tables), want, false, "dialect, local plan");
  });

  test("bad rows: fail names the objects; --bad-rows skip drops and counts what DuckDB alone's ignore_errors drops", async () => {
    const rows = Array.from({ length: 600 }, (_, i) => (i % 100 === 5 ? `x${i},${i}` : i % 100 === 50 ? `${i},${i},extra,more` : `${i},${i % 7}`));
    const url = files("bad-rows", { "b.csv": `a,b\n${rows.join("\n")}\n` });
    const sql = "SELECT count(*) AS n, sum(a) AS s, sum(b) AS sb FROM t";
    const columns = [
      { name: "a", type: "INTEGER" },
      { name: "b", type: "INTEGER" },
    ];
    const dialect = { delimiter: ",", header: true };
    await assert.rejects(viaEngine(sql, await resolve([{ name: "t", url, columns, options: dialect }])), /failed in DuckDB reading file:\/\/\S+\/b\.csv.*Conversion Error/s);
    const skip = await resolve([{ name: "t", url, columns, options: { ...dialect, badRows: "skip" } }]);
    assert.match(formatPlan(await planQuery(sql, skip, { workers: 2 }, session)), /bad rows skipped and counted/);
    const got = await viaEngine(sql, skip);
    assertSameResult(got, await alone(sql, { t: `read_csv('${url}b.csv', header = true, columns = {'a': 'INTEGER', 'b': 'INTEGER'}, ignore_errors = true)` }), false, "bad rows skipped");
    assert.equal(got.rows[0]![0], "588");
    assert.equal(got.badRows, 12, "rows, not errors: a row with two extra fields is two of DuckDB's reject_errors");
    // A cast in the query that fails is not the input's fault: the message says so, without the stage's own SQL (was: "fix or remove the malformed rows", and "LINE 1: COPY (SELECT ...").
    await assert.rejects(viaEngine("SELECT CAST(b || 'x' AS INTEGER) AS v FROM t", skip), (err: Error) => {
      assert.match(err.message, /Could not convert string .*A value could not be converted: by a cast in the query .*TRY_CAST/s);
      assert.doesNotMatch(err.message, /LINE \d+: COPY|malformed rows/);
      return true;
    });
  });

  test("dialect flags: --delimiter tab, --table-option per table over the global flags, bad keys refused", async () => {
    const url = files("tsv", { "a.tsv": `${Array.from({ length: 50 }, (_, i) => `${i}\tn${i}`).join("\n")}\n` });
    const { tables: [t] } = await tablesFromFlags({ table: [`t=${url}`], schema: [], delimiter: "tab", header: "yes", tableOption: ["t.header=no", "t.null=n7"] });
    assert.equal(t!.delimiter, "\t");
    assert.equal(t!.header, false);
    assert.equal(t!.nullString, "n7");
    const sql = "SELECT count(*) AS n, count(column1) AS named, sum(column0) AS s FROM t";
    assertSameResult(await viaEngine(sql, [t!]), await alone(sql, { t: `read_csv('${url}a.tsv', delim = '\t', header = false, nullstr = 'n7')` }), false, "tsv");
    await assert.rejects(tablesFromFlags({ table: [`t=${url}`], schema: [], tableOption: ["t.colour=red"] }), /--table-option key "colour" is unknown/);
    await assert.rejects(tablesFromFlags({ table: [`t=${url}`], schema: [], tableOption: ["u.header=no"] }), /--table-option u\.header=no names no --table/);
    await assert.rejects(tablesFromFlags({ table: [`t=${url}`], schema: [], quote: "ab" }), /--quote takes one character/);
  });
});
