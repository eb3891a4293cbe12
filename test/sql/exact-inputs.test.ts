/**
 * The last classes the differential suite found wrong or wrongly refused (issue 9), each as a
 * small fixed input compared with DuckDB alone reading the same files with their own options
 * (read_csv with each file's column order, read_json over all files): a --schema in another order
 * than the first header (a wrong answer: 0 joined rows instead of 6), sniffing past an empty or
 * header-only first object, a CRLF file whose first record holds a quoted LF, doubled quotes in
 * objects the sniff did not see, NDJSON keys in different orders, a headerless file starting
 * with a BOM and a quoted field, and a gzip of nothing in a headered table (sql and the
 * functions API). Run through the real engine (threads, 2 workers, tiny byte ranges), broadcast
 * and partitioned joins.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { sqlIdentifier as q } from "../../src/duckdb/sql.js";
import { readRecords, recordFormatSchema } from "../../src/mapreduce/records.js";
import type { Manager } from "../../src/scheduler/manager.js";
import { resolveTables, type TableRequest } from "../../src/sql/catalog.js";
import { executePlan } from "../../src/query/execute.js";
import { prepareQuery } from "../../src/query/prepare.js";
import { listInput } from "../../src/splits/listing.js";
import type { SqlSession } from "../../src/sql/parse.js";
import { planQuery } from "../../src/sql/plan.js";
import type { SqlTableInput } from "../../src/sql/tables.js";
import { listSplits } from "../../src/splits/discover.js";
import { memoryStore } from "../../src/storage/memory.js";
import { openStore } from "../../src/storage/url.js";
import { openInputTestEnv, type InputTestEnv } from "../helpers/input-env.js";
import { assertSameResult, readTable, type TestResult } from "../helpers/local-plan.js";

const T_SCHEMA = [
  { name: "k", type: "VARCHAR" },
  { name: "g", type: "BIGINT" },
  { name: "x", type: "BIGINT" },
  { name: "d", type: "DATE" },
];
const U_SCHEMA = [
  { name: "k", type: "VARCHAR" },
  { name: "w", type: "BIGINT" },
];
const struct = (cols: { name: string; type: string }[]) => `{${cols.map((c) => `'${c.name}': '${c.type}'`).join(", ")}}`;

describe("the last wrong answers and refusals of the differential suite, exact", () => {
  let env: InputTestEnv;
  let dir: string;
  let db: DuckDb;
  let session: SqlSession;
  let threads: Manager;
  before(async () => {
    env = await openInputTestEnv("smelter-exact-");
    ({ dir, db, session, threads } = env);
  });
  after(async () => {
    await env?.close();
  });
  const files = (name: string, contents: Record<string, string | Uint8Array>) => env.files(name, contents);

  async function viaEngine(sql: string, tables: SqlTableInput[], o: { taskBytes?: number; join?: "broadcast" | "partitioned" } = {}): Promise<TestResult> {
    const plan = await planQuery(sql, tables, { workers: 2, ...(o.join ? { join: o.join } : {}), partitions: 3 }, session);
    const out = await openDuckDb({ threads: 1 });
    try {
      await executePlan(threads, out, plan, { targetTaskBytes: o.taskBytes ?? 40, work: `${dir}/work/` });
      return await readTable(out, "result");
    } finally {
      out.close();
    }
  }

  /** DuckDB alone: views over its own table functions (`sources` per view: UNION ALL of SELECTs). */
  async function alone(sql: string, views: Record<string, string>): Promise<TestResult> {
    for (const [name, source] of Object.entries(views)) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(name)} AS ${source}`);
    await db.run(`CREATE OR REPLACE TEMP TABLE __alone AS ${sql}`);
    try {
      return await readTable(db, "__alone");
    } finally {
      await db.run("DROP TABLE __alone");
    }
  }

  /** One CSV file as DuckDB alone reads it: its own column order, projected to `cols`' order. */
  const csvFile = (path: string, fileCols: { name: string; type: string }[], cols: { name: string }[], o: { header: boolean; crlf?: boolean; lf?: boolean }) =>
    `SELECT ${cols.map((c) => q(c.name)).join(", ")} FROM read_csv('${path}', header = ${o.header}, auto_detect = false, delim = ',', quote = '"', escape = '"'${o.crlf ? ", new_line = '\\r\\n'" : o.lf ? ", new_line = '\\n'" : ""}, columns = ${struct(fileCols)})`;
  const reorder = (names: string[]) => names.map((n) => T_SCHEMA.find((c) => c.name === n)!);

  test("sql-join-mixed-inputs: a --schema in another order than the first header, a header-only and an empty object, a BOM on the other side: joins equal DuckDB alone (was 0 rows against 6)", async () => {
    // t: part-00 header g,d,x,k; part-01 header-only in another order; part-02 a gzip of nothing. --schema k, g, x, d.
    const rows00 = [
      [-2, "1995-02-23", 10, "Ω"],
      [4, "2035-07-15", 42, "ключ"],
      [-3, "", -10, "a b"],
      [1, "2001-01-01", 7, "Ω"],
      [3, "2035-03-16", -93, "z9"],
      [2, "", 5, "é"],
    ];
    const t = files("join-t", {
      "part-00.csv": `g,d,x,k\n${rows00.map((r) => r.join(",")).join("\n")}\n`,
      "part-01.csv": "x,k,g,d\n",
      "part-02.csv.gz": gzipSync(""),
    });
    // u: headerless, a UTF-8 BOM at the start of each object.
    const u = files("join-u", { "part-00.csv": "\uFEFFΩ,-685\nключ,725\nz9,-389\n", "part-01.csv": "\uFEFFé,-986\nΩ,100\na b,-17\n" });
    const tables = await resolveTables([
      { name: "t", url: t, columns: T_SCHEMA },
      { name: "u", url: u, columns: U_SCHEMA },
    ]);
    assert.deepEqual(tables[0]!.columns.map((c) => c.name), ["k", "g", "x", "d"], "the schema's order");
    const want = await alone("SELECT t.k, count(*) AS n, sum(u.w) AS sw, sum(t.x) AS sx FROM t JOIN u ON t.k = u.k GROUP BY t.k", {
      t: `${csvFile(`${t}part-00.csv`, reorder(["g", "d", "x", "k"]), T_SCHEMA, { header: true })} UNION ALL ${csvFile(`${t}part-01.csv`, reorder(["x", "k", "g", "d"]), T_SCHEMA, { header: true })}`,
      u: `SELECT * FROM read_csv(['${u}part-00.csv', '${u}part-01.csv'], header = false, auto_detect = false, columns = ${struct(U_SCHEMA)})`,
    });
    assert.equal(want.rows.length, 5);
    const sql = "SELECT t.k, count(*) AS n, sum(u.w) AS sw, sum(t.x) AS sx FROM t JOIN u ON t.k = u.k GROUP BY t.k";
    assertSameResult(await viaEngine(sql, tables, { join: "partitioned" }), want, false, "partitioned join");
    assertSameResult(await viaEngine(sql, tables, { join: "broadcast" }), want, false, "broadcast join");
  });

  test("sql-join-mixed-inputs: a CRLF object whose first record holds a quoted LF (gzip and in place), an LF one with a quoted CRLF first, and doubled quotes in an object the sniff did not see", async () => {
    // DuckDB takes a file's line ending from its first line break, even a quoted one: each file Smelter hands it says its own.
    const tText = 'k,g,x,d\r\n"k\nnl",5,31,1965-06-08\r\n"k,1",4,21964,1974-12-07\r\nB,-3,,1994-01-12\r\n"k\nnl",1,2,2000-02-02\r\n';
    const t = files("crlf-t", { "part-00.csv.gz": gzipSync(tText), "part-01.csv": tText, "part-02.csv.gz": gzipSync('k,g,x,d\n"k\r\nnl",7,1,2001-01-01\nB,8,2,2002-02-02\n') });
    // u: the first object (sampled) has quotes but no doubled quote (sniffed escape: none); the second has one.
    const u = files("crlf-u", { "part-00.csv": 'k,w\n"k,1",-976\n"a b",-18\nB,727\n', "part-01.csv": 'k,w\n"x,""y"",z",862\n"k\nnl",3\nB,1\n' });
    const tables = await resolveTables([
      { name: "t", url: t, options: { whole: true } },
      { name: "u", url: u, options: { whole: true } },
    ]);
    const sql = "SELECT count(*) AS n, sum(u.w) AS sw, max(t.d) AS md, sum(t.x) AS sx, max(u.k) AS mk FROM t JOIN u ON t.k = u.k";
    const tView = [...["part-00.csv.gz", "part-01.csv"].map((f) => csvFile(`${t}${f}`, T_SCHEMA, T_SCHEMA, { header: true, crlf: true })), csvFile(`${t}part-02.csv.gz`, T_SCHEMA, T_SCHEMA, { header: true, lf: true })].join(" UNION ALL ");
    const want = await alone(sql, { t: tView, u: `SELECT * FROM read_csv('${u}*.csv', header = true, auto_detect = false, quote = '"', escape = '"', columns = ${struct(U_SCHEMA)})` });
    assert.equal(want.rows[0]![0], "12");
    assertSameResult(await viaEngine(sql, tables, { join: "broadcast", taskBytes: 1 << 20 }), want, false, "CRLF with a quoted LF first, broadcast");
    assertSameResult(await viaEngine(sql, tables, { join: "partitioned", taskBytes: 1 << 20 }), want, false, "CRLF with a quoted LF first, partitioned");
    // u's other quotes read in tiny byte ranges (no quoted line break in the object that is cut).
    const cut = await resolveTables([{ name: "u", url: files("quotes-cut", { "part-00.csv": 'k,w\n"k,1",-976\nB,727\n', "part-01.csv": 'k,w\n"x,""y"",z",862\nB,1\n' }) }]);
    const sqlU = "SELECT k, sum(w) AS s FROM u GROUP BY k";
    assertSameResult(await viaEngine(sqlU, cut), await alone(sqlU, { u: `SELECT * FROM read_csv('${join(dir, "quotes-cut")}/*.csv', header = true, auto_detect = false, quote = '"', escape = '"', columns = ${struct(U_SCHEMA)})` }), false, "doubled quotes after the sample");
  });

  test("sql-column-order: --schema in another order than the first header, and an empty or header-only first object, read by name", async () => {
    const body = (order: string[], rows: Record<string, string>[]) => `${order.join(",")}\n${rows.map((r) => order.map((c) => r[c]).join(",")).join("\n")}\n`;
    const rows = Array.from({ length: 12 }, (_, i) => ({ k: ["a", "B", "é"][i % 3]!, g: String(i - 4), x: String(i * 1000003), d: `20${String(10 + i)}-0${(i % 9) + 1}-1${i % 10}` }));
    const sql = "SELECT k, count(*) AS n, sum(g) AS sg, sum(x) AS sx, max(d) AS md FROM t GROUP BY k";
    const views = (url: string, parts: [string, string[]][]) => ({ t: parts.map(([f, order]) => csvFile(`${url}${f}`, reorder(order), T_SCHEMA, { header: true })).join(" UNION ALL ") });

    // A --schema whose order is not the first header's (the sum of x was the sum of g).
    const a = files("schema-order", { "p0.csv": body(["g", "d", "x", "k"], rows.slice(0, 6)), "p1.csv": body(["k", "x", "g", "d"], rows.slice(6)) });
    const want = await alone(sql, views(a, [["p0.csv", ["g", "d", "x", "k"]], ["p1.csv", ["k", "x", "g", "d"]]]));
    assertSameResult(await viaEngine(sql, await resolveTables([{ name: "t", url: a, columns: T_SCHEMA }])), want, false, "--schema in another order");
    // A schema with other names renames the columns by position, in the first header's order (other objects by name).
    const renamed = await resolveTables([{ name: "t", url: a, columns: [{ name: "p", type: "BIGINT" }, { name: "q", type: "DATE" }, { name: "r", type: "BIGINT" }, { name: "s", type: "VARCHAR" }] }]);
    assert.deepEqual(renamed[0]!.headerNames, ["g", "d", "x", "k"]);
    const sqlRenamed = "SELECT s AS k, count(*) AS n, sum(p) AS sg, sum(r) AS sx, max(q) AS md FROM t GROUP BY s";
    assertSameResult(await viaEngine(sqlRenamed, renamed), want, false, "--schema renaming by position");
    // The same files without --schema: the first header's order, as DuckDB's read_csv(union_by_name) lists them.
    const sniffed = await resolveTables([{ name: "t", url: a }]);
    assert.deepEqual(sniffed[0]!.columns.map((c) => c.name), ["g", "d", "x", "k"]);
    assertSameResult(await viaEngine(sql, sniffed), want, false, "sniffed, by name");

    // A header-only first object and an empty gzip one before the data: the dialect is sniffed from the data.
    const b = files("first-empty", { "p0.csv": "x,k,d,g\n", "p1.csv.gz": gzipSync(""), "p2.csv": body(["d", "k", "g", "x"], rows) });
    const bReq: TableRequest[] = [{ name: "t", url: b, columns: T_SCHEMA }];
    assertSameResult(await viaEngine(sql, await resolveTables(bReq)), await alone(sql, views(b, [["p0.csv", ["x", "k", "d", "g"]], ["p2.csv", ["d", "k", "g", "x"]]])), false, "header-only and empty first");
    const headerOnly = await resolveTables([{ name: "t", url: b }]);
    assert.deepEqual(headerOnly[0]!.columns.map((c) => `${c.name} ${c.type}`), ["d DATE", "k VARCHAR", "g BIGINT", "x BIGINT"], "types sniffed from the object holding data");
  });

  test("sql-ndjson-column-order: SELECT * over NDJSON objects listing keys in different orders lists the columns as DuckDB alone's read_json does", async () => {
    const j = files("ndjson-order", {
      "p0.ndjson": '{"x":1,"k":"a"}\n{"x":2,"k":"b","y":3.5}\n',
      "p1.ndjson": '{"k":"c","z":1,"x":5}\n{"y":-1,"x":9007199254740993,"k":"a"}\n',
    });
    const tables = await resolveTables([{ name: "t", url: j }]);
    const want = await alone("SELECT * FROM t", { t: `SELECT * FROM read_json('${j}*.ndjson', format = 'newline_delimited')` });
    assert.deepEqual(want.names, ["x", "k", "y", "z"]);
    assert.deepEqual(tables[0]!.columns.map((c) => c.name), want.names);
    assertSameResult(await viaEngine("SELECT * FROM t", tables), want, false, "NDJSON SELECT *");
  });

  test("sql-headerless-quoted-sniff: a headerless CSV starting with a BOM and a quoted field with doubled quotes is sniffed headerless", async () => {
    const text = '\uFEFF"x,""y"",z",4,-261425001829975,1991-10-01\n,3,-22,\n"z9",0,9007199254740993,1971-03-13\n"""q""",3,,2016-08-13\nΩ,,33,2025-01-16\n';
    const url = files("bom-quoted", { "p0.csv": text, "p1.csv": '"k,1",4,7,1979-02-28\n' });
    const tables = await resolveTables([{ name: "t", url, columns: T_SCHEMA }]);
    assert.equal(tables[0]!.header, false);
    const sql = "SELECT DISTINCT k, g FROM t";
    const want = await alone(sql, { t: ["p0.csv", "p1.csv"].map((f) => csvFile(`${url}${f}`, T_SCHEMA, T_SCHEMA, { header: false })).join(" UNION ALL ") });
    assert.equal(want.rows.length, 6);
    assertSameResult(await viaEngine(sql, tables), want, false, "BOM + quoted first field");

    // The sniffer's own line-ending detection (fuzz sql-csv seed 42016): a CRLF sample whose first record holds a quoted LF.
    const crlf = files("sniff-crlf", { "p0.csv": '"k\nnl",5,31,1965-06-08\r\n"a,b",4,2,1974-12-07\r\nB,-3,,1994-01-12\r\n' });
    const crlfTables = await resolveTables([{ name: "t", url: crlf, columns: T_SCHEMA }]);
    const crlfWant = await alone(sql, { t: csvFile(`${crlf}p0.csv`, T_SCHEMA, T_SCHEMA, { header: false, crlf: true }) });
    assert.equal(crlfWant.rows.length, 3);
    assertSameResult(await viaEngine(sql, crlfTables, { taskBytes: 1 << 20 }), crlfWant, false, "CRLF sample with a quoted LF first");
  });

  test("sniff-sample-rows: a value past the first 256 KiB but within DuckDB's 20,480 sampled rows sets the column's type and the quoting as DuckDB alone's sniff does; bare-CR lines are refused", async () => {
    // 3,000 rows of ~100 bytes: row 2,900 holds the only fraction (x), a leading zero (s) and a quoted field, ~290 KB in.
    const pad = "p".repeat(80);
    const rows = ["id,x,s,pad"];
    for (let i = 0; i < 3000; i++) rows.push(i === 2900 ? `${i},1.5,007,"quoted ${pad}"` : i === 2950 ? `${i},${i % 10},${i % 1000},"say ""hi"""` : `${i},${i % 10},${i % 1000},${pad}`);
    const url = files("sample-rows", { "t.csv": `${rows.join("\n")}\n` });
    const tables = await resolveTables([{ name: "t", url }]);
    assert.deepEqual(tables[0]!.columns.map((c) => c.type), ["BIGINT", "DOUBLE", "VARCHAR", "VARCHAR"], "types from 20,480 rows, not 256 KiB");
    assert.equal(tables[0]!.quote, '"', "quoting seen past 256 KiB");
    const views = { t: `SELECT * FROM read_csv('${url}t.csv')` };
    for (const sql of ["SELECT s = '007' AS z, sum(x) AS sx, count(*) AS n, max(pad) AS mp FROM t GROUP BY 1", "SELECT id, s, pad FROM t WHERE id IN (2900, 2950)"]) {
      const want = await alone(sql, views);
      assert.ok(want.rows.length > 0);
      assertSameResult(await viaEngine(sql, tables, { taskBytes: 65_536 }), want, false, sql);
    }
    const cr = files("bare-cr", { "t.csv": `id,x\r${Array.from({ length: 50 }, (_, i) => `${i},${i}`).join("\r")}\r` });
    await assert.rejects(resolveTables([{ name: "t", url: cr }]), /ends its lines with a bare CR .*Convert the line endings/);
  });

  test("sniff-other-objects: types unified and quoting taken over the first 10 objects as DuckDB alone's glob does; what it would read otherwise is refused naming both objects", async () => {
    const check = async (url: string, want: string[], sqls: string[]) => {
      const tables = await resolveTables([{ name: "t", url }]);
      assert.deepEqual(tables[0]!.columns.map((c) => `${c.name} ${c.type}`), want);
      for (const sql of sqls) {
        const expected = await alone(sql, { t: `SELECT * FROM read_csv('${url}*.csv')` });
        assert.ok(expected.rows.length > 0);
        assertSameResult(await viaEngine(sql, tables), expected, false, sql);
      }
      return tables[0]!;
    };
    // x: whole numbers in a.csv, fractions in b.csv; e: empty in a.csv, numbers in b.csv (was: x BIGINT, fractions rounded; e VARCHAR).
    const types = files("sniff-others-types", {
      "a.csv": `id,x,e\n${Array.from({ length: 100 }, (_, i) => `${i},${i},`).join("\n")}\n`,
      "b.csv": `id,x,e\n${Array.from({ length: 100 }, (_, i) => `${100 + i},${100 + i}.5,${i}`).join("\n")}\n`,
    });
    await check(types, ["id BIGINT", "x DOUBLE", "e BIGINT"], ["SELECT id % 3 AS g, count(*) AS n, sum(x) AS sx, max(e) AS me, min(e) AS mi FROM t GROUP BY 1", "SELECT id, x, e FROM t WHERE id IN (5, 150)"]);
    // s: quoted in b.csv only (was: the quotes kept as data).
    const quotes = files("sniff-others-quotes", {
      "a.csv": `id,s\n${Array.from({ length: 100 }, (_, i) => `${i},v${i}`).join("\n")}\n`,
      "b.csv": `id,s\n${Array.from({ length: 100 }, (_, i) => `${100 + i},"w${i}"`).join("\n")}\n`,
    });
    assert.equal((await check(quotes, ["id BIGINT", "s VARCHAR"], ["SELECT id % 3 AS g, max(s) AS ms, sum(length(s)) AS ls FROM t GROUP BY 1", "SELECT id, s FROM t WHERE id IN (5, 150)"])).quote, '"');
    // Columns given: DuckDB alone sniffs the first file's dialect only and reads every file with it (b.csv's quotes are data), and so does Smelter (it took b.csv's quote before).
    const cols = [{ name: "id", type: "BIGINT" }, { name: "s", type: "VARCHAR" }];
    const withCols = "SELECT id % 3 AS g, max(s) AS ms, sum(length(s)) AS ls FROM t GROUP BY 1";
    const wantCols = await alone(withCols, { t: `SELECT * FROM read_csv('${quotes}*.csv', columns = ${struct(cols)})` });
    assertSameResult(await viaEngine(withCols, await resolveTables([{ name: "t", url: quotes, columns: cols }])), wantCols, false, "--schema given");
    // Both at once: DuckDB alone reads the quotes as data then (seen with one quoted row), so it is refused.
    const both = files("sniff-others-both", { "a.csv": "a,b\n1,2\n3,4.5\n", "b.csv": 'a,b\n5,"x"\n' });
    await assert.rejects(resolveTables([{ name: "t", url: both }]), /table t's objects differ in quoting and in column types: .*b\.csv quotes its fields, .*a\.csv does not, and column b sniffs as DOUBLE in the first and VARCHAR in the other/);
    const semi = files("sniff-delims", { "a.csv": `id,x\n${Array.from({ length: 50 }, (_, i) => `${i},${i}`).join("\n")}\n`, "b.csv": `id;x\n${Array.from({ length: 50 }, (_, i) => `${i};${i}`).join("\n")}\n` });
    await assert.rejects(resolveTables([{ name: "t", url: semi }]), /table t's objects are not one CSV dialect: .*a\.csv has delimiter ",", .*b\.csv ";"/);
  });

  test("sniff-later-objects: an object after the first 10 is sniffed by the task reading its start, as DuckDB alone sniffs each file of a glob: types that do not widen and another dialect are refused naming it; the rest equal DuckDB alone", async () => {
    const rows = (from: number, n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(from + i)).join("\n");
    // Ten objects of whole numbers and unquoted words, then the object under test (f10), then an empty and a header-only one.
    const table = (f10: string, name: string) =>
      files(name, {
        ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f0${i}.csv`, `id,x,s\n${rows(i * 20, 20, (j) => `${j},${j % 7},w${j}`)}\n`])),
        "f10.csv": f10,
        "f11.csv": "",
        "f12.csv": "id,x,s\n",
      });
    const view = (url: string) => ({ t: `SELECT * FROM read_csv('${url}*.csv')` });
    const sql = "SELECT id % 3 AS g, count(*) AS n, sum(x) AS sx, max(s) AS ms, sum(length(s)) AS ls FROM t GROUP BY 1";
    // Fractions in the 11th object's first rows: DuckDB alone refuses the glob; Smelter read them rounded into BIGINT (sum(x) off by 0.5 a row).
    const fractions = table(`id,x,s\n${rows(200, 30, (j) => `${j},${j % 7}.5,w${j}`)}\n`, "later-fractions");
    await assert.rejects(alone(sql, view(fractions)), /Schema mismatch between globbed files/);
    for (const taskBytes of [40, 1 << 20]) {
      await assert.rejects(viaEngine(sql, await resolveTables([{ name: "t", url: fractions }]), { taskBytes }), /f10\.csv: column x sniffs as DOUBLE in its first rows, where the table's x is BIGINT \(the table's were sniffed from its first 10 objects.*Schema mismatch between globbed files.*--schema for the table with a type every object fits \(x DOUBLE\)/);
    }
    // Given the columns, DuckDB alone and Smelter read every object with them.
    const typed = [{ name: "id", type: "BIGINT" }, { name: "x", type: "DOUBLE" }, { name: "s", type: "VARCHAR" }];
    assertSameResult(await viaEngine(sql, await resolveTables([{ name: "t", url: fractions, columns: typed }])), await alone(sql, { t: `SELECT * FROM read_csv('${fractions}*.csv', columns = ${struct(typed)})` }), false, "--schema given");
    // Quoted fields holding the delimiter in the 11th object: DuckDB alone reads it with its own quote; Smelter's one dialect has none, so it is refused (with --quote given it reads).
    const quoted = table(`id,x,s\n${rows(200, 30, (j) => `${j},${j % 7},"w,${j}"`)}\n`, "later-quotes");
    await assert.rejects(viaEngine(sql, await resolveTables([{ name: "t", url: quoted }]), { taskBytes: 1 << 20 }), /f10\.csv: its first records sniff as another CSV dialect than the table's: quote "\\"" here, none in the table.*--quote '"'/);
    // Cut into many ranges, a task reading a later range of the object may fail first, on its own: refused either way.
    await assert.rejects(viaEngine(sql, await resolveTables([{ name: "t", url: quoted }])), /f10\.csv.*(another CSV dialect|Expected Number of Columns: 3 Found: 4)/);
    const want = await alone(sql, view(quoted));
    assert.equal(Number((await alone("SELECT count(*) FROM t WHERE contains(s, ',')", view(quoted))).rows[0]![0]), 30, "DuckDB alone reads the quoted commas as data");
    assertSameResult(await viaEngine(sql, await resolveTables([{ name: "t", url: quoted, options: { quote: '"' } }])), want, false, "--quote given");
    // Nothing differs (whole numbers that widen, columns in another order, quotes DuckDB alone and Smelter both read as data): read, equal to DuckDB alone, in ranges of every size.
    const same = table(`s,id,x\n${rows(200, 30, (j) => `w${j}"",${j},${j % 5}`)}\n`, "later-same");
    const tables = await resolveTables([{ name: "t", url: same }]);
    assert.deepEqual(tables[0]!.sniffedFrom?.objects.length, 10);
    for (const taskBytes of [40, 333, 1 << 20]) assertSameResult(await viaEngine(sql, tables, { taskBytes }), await alone(sql, view(same)), false, `ranges of ${taskBytes} bytes`);
    // Beyond DuckDB's 20,480-row sample the 11th object is not looked at by either: a fraction there is read as DuckDB alone reads it.
    const late = table(`id,x,s\n${rows(200, 20_600, (j) => `${j},${j % 7},w${j}`)}\n1000000,3.5,late\n`, "later-past-sample");
    const lateTables = await resolveTables([{ name: "t", url: late }]);
    for (const taskBytes of [50_000, 1 << 22]) assertSameResult(await viaEngine(sql, lateTables, { taskBytes }), await alone(sql, view(late)), false, `past the sample, ranges of ${taskBytes} bytes`);
  });

  test("sniff-long-first-line: a first line longer than the first 256 KiB read grows the sample (was refused: 'hold no line break')", async () => {
    const url = files("long-first-line", { "a.csv": `${"x".repeat(300 * 1024)},n\n${Array.from({ length: 100 }, (_, i) => `w${i},${i}.5`).join("\n")}\n` });
    const tables = await resolveTables([{ name: "t", url }]);
    assert.deepEqual(tables[0]!.columns.map((c) => c.type), ["VARCHAR", "DOUBLE"]);
    const sql = "SELECT count(*) AS c, sum(n) AS s, max(length(x)) AS l FROM (SELECT COLUMNS(*) FROM t) AS u(x, n)";
    assertSameResult(await viaEngine(sql, tables, { taskBytes: 1 << 20 }), await alone(sql, { t: `SELECT * FROM read_csv('${url}a.csv')` }), false, sql);
  });

  test("header-names: a header with an empty name (a trailing delimiter), duplicates and padded names reads as DuckDB names them (was refused against itself)", async () => {
    for (const [name, header, want] of [
      ["trailing", "a,b,", ["a", "b", "column2"]],
      ["dupes", "a,a,A,b", ["a", "a_1", "A_2", "b"]],
      ["taken", "a,a,a_1,a", ["a", "a_1", "a_1_1", "a_2"]],
      ["empties", "x,,,x", ["x", "column1", "column2", "x_1"]],
      ["padded", " p ,q", ["p", "q"]],
    ] as const) {
      const n = header.split(",").length;
      const row = (i: number) => Array.from({ length: n }, (_, j) => i * 10 + j).join(",");
      const url = files(`header-${name}`, { "a.csv": `${header}\n${[1, 2, 3].map(row).join("\n")}\n`, "b.csv": `${header}\n${[4, 5].map(row).join("\n")}\n` });
      const tables = await resolveTables([{ name: "t", url }]);
      assert.deepEqual(tables[0]!.columns.map((c) => c.name), want);
      const sql = `SELECT count(*) AS n, ${want.map((c) => `sum(${q(c)}) AS ${q(`s_${c}`)}`).join(", ")} FROM t`;
      assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `SELECT * FROM read_csv('${url}*.csv')` }), false, header);
    }
  });

  test("join-key-common-type: a partitioned join of number keys of two types hashes them as the type DuckDB compares them in (INTEGER = FLOAT compares in FLOAT; as DOUBLE, 1-3 rows of 4; INTEGER = DECIMAL(12,2) as DECIMAL, whose cast kept its width and scale)", async () => {
    const l = files("jk-l", { "a.csv": "lid,k,d\n1,16777217,0.1\n2,16777219,0.3\n", "b.csv": "lid,k,d\n3,16777221,0.7\n4,5,2.5\n" });
    const r = files("jk-r", { "a.csv": "rid,f,g\n10,16777216,16777217.00\n11,16777220,1.50\n12,0.1,5.00\n", "b.csv": "rid,f,g\n13,16777222,0.30\n14,5,16777221\n15,0.3,2\n16,0.7,7\n" });
    const schemas = { l: [{ name: "lid", type: "BIGINT" }, { name: "k", type: "INTEGER" }, { name: "d", type: "DECIMAL(9,2)" }], r: [{ name: "rid", type: "BIGINT" }, { name: "f", type: "FLOAT" }, { name: "g", type: "DECIMAL(12,2)" }] };
    const tables = await resolveTables([{ name: "l", url: l, columns: schemas.l }, { name: "r", url: r, columns: schemas.r }]);
    const views = { l: `SELECT * FROM read_csv('${l}*.csv', columns = ${struct(schemas.l)})`, r: `SELECT * FROM read_csv('${r}*.csv', columns = ${struct(schemas.r)})` };
    for (const sql of ["SELECT l.lid, r.rid FROM l JOIN r ON l.k = r.f", "SELECT l.lid, r.rid FROM l JOIN r ON l.d = r.f", "SELECT l.lid, r.rid FROM l FULL JOIN r ON l.k = r.f", "SELECT l.lid, r.rid FROM l JOIN r ON l.k = r.g"]) {
      const want = await alone(sql, views);
      assert.ok(want.rows.length >= 3, sql);
      assertSameResult(await viaEngine(sql, tables, { join: "partitioned" }), want, false, sql);
    }
  });

  test("csv-type-merge: CSV objects whose columns sniff to different types are typed as DuckDB alone merges them over its files (DATE and TIMESTAMP, DOUBLE and '-inf', BOOLEAN and BIGINT: VARCHAR); union_by_name's merge had read fractions as NULL timestamps", async () => {
    const sql = "SELECT id, x, typeof(x) AS t FROM t";
    for (const [name, a, b] of [
      ["double-inf", "id,x\n1,1.5\n2,2.5\n", "id,x\n3,-inf\n"],
      ["ts-date", "id,x\n1,2020-01-31 10:00:00\n2,2020-02-28 11:00:00\n", "id,x\n3,2020-03-01\n4,2020-03-02\n"],
      ["tstz-ts", "id,x\n1,2020-01-31 10:00:00+02\n2,2020-02-28 11:00:00+00\n", "id,x\n3,2020-01-31 10:00:00\n"],
      ["bool-int", "id,x\n1,true\n2,false\n", "id,x\n3,1\n4,0\n"],
      ["time-int", "id,x\n1,10:00:00\n2,11:00:00\n", "id,x\n3,5\n"],
      ["int-double", "id,x\n1,1\n2,2\n", "id,x\n3,2.5\n"],
    ] as const) {
      const url = files(`merge-${name}`, { "a.csv": a, "b.csv": b });
      const tables = await resolveTables([{ name: "t", url }]);
      const want = await alone(sql, { t: `SELECT * FROM read_csv('${url}*.csv')` });
      for (const taskBytes of [8, 1 << 20]) assertSameResult(await viaEngine(sql, tables, { taskBytes }), want, false, `${name}, tasks of ${taskBytes} bytes`);
    }
  });

  test("csv-date-iso: a DATE column sniffed as ISO reads 'infinity', 'epoch', BC dates and 5-digit years as DuckDB alone does (Smelter passed dateformat '%Y-%m-%d': 1900-01-01, or refused); objects writing dates in two formats are refused, named", async () => {
    const sql = "SELECT id, x, typeof(x) AS t FROM t";
    for (const [name, body] of [["words", "id,x\n1,2020-01-05\n2,infinity\n3,-infinity\n4,epoch\n"], ["bc-and-wide", "id,x\n1,2020-01-05\n2,2020-02-01\n3,0044-03-15 (BC)\n4,12345-01-01\n"]] as const) {
      const url = files(`date-iso-${name}`, { "a.csv": body });
      const tables = await resolveTables([{ name: "t", url }]);
      assert.equal(tables[0]!.columns[1]!.type, "DATE");
      assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `SELECT * FROM read_csv('${url}a.csv')` }), false, name);
    }
    const two = files("date-two-formats", { "a.csv": "id,x\n1,2020-01-31\n2,2020-02-28\n", "b.csv": "id,x\n3,31/01/2020\n4,28/02/2020\n" });
    // Refused when a query reads the column; answered when it does not.
    const twoTables = await resolveTables([{ name: "t", url: two }]);
    for (const q of ["SELECT max(x) FROM t", "SELECT * FROM t"]) await assert.rejects(viaEngine(q, twoTables), /table t's objects write DATE values in different formats: first object \S+a\.csv as ISO 8601, object \S+b\.csv as %d\/%m\/%Y/, q);
    // A USING column is read too (the join's key), though no expression names it.
    const other = files("date-using", { "a.csv": "x,n\n2020-01-31,1\n" });
    const joined = [...twoTables, ...(await resolveTables([{ name: "u", url: other }]))];
    await assert.rejects(viaEngine("SELECT count(*) FROM t JOIN u USING (x)", joined), /table t's objects write DATE values in different formats/);
    assertSameResult(await viaEngine("SELECT count(*) AS n, sum(id) AS s FROM t", twoTables), await alone("SELECT count(*) AS n, sum(id) AS s FROM t", { t: `SELECT * FROM read_csv('${two}*.csv')` }), false, "not reading the dates");
    // One format in the objects that hold dates (the first has none): the table's.
    const later = files("date-later-format", { "a.csv": "id,x\n1,\n", "b.csv": "id,x\n3,31/01/2020\n4,28/02/2020\n" });
    const tables = await resolveTables([{ name: "t", url: later }]);
    assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `SELECT * FROM read_csv('${later}*.csv')` }), false, "a later object's format");
  });

  test("ndjson-temporal: an NDJSON column DuckDB reads otherwise when told its type (a UTC offset dropped: 10:00 for DuckDB alone's 08:00; 'epoch'; 01-31-2020) is refused, named, and so is a .json object holding one JSON array (read as one row); ISO dates and timestamps read as DuckDB alone reads them", async () => {
    for (const [name, body] of [
      ["offset", '{"id":1,"x":"2020-01-05T10:00:00+02:00"}\n{"id":2,"x":"2020-07-01T23:30:00+05:30"}\n'],
      ["epoch", '{"id":1,"x":"2020-01-05"}\n{"id":2,"x":"epoch"}\n'],
      ["us-date", '{"id":1,"x":"01-31-2020"}\n{"id":2,"x":"02-28-2020"}\n'],
    ] as const) {
      const url = files(`nd-temporal-${name}`, { "a.ndjson": body });
      const tables = await resolveTables([{ name: "t", url }]);
      await assert.rejects(viaEngine("SELECT id, x FROM t", tables), /DuckDB reads the column x \((DATE|TIMESTAMP)\) otherwise when told its type.*Pass --schema with it as VARCHAR/, name);
      assertSameResult(await viaEngine("SELECT count(*) AS n, sum(id) AS s FROM t", tables), await alone("SELECT count(*) AS n, sum(id) AS s FROM t", { t: `SELECT * FROM read_json('${url}a.ndjson', format = 'newline_delimited')` }), false, `${name}: not reading x`);
    }
    // One JSON array of records: DuckDB alone reads its elements as rows; it was read as one row of one column "json".
    const array = files("nd-array", { "a.json": `\n  [${Array.from({ length: 100 }, (_, i) => `{"id":${i},"v":${i}}`).join(",\n")}]\n` });
    await assert.rejects(resolveTables([{ name: "t", url: array }]), /holds a JSON array \(it starts with "\["\), not one JSON record a line.*jq -c/);
    const iso = files("nd-temporal-iso", { "a.ndjson": '{"id":1,"d":"2020-01-05","ts":"2020-01-05 10:00:00","t":"10:11:12"}\n{"id":2,"d":"2021-02-03","ts":"2021-02-03 04:05:06","t":"23:00:00"}\n' });
    const tables = await resolveTables([{ name: "t", url: iso }]);
    assert.deepEqual(tables[0]!.columns.map((c) => c.type), ["BIGINT", "DATE", "TIMESTAMP", "TIME"]);
    const sql = "SELECT id, d, ts, t FROM t";
    assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `SELECT * FROM read_json('${iso}a.ndjson', format = 'newline_delimited')` }), false, "ISO");
  });

  test("star-replace-rename: * REPLACE, * RENAME and a qualified * EXCLUDE are expanded as DuckDB expands them (were refused: 'list the columns')", async () => {
    const url = files("star-modifiers", { "a.csv": `id,x,s\n${Array.from({ length: 40 }, (_, i) => `${i},${i * 10},v${i}`).join("\n")}\n`, "b.csv": `id,x,s\n${Array.from({ length: 30 }, (_, i) => `${i + 40},${i},w${i}`).join("\n")}\n` });
    const tables = await resolveTables([{ name: "t", url }]);
    const views = { t: `SELECT * FROM read_csv('${url}*.csv')` };
    for (const sql of ["SELECT * REPLACE (x + 1 AS x, upper(s) AS s) FROM t", "SELECT * RENAME (x AS y) FROM t WHERE id % 3 = 0", "SELECT t.* EXCLUDE (t.s) RENAME (t.x AS y) FROM t", "SELECT y, count(*) AS n FROM (SELECT * RENAME (x AS y) FROM t) AS u GROUP BY y"]) {
      for (const taskBytes of [64, 1 << 20]) assertSameResult(await viaEngine(sql, tables, { taskBytes }), await alone(sql, views), false, `${sql}, tasks of ${taskBytes} bytes`);
    }
  });

  test("hive-directories: objects in key=value directories read with the keys as columns, typed and valued as DuckDB alone reads them (Parquet, CSV, NDJSON; was refused, and before that SELECT * came back without them); hive=false reads the objects' own columns", async () => {
    const root = files("hive", { "README": "" }).replace(/\/$/, "");
    // Parquet in year=/month= directories (BIGINT keys), and one directory's URL whose keys sit above it.
    for (const [dir, id] of [["year=2024/month=1", 1], ["year=2024/month=2", 2], ["year=2025/month=1", 3], ["year=2025/month=12", 4]] as const) {
      mkdirSync(`${root}/pq/${dir}`, { recursive: true });
      await db.run(`COPY (SELECT ${id} * 10 + i AS id, (${id} + i) * 1.5 AS v, 'n' || (i % 3) AS name FROM range(7) r(i)) TO '${root}/pq/${dir}/a.parquet' (FORMAT parquet)`);
    }
    const pqSqls = [
      "SELECT * FROM t",
      "SELECT year, month, count(*) AS n, sum(v) AS s FROM t GROUP BY ALL",
      "SELECT id, month FROM t WHERE year = 2025 AND month > 1",
      "SELECT month, count(*) AS n FROM t GROUP BY month",
      "SELECT typeof(year) AS ty, typeof(month) AS tm, count(*) AS n FROM t GROUP BY ALL",
      "SELECT a.id, b.id AS other FROM t a JOIN u b ON a.month = b.month AND a.year <> b.year WHERE a.id % 5 = 0",
    ];
    for (const url of [`${root}/pq/`, `${root}/pq/year=2024/month=1/`]) {
      const tables = await resolveTables([{ name: "t", url }, { name: "u", url }]);
      const glob = url.endsWith("month=1/") ? `${url}*.parquet` : `${url}**/*.parquet`;
      for (const sql of pqSqls) {
        for (const join of ["broadcast", "partitioned"] as const) {
          assertSameResult(await viaEngine(sql, tables, { taskBytes: 1 << 20, join }), await alone(sql, { t: `SELECT * FROM read_parquet('${glob}')`, u: `SELECT * FROM read_parquet('${glob}')` }), false, `${url}: ${sql} (${join})`);
        }
      }
    }
    // Headered CSV in directories DuckDB types as DATE, VARCHAR (URL-encoded, NULL, Hive's default partition, '01' which is not read as a number) and BIGINT.
    const csvDirs = ["d=2024-01-02/s=a%20b%2Fc/n=1", "d=2024-01-03/s=NULL/n=2", "d=2024-01-03/s=__HIVE_DEFAULT_PARTITION__/n=3", "d=2024-1-4/s=01/n=-4", "d=2024-01-05/s=/n=5"];
    csvDirs.forEach((dir, f) => {
      mkdirSync(`${root}/csv/${dir}`, { recursive: true });
      writeFileSync(`${root}/csv/${dir}/part.csv`, `id,x\n${[0, 1, 2, 3, 4, 5].map((i) => `${f * 10 + i},${i * f}`).join("\n")}\n`);
    });
    const csv = await resolveTables([{ name: "t", url: `${root}/csv/` }]);
    const described = async (read: string) => (await db.all(`DESCRIBE SELECT * FROM ${read}`)).map((c) => `${String(c.column_name)} ${String(c.column_type)}`);
    assert.deepEqual(csv[0]!.columns.map((c) => `${c.name} ${c.type}`), await described(`read_csv('${root}/csv/**/*.csv')`));
    assert.deepEqual(csv[0]!.columns.slice(2).map((c) => c.type).sort(), ["BIGINT", "DATE", "VARCHAR"]);
    for (const sql of ["SELECT * FROM t", "SELECT d, s, n, s IS NULL AS missing, count(*) AS c, sum(x) AS sx FROM t GROUP BY ALL", "SELECT id FROM t WHERE s = 'a b/c' OR n < 0"]) {
      for (const taskBytes of [16, 1 << 20]) {
        assertSameResult(await viaEngine(sql, csv, { taskBytes }), await alone(sql, { t: `SELECT * FROM read_csv('${root}/csv/**/*.csv')` }), false, `csv: ${sql}, tasks of ${taskBytes} bytes`);
      }
    }
    // NDJSON, and a key whose values are not all dates (VARCHAR for every directory, 2024-1-4 as written).
    for (const [dir, f] of [["k=2024-1-4", 1], ["k=x7", 2]] as const) {
      mkdirSync(`${root}/js/${dir}`, { recursive: true });
      writeFileSync(`${root}/js/${dir}/part.ndjson`, [0, 1, 2].map((i) => JSON.stringify({ id: f * 10 + i, v: i / 2 })).join("\n") + "\n");
    }
    const js = await resolveTables([{ name: "t", url: `${root}/js/` }]);
    assert.deepEqual(js[0]!.columns.map((c) => `${c.name} ${c.type}`), ["id BIGINT", "v DOUBLE", "k VARCHAR"]);
    assert.deepEqual(js[0]!.columns.map((c) => `${c.name} ${c.type}`), await described(`read_json('${root}/js/**/*.ndjson')`));
    for (const sql of ["SELECT * FROM t", "SELECT k, sum(v) AS s FROM t GROUP BY k"]) {
      // Whole objects are read in place: a task's own read_json must not add k itself (a DATE from k=2024-1-4 alone, 2024-01-04 as text).
      for (const taskBytes of [16, 1 << 20]) {
        assertSameResult(await viaEngine(sql, js, { taskBytes }), await alone(sql, { t: `SELECT * FROM read_json('${root}/js/**/*.ndjson')` }), false, `ndjson: ${sql}, tasks of ${taskBytes} bytes`);
      }
    }
    // A key named twice in a path: its first value, as DuckDB reads it.
    for (const dir of ["s=1/x/s=2", "s=3/x/s=4"]) {
      mkdirSync(`${root}/twice/${dir}`, { recursive: true });
      writeFileSync(`${root}/twice/${dir}/a.csv`, "id\n5\n");
    }
    const twice = await resolveTables([{ name: "t", url: `${root}/twice/` }]);
    assertSameResult(await viaEngine("SELECT * FROM t", twice), await alone("SELECT * FROM t", { t: `SELECT * FROM read_csv('${root}/twice/**/*.csv')` }), false, "a key twice in a path");
    // Objects naming different keys, or some none: DuckDB alone reads no hive columns, and Smelter reads them.
    mkdirSync(`${root}-mixed/a=1`, { recursive: true });
    mkdirSync(`${root}-mixed/b`, { recursive: true });
    await db.run(`COPY (SELECT 1 AS id) TO '${root}-mixed/a=1/a.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT 2 AS id) TO '${root}-mixed/b/a.parquet' (FORMAT parquet)`);
    const mixed = await resolveTables([{ name: "t", url: `${root}-mixed/` }]);
    assert.deepEqual(mixed[0]!.columns.map((c) => c.name), ["id"]);
    assertSameResult(await viaEngine("SELECT * FROM t", mixed), await alone("SELECT * FROM t", { t: `SELECT * FROM read_parquet('${root}-mixed/**/*.parquet')` }), false, "mixed directories");
    // hive=false: the objects' own columns, even where a task reads a local file in place (DuckDB would add the keys itself).
    for (const [url, read] of [[`${root}/pq/`, `read_parquet('${root}/pq/**/*.parquet', hive_partitioning = false)`], [`${root}/csv/`, `read_csv('${root}/csv/**/*.csv', hive_partitioning = false)`]] as const) {
      const tables = await resolveTables([{ name: "t", url, options: { hive: false } }]);
      assertSameResult(await viaEngine("SELECT * FROM t", tables, { taskBytes: 1 << 20 }), await alone("SELECT * FROM t", { t: `SELECT * FROM ${read}` }), false, `hive = false: ${url}`);
    }
  });

  test("hive-directories, from a sweep: empty objects count for DuckDB alone's hive columns (an empty file without keys turns them off, one in k=x makes k text); Parquet objects with their columns in another order or an extra column in other directories read by name (sum(x) was 21 for 3); names differing in non-ASCII case are two columns", async () => {
    const root = files("hive-sweep", { "README": "" }).replace(/\/$/, "");
    const same = async (name: string, read: string, sqls: string[], taskBytes = 1 << 20) => {
      const tables = await resolveTables([{ name: "t", url: `${root}/${name}/` }]);
      for (const sql of sqls) assertSameResult(await viaEngine(sql, tables, { taskBytes }), await alone(sql, { t: `SELECT * FROM ${read}` }), false, `${name}: ${sql}`);
      return tables[0]!;
    };
    const write = (path: string, text: string) => {
      mkdirSync(`${root}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
      writeFileSync(`${root}/${path}`, text);
    };
    write("a1/year=2024/a.csv", "id,v\n1,2\n3,4\n");
    write("a1/year=2025/a.csv", "id,v\n5,6\n");
    write("a1/z.csv", "");
    const a1 = await same("a1", `read_csv('${root}/a1/**/*.csv')`, ["SELECT * FROM t"]);
    assert.deepEqual(a1.columns.map((c) => c.name), ["id", "v"]);
    write("a2/k=9/a.csv", "id\n1\n");
    write("a2/k=10/a.csv", "id\n2\n");
    write("a2/k=x/b.csv", "");
    const a2 = await same("a2", `read_csv('${root}/a2/**/*.csv')`, ["SELECT k, typeof(k) AS ty FROM t", "SELECT * FROM t WHERE k = '10'"]);
    assert.deepEqual(a2.columns.map((c) => `${c.name} ${c.type}`), ["id BIGINT", "k VARCHAR"]);
    for (const d of ["b1/year=2024", "b1/year=2025", "b2/year=2024", "b2/year=2025"]) mkdirSync(`${root}/${d}`, { recursive: true });
    await db.run(`COPY (SELECT 1 AS x, 10 AS y) TO '${root}/b1/year=2024/a.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT 20 AS y, 2 AS x) TO '${root}/b1/year=2025/b.parquet' (FORMAT parquet)`);
    await same("b1", `read_parquet('${root}/b1/**/*.parquet')`, ["SELECT sum(x) AS sx, sum(y) AS sy FROM t", "SELECT x, y, year FROM t", "SELECT * FROM t", "SELECT year, count(*) AS n FROM t GROUP BY year"]);
    await db.run(`COPY (SELECT 1 AS id, 1.5 AS v) TO '${root}/b2/year=2024/a.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT 2 AS id, 'w' AS w, 2.5 AS v, 1999 AS year) TO '${root}/b2/year=2025/b.parquet' (FORMAT parquet)`);
    await same("b2", `read_parquet('${root}/b2/**/*.parquet')`, ["SELECT id, v, year FROM t", "SELECT * FROM t"]);
    write("c1/ké=1/a.csv", "KÉ,id\nq,1\n");
    const c1 = await same("c1", `read_csv('${root}/c1/**/*.csv')`, ["SELECT * FROM t"]);
    assert.deepEqual(c1.columns.map((c) => c.name), ["KÉ", "id", "ké"]);
  });

  test("hive-pruning: WHERE conjuncts on a table's partition columns read only the objects whose directories pass them, as DuckDB alone skips files (alone, or joined but not on an outer join's null side, in the query or in a CTE or subquery of its own); equal to DuckDB alone; volatile calls not pruned, nor a filter outside the subquery reading the table; a CTE named like a table is not it; none kept still one row for count(*)", async () => {
    const root = files("hive-prune", { "README": "" }).replace(/\/$/, "");
    for (const y of [2023, 2024, 2025]) {
      for (const m of [1, 2, 3, 4]) {
        mkdirSync(`${root}/t/year=${y}/month=${m}`, { recursive: true });
        await db.run(`COPY (SELECT ${y * 100 + m} * 10 + i AS id, i * 0.5 AS v, 'c' || (i % 3) AS c FROM range(9) r(i)) TO '${root}/t/year=${y}/month=${m}/a.parquet' (FORMAT parquet)`);
      }
    }
    const tables = await resolveTables([{ name: "t", url: `${root}/t/` }, { name: "u", url: `${root}/t/` }]);
    const views = { t: `SELECT * FROM read_parquet('${root}/t/**/*.parquet')`, u: `SELECT * FROM read_parquet('${root}/t/**/*.parquet')` };
    const listings = new Map(await Promise.all(tables.map(async (t) => [t.name, await listInput((await openStore(t.url)).store, "", {})] as const)));
    const cases: [string, number, number?][] = [
      ["SELECT * FROM t WHERE year = 2024", 4],
      ["SELECT id, month FROM t AS x WHERE x.year = 2024 AND month IN (1, 3) AND v > 1", 2],
      ["SELECT month, count(*) AS n, sum(v) AS s FROM t WHERE year >= 2024 AND month % 2 = 0 GROUP BY month", 4],
      ["SELECT count(*) AS n, sum(v) AS s FROM t WHERE year BETWEEN 2023 AND 2024 AND CASE WHEN month > 2 THEN true ELSE false END", 4],
      ["SELECT c, count(*) AS n FROM t WHERE year = 2025 OR month = 1 GROUP BY c", 6],
      ["SELECT count(*) AS n, sum(v) AS s FROM t WHERE year = 1999", 1],
      ["SELECT count(*) AS n FROM t WHERE year = 2024 AND random() < 2", 4],
      ["SELECT count(*) AS n FROM t WHERE year = 2024 OR v > 3", 12],
      ["SELECT count(*) AS n FROM t WHERE year + random() > 2024.5", 12],
      ["SELECT id AS year FROM t WHERE year = 2024", 12],
      ["SELECT count(*) AS n FROM t JOIN u ON t.id = u.id WHERE t.year = 2024", 4, 12],
      ["SELECT t.month, count(*) AS n FROM t JOIN u ON t.id % 7 = u.id % 7 WHERE t.year = 2024 AND u.month = 1 GROUP BY t.month", 4, 3],
      ["SELECT count(*) AS n, count(u.id) AS m FROM t LEFT JOIN u ON t.id = u.id AND u.month = 1 WHERE u.year IS NULL", 12, 12],
      ["SELECT count(*) AS n, count(u.id) AS m FROM t LEFT JOIN u ON t.id = u.id + 1 WHERE t.year = 2024 AND (u.year = 2024 OR u.year IS NULL)", 4, 12],
      ["SELECT count(*) AS n, count(t.id) AS m FROM t RIGHT JOIN u ON t.id = u.id WHERE u.year = 2025", 12, 4],
      ["SELECT count(*) AS n FROM t FULL JOIN u ON t.id = u.id WHERE t.year = 2024", 12, 12],
      ["SELECT count(*) AS n FROM (SELECT * FROM t) AS s WHERE year = 2024", 12],
      ["WITH s AS (SELECT * FROM t) SELECT count(*) AS n FROM s WHERE year = 2024", 12],
      ["SELECT count(*) AS n FROM (SELECT * FROM t WHERE year = 2024) AS s", 4],
      ["WITH s AS (SELECT id, year FROM t WHERE year = 2025 AND month < 3) SELECT year, count(*) AS n FROM s GROUP BY year", 2],
      ["SELECT count(*) AS n, count(x.id) AS m FROM t LEFT JOIN (SELECT * FROM u WHERE u.year = 2023) AS x ON t.id = x.id", 12, 4],
      ["WITH t AS (SELECT * FROM u WHERE month = 1) SELECT count(*) AS n FROM t WHERE year = 2024", 12, 3],
    ];
    for (const [sql, objects, uObjects] of cases) {
      const plan = await planQuery(sql, tables, { workers: 2, partitions: 3 }, session);
      const prepared = await prepareQuery(plan, listings, { workers: 2, taskBytes: 1 << 20 });
      assert.equal(prepared.listings.get("t")!.objects, objects, `${sql}: objects of t read (${prepared.pruned?.join("; ") ?? "not pruned"})`);
      if (uObjects !== undefined) assert.equal(prepared.listings.get("u")!.objects, uObjects, `${sql}: objects of u read (${prepared.pruned?.join("; ") ?? "not pruned"})`);
      if (objects < 12) assert.match(prepared.pruned?.[0] ?? "", /^table t: the WHERE's filter on its partition columns keeps \d+ of 12 directories/, sql);
      if (/random/.test(sql)) continue;
      assertSameResult(await viaEngine(sql, tables, { taskBytes: 1 << 20 }), await alone(sql, views), false, sql);
    }
  });

  test("table-column-aliases: FROM t AS x(a, ...) renames t's first columns by position, which tasks reading columns by name do not follow (over Parquet, sum(x.v) of t AS x(v) summed the column named v, DuckDB alone the first column; pruning took x.year for the key): refused, named, --allow-single-task included; a subquery's alias list is answered", async () => {
    const url = files("col-alias", { "README": "" });
    await db.run(`COPY (SELECT i AS id, i * 10 AS v FROM range(4) r(i)) TO '${url}a.parquet' (FORMAT parquet)`);
    const tables = await resolveTables([{ name: "t", url: `${url}*.parquet` }]);
    for (const sql of ["SELECT sum(x.v) AS s FROM t AS x(v)", "SELECT count(*) FROM t AS x(a, b) JOIN t AS y ON x.a = y.id"]) {
      for (const allowSingleTask of [false, true]) {
        await assert.rejects(planQuery(sql, tables, { workers: 2, allowSingleTask }, session), /a column alias list on table t \(x\((v|a, b)\)\) renames its columns by position.*alias the columns in the select list, or in a subquery/, sql);
      }
    }
    const sql = "SELECT sum(x) AS sx, sum(y) AS sy FROM (SELECT v, id FROM t) AS s(x, y)";
    assertSameResult(await viaEngine(sql, tables), await alone(sql, { t: `SELECT * FROM read_parquet('${url}*.parquet')` }), false, sql);
  });

  test("hive-directories: what Smelter does not read as DuckDB alone does is refused, named: a key that is also a column of the files, a value DuckDB cannot decode", async () => {
    const root = files("hive-refused", { "README": "" }).replace(/\/$/, "");
    mkdirSync(`${root}/clash/x=7`, { recursive: true });
    await db.run(`COPY (SELECT 1 AS x, 'q' AS y) TO '${root}/clash/x=7/a.parquet' (FORMAT parquet)`);
    await assert.rejects(resolveTables([{ name: "t", url: `${root}/clash/` }]), /table t: its objects have a column x and are also in x=\.\.\. directories.*--table-option t\.hive=false/);
    const ok = await resolveTables([{ name: "t", url: `${root}/clash/`, options: { hive: false } }]);
    assert.deepEqual(ok[0]!.columns.map((c) => c.name), ["x", "y"]);
    mkdirSync(`${root}/bad/s=%FF`, { recursive: true });
    writeFileSync(`${root}/bad/s=%FF/a.csv`, "id\n1\n");
    await assert.rejects(resolveTables([{ name: "t", url: `${root}/bad/` }]), /table t: DuckDB cannot read its objects' hive partition directories \([^\n]*URL decoding[^\n]*\): pass --table-option t\.hive=false/);
    await assert.rejects(resolveTables([{ name: "t", url: `${root}/bad/` }]), (err: Error) => !/LINE 1|smelter-hive-|read_csv/.test(err.message));
    // A directory name no local file system takes (S3 keys may hold one): its placeholder cannot be written.
    const long = memoryStore("hive-long");
    await long.put(`t/k=${"x".repeat(300)}/a.csv`, new TextEncoder().encode("id\n1\n"));
    await assert.rejects(resolveTables([{ name: "t", url: "memory://hive-long/t/" }]), /table t: cannot write the local placeholder that tells its hive partition columns for hive-long\/t\/k=x+\/ under .* \(ENAMETOOLONG\): .*--table-option t\.hive=false/);
  });

  test("parquet-missing-column: an object without a column the query reads is refused naming the object (was: no column c in this Parquet file, which file not said)", async () => {
    const url = files("pq-missing", { "README": "" });
    await db.run(`COPY (SELECT 1 AS a, 'x' AS b, 3 AS c) TO '${url}f1.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT 2 AS a, 'y' AS b) TO '${url}f2.parquet' (FORMAT parquet)`);
    const tables = await resolveTables([{ name: "t", url: `${url}*.parquet` }]);
    await assert.rejects(viaEngine("SELECT c FROM t", tables), /f2\.parquet: no column "c" in this Parquet file; it has a, b/);
  });

  test("join-using-star: SELECT * over a join USING (k) lists k once, where DuckDB does (was refused), and a partitioned join's sides carry k when nothing else names it (was an internal planner error)", async () => {
    const l = files("ju-l", { "a.csv": "lid,k,x\n1,10,a\n2,,b\n", "b.csv": "lid,k,x\n3,30,c\n4,10,d\n" });
    const r = files("ju-r", { "a.csv": "k,rid,y\n10,100,p\n40,400,q\n", "b.csv": "k,rid,y\n,500,r\n30,600,s\n" });
    const schemas = { l: [{ name: "lid", type: "BIGINT" }, { name: "k", type: "INTEGER" }, { name: "x", type: "VARCHAR" }], r: [{ name: "k", type: "BIGINT" }, { name: "rid", type: "BIGINT" }, { name: "y", type: "VARCHAR" }] };
    const tables = await resolveTables([{ name: "l", url: l, columns: schemas.l }, { name: "r", url: r, columns: schemas.r }]);
    const views = { l: `SELECT * FROM read_csv('${l}*.csv', columns = ${struct(schemas.l)})`, r: `SELECT * FROM read_csv('${r}*.csv', columns = ${struct(schemas.r)})` };
    const cases: [string, ("partitioned" | "broadcast")[]][] = [
      ["SELECT * FROM l JOIN r USING (k)", ["partitioned", "broadcast"]],
      ["SELECT * FROM l FULL JOIN r USING (k)", ["partitioned"]],
      ["SELECT * FROM l RIGHT JOIN r USING (k)", ["partitioned", "broadcast"]],
      ["SELECT * EXCLUDE (k) FROM l LEFT JOIN r USING (k)", ["partitioned"]],
      ["SELECT r.*, l.* FROM l JOIN r USING (k)", ["partitioned", "broadcast"]],
      ["SELECT l.lid, y FROM l LEFT JOIN r USING (k)", ["partitioned"]],
    ];
    for (const [sql, joins] of cases) {
      const want = await alone(sql, views);
      assert.ok(want.rows.length >= 2, sql);
      for (const join of joins) assertSameResult(await viaEngine(sql, tables, { join }), want, false, `${sql} (${join})`);
    }
  });

  test("parquet-zero-rows: a table of only zero-row Parquet objects is 0 rows (was refused as 'no objects'), and one among others changes nothing, equal to DuckDB alone", async () => {
    const root = files("pq-zero", { README: "" }).replace(/\/$/, "");
    const [only, mixed] = [`${root}/only/`, `${root}/mixed/`];
    mkdirSync(only);
    mkdirSync(mixed);
    const none = "SELECT i::BIGINT AS a, 'v' || i AS s, [i] AS l FROM range(0) t(i)";
    for (const f of ["a", "b"]) await db.run(`COPY (${none}) TO '${only}${f}.parquet' (FORMAT parquet)`);
    await db.run(`COPY (${none}) TO '${mixed}a.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT i::BIGINT AS a, 'v' || i AS s, [i] AS l FROM range(50) t(i)) TO '${mixed}b.parquet' (FORMAT parquet, ROW_GROUP_SIZE 10)`);
    await db.run(`COPY (${none}) TO '${mixed}c.parquet' (FORMAT parquet)`);
    for (const url of [only, mixed]) {
      const tables = await resolveTables([{ name: "t", url }]);
      assert.deepEqual(tables[0]!.columns.map((c) => `${c.name} ${c.type}`), ["a BIGINT", "s VARCHAR", "l BIGINT[]"]);
      const views = { t: `SELECT * FROM read_parquet('${url}*.parquet')` };
      for (const sql of ["SELECT count(*) AS n, sum(a) AS s, max(s) AS m FROM t", "SELECT a % 3 AS g, count(*) AS n, sum(len(l)) AS ll FROM t GROUP BY 1", "SELECT a, s FROM t WHERE a > 40"]) {
        assertSameResult(await viaEngine(sql, tables, { taskBytes: 1 << 20 }), await alone(sql, views), false, `${url}: ${sql}`);
      }
    }
  });

  test("parquet-nested-and-case: LIST, STRUCT and MAP columns read through their leaves' chunks (also under a SELECT * in a subquery, which reads every column: it asked for the schema's inner 'list' and 'element'), and objects naming columns in another case, equal DuckDB alone", async () => {
    // Was: 'no column "lst" in this Parquet file; it has id, lst.list.element, ...', and 'no column "id", "val"' for objects headed VAL, ID.
    const nested = files("pq-nested", { "README": "" }).replace(/\/$/, "");
    const url = `${nested}/data/`;
    await db.run(`CREATE OR REPLACE TEMP TABLE __n AS SELECT i AS id, [i, i + 1] AS lst, {'a': i, 'b': 'x' || i} AS st, MAP {'k': i} AS mp FROM range(40) t(i)`);
    mkdirSync(`${nested}/data`);
    await db.run(`COPY (SELECT * FROM __n WHERE id < 20) TO '${url}a.parquet' (FORMAT parquet, ROW_GROUP_SIZE 8)`);
    await db.run(`COPY (SELECT * FROM __n WHERE id >= 20) TO '${url}b.parquet' (FORMAT parquet)`);
    const tables = await resolveTables([{ name: "t", url }]);
    const views = { t: `SELECT * FROM read_parquet('${url}*.parquet')` };
    for (const sql of ["SELECT id % 3 AS g, sum(st.a) AS sa, count(mp) AS cm, sum(lst[2]) AS s2, max(st.b) AS mb FROM t GROUP BY 1", "SELECT id, lst, st, mp FROM t WHERE id % 7 = 0", "WITH x AS (SELECT * FROM t) SELECT id, lst, mp FROM x WHERE id % 5 = 0"]) {
      const want = await alone(sql, views);
      assert.ok(want.rows.length > 0);
      assertSameResult(await viaEngine(sql, tables, { taskBytes: 1 << 20 }), want, false, sql);
    }
    const cased = `${nested}/cased/`;
    mkdirSync(cased);
    await db.run(`COPY (SELECT i AS id, 2 * i AS val FROM range(100) t(i)) TO '${cased}a.parquet' (FORMAT parquet)`);
    await db.run(`COPY (SELECT 2 * i AS VAL, i AS ID FROM range(100, 200) t(i)) TO '${cased}b.parquet' (FORMAT parquet)`);
    const casedTables = await resolveTables([{ name: "t", url: cased }]);
    const sql = "SELECT id % 4 AS g, count(*) AS n, sum(id) AS si, sum(val) AS sv FROM t GROUP BY 1";
    assertSameResult(await viaEngine(sql, casedTables, { taskBytes: 1 << 20 }), await alone(sql, { t: `SELECT * FROM read_parquet('${cased}*.parquet')` }), false, "names in another case");
  });

  test("feff-record-start: a record starting with U+FEFF mid-object keeps it wherever a range cuts (sql and the functions API); only an object's own BOM is dropped", async () => {
    // Every 3rd record starts with U+FEFF; the headered object has one right after its header, the headerless one its own BOM first.
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 3 === 0 ? "\uFEFF" : ""}k${i % 4},${i},${i * 7},2001-01-0${1 + (i % 9)}`);
    const url = files("feff", { "a.csv": `k,g,x,d\n${rows.join("\n")}\n`, "b.csv": `\uFEFF${rows.join("\n")}\n` });
    const sql = "SELECT replace(k, chr(65279), '<feff>') AS k, count(*) AS n, sum(g) AS s FROM t GROUP BY 1";
    const both = { a: csvFile(`${url}a.csv`, T_SCHEMA, T_SCHEMA, { header: true }), b: csvFile(`${url}b.csv`, T_SCHEMA, T_SCHEMA, { header: false }) };
    for (const [f, view] of Object.entries(both)) {
      const want = await alone(sql, { t: view });
      assert.ok(want.rows.some((r) => String(r[0]).startsWith("<feff>")) && want.rows.some((r) => !String(r[0]).startsWith("<feff>")), "DuckDB alone keeps U+FEFF inside the object");
      const tables = await resolveTables([{ name: "t", url: `${url}${f}.csv`, columns: T_SCHEMA, options: { header: f === "a" } }]);
      for (const taskBytes of [40, 97, 1 << 20]) assertSameResult(await viaEngine(sql, tables, { taskBytes }), want, false, `${f}.csv, ranges of ${taskBytes} bytes`);
    }
    // The functions API's records, split into ranges of every size: each record as reading the object whole gives it.
    const { store, key } = await openStore(`${url}a.csv`);
    const format = recordFormatSchema.parse({ csv: { header: true } });
    const read = async (targetSplitBytes: number) => {
      const got: string[] = [];
      for (const split of await listSplits(store, key, { targetSplitBytes })) for await (const r of readRecords(store, split, { format, badRecords: "fail" })) got.push((r as { k: string }).k);
      return got;
    };
    const whole = await read(1 << 20);
    assert.equal(whole.filter((k) => k.startsWith("\uFEFF")).length, 20);
    for (const size of [16, 33, 50, 101]) assert.deepEqual(await read(size), whole, `ranges of ${size} bytes`);
    const lines = recordFormatSchema.parse("lines");
    const { store: bs, key: bk } = await openStore(`${url}b.csv`);
    const readLines = async (targetSplitBytes: number) => {
      const got: unknown[] = [];
      for (const split of await listSplits(bs, bk, { targetSplitBytes })) for await (const r of readRecords(bs, split, { format: lines, badRecords: "fail" })) got.push(r);
      return got;
    };
    const wholeLines = await readLines(1 << 20);
    assert.deepEqual(wholeLines, rows, "the object's own BOM dropped, every other U+FEFF kept");
    for (const size of [16, 33, 50]) assert.deepEqual(await readLines(size), wholeLines, `lines in ranges of ${size} bytes`);
  });

  test("empty-gzip-header: a gzip of nothing in a headered table is no rows, in sql and in the functions API", async () => {
    const url = files("empty-gzip", { "a.csv": "k,g\nx,1\ny,2\n", "b.csv.gz": gzipSync(""), "c.csv.gz": gzipSync("g,k\n3,x\n") });
    const sql = "SELECT k, sum(g) AS s, count(*) AS n FROM t GROUP BY k";
    const want = await alone(sql, { t: `SELECT k, g FROM read_csv(['${url}a.csv', '${url}c.csv.gz'], union_by_name = true)` });
    assertSameResult(await viaEngine(sql, await resolveTables([{ name: "t", url }])), want, false, "sql");
    const { store, key } = await openStore(url);
    const records: unknown[] = [];
    for (const split of await listSplits(store, key, { targetSplitBytes: 1024 })) {
      for await (const r of readRecords(store, split, { format: recordFormatSchema.parse({ csv: { header: true } }), badRecords: "fail" })) records.push(r);
    }
    assert.deepEqual(records.map((r) => JSON.stringify(r)).sort(), ['{"g":"3","k":"x"}', '{"k":"x","g":"1"}', '{"k":"y","g":"2"}']);
  });
});
