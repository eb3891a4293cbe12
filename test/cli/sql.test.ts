/**
 * `smelter sql` as a user runs it: JSON keys and exact types (HUGEINT, DECIMAL, dates, timestamps),
 * CSV, --output FILE.duckdb, --output s3://... (.csv from the tasks or the coordinator, .parquet)
 * on the embedded S3 server read back and compared with DuckDB alone, a bad query, refused
 * constructs, --allow-single-task.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openDuckDb } from "../../src/duckdb/index.js";
import { sqlString } from "../../src/duckdb/sql.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { assertSameResult, csvHeaderOf, readFileLike, readTable } from "../helpers/local-plan.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
let env: NodeJS.ProcessEnv = process.env;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, "sql", ...args, "--backend", "threads", "--workers", "2"], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20, env });

/** Table h: BIGINT near 4e18 (sums beyond 2^63), DECIMAL(18,3) (one group's sum beyond 15 digits), DATE, TIMESTAMP. */
const H_SCHEMA = "k VARCHAR, big BIGINT, amount DECIMAL(18,3), d DATE, ts TIMESTAMP";
const H_COLUMNS = "{'k': 'VARCHAR', 'big': 'BIGINT', 'amount': 'DECIMAL(18,3)', 'd': 'DATE', 'ts': 'TIMESTAMP'}";

describe("smelter sql", () => {
  let dir: string;
  let table: string;
  let hTable: string;
  let server: S3Server;
  let bucket: ObjectStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-sql-cli-"));
    mkdirSync(join(dir, "t"));
    mkdirSync(join(dir, "h"));
    for (let f = 0; f < 3; f++) {
      const rows = [0, 1, 2, 3].map((i) => `k${i % 2},${9007199254740993n + BigInt(f * 4 + i)},${i + f},2021-03-0${i + 1},${i === 3 ? "" : (i + f) * 1.5}`);
      writeFileSync(join(dir, "t", `part-${f}.csv`), `k,big,small,d,x\n${rows.join("\n")}\n`);
      const h = [0, 1, 2, 3].map((i) => `h${i % 2},${4000000000000000000n + BigInt(f * 1000 + i)},${i % 2 ? `${f}.25` : `${987654321012 + f}.${i}07`},2020-02-2${7 + (i % 3)},2020-02-29 0${f}:1${i}:59`);
      writeFileSync(join(dir, "h", `part-${f}.csv`), `k,big,amount,d,ts\n${h.join("\n")}\n`);
    }
    table = `t=${join(dir, "t")}/`;
    hTable = `h=${join(dir, "h")}/`;
    server = await startS3Server({ buckets: ["sql"] });
    env = { ...process.env, ...server.env };
    bucket = s3Store({ bucket: "sql", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    for (let f = 0; f < 3; f++) await bucket.put(`tables/t/part-${f}.csv`, readFileSync(join(dir, "t", `part-${f}.csv`)));
  });
  after(async () => {
    await server?.stop();
  });

  /** The object at `key` read back as DuckDB alone's result of `sql` over the local files of t (names and types), that result, and both CSV headers. */
  async function objectVersusDuckDb(key: string, sql: string) {
    const file = join(dir, key.replace(/\//g, "_"));
    writeFileSync(file, await bucket.get(key));
    const db = await openDuckDb({ threads: 1 });
    try {
      await db.run(`CREATE VIEW t AS SELECT * FROM read_csv(${sqlString(`${dir}/t/*.csv`)}, header = true, columns = {'k': 'VARCHAR', 'big': 'BIGINT', 'small': 'INTEGER', 'd': 'DATE', 'x': 'DOUBLE'})`);
      await db.run(`CREATE TABLE want AS ${sql}`);
      return { got: await readFileLike(db, file, "want"), want: await readTable(db, "want"), header: readFileSync(file, "utf8").split("\n")[0]!, wantHeader: await csvHeaderOf(db, "want", dir) };
    } finally {
      db.close();
    }
  }

  test("a table that fails to resolve while others are sniffed: the error and exit 1, every run (the catalog's DuckDB was closed under the others: a segfault or a hang in ~2 runs of 10)", () => {
    const root = join(dir, "catalog-race");
    mkdirSync(join(root, "bad"), { recursive: true });
    writeFileSync(join(root, "bad", "a.csv"), "1,2,x\n3,4,y\n");
    const tables = ["--table", `bad=${join(root, "bad")}/`];
    for (let k = 0; k < 20; k++) {
      mkdirSync(join(root, `g${k}`));
      const body = `id,v,s\n${Array.from({ length: 50 }, (_, i) => `${i},${i * k},s${i}`).join("\n")}\n`;
      for (const f of ["a.csv", "b.csv"]) writeFileSync(join(root, `g${k}`, f), body);
      tables.push("--table", `g${k}=${join(root, `g${k}`)}/`);
    }
    for (let round = 0; round < 8; round++) {
      const r = spawnSync(process.execPath, [bin, "sql", "SELECT count(*) FROM g1", ...tables, "--quiet"], { encoding: "utf8", timeout: 30_000, env });
      assert.equal(r.status, 1, `round ${round}: exit ${r.status} (signal ${r.signal}), stderr ${r.stderr.slice(0, 300)}`);
      assert.match(r.stderr, /table bad's CSV at .* has no header line/, `round ${round}`);
    }
  });

  test("a table in hive-style directories on S3 (Parquet read through sparse copies, headered CSV through ranges): the keys as columns, equal to DuckDB alone over the same files", async () => {
    const local = join(dir, "hive");
    const db = await openDuckDb({ threads: 1 });
    try {
      for (const [d, id] of [["year=2024/month=1", 1], ["year=2024/month=2", 2], ["year=2025/month=1", 3]] as const) {
        mkdirSync(join(local, "pq", d), { recursive: true });
        mkdirSync(join(local, "csv", d), { recursive: true });
        await db.run(`COPY (SELECT ${id} * 100 + i AS id, i * 0.5 AS v FROM range(50) r(i)) TO ${sqlString(join(local, "pq", d, "a.parquet"))} (FORMAT parquet)`);
        await db.run(`COPY (SELECT ${id} * 100 + i AS id, 'c' || (i % 4) AS c FROM range(50) r(i)) TO ${sqlString(join(local, "csv", d, "a.csv"))} (FORMAT csv, HEADER true)`);
        for (const f of ["pq/" + d + "/a.parquet", "csv/" + d + "/a.csv"]) await bucket.put(`hive/${f}`, readFileSync(join(local, f)));
      }
      const sql = "SELECT p.year, p.month, c.c, count(*) AS n, sum(p.v) AS s FROM p JOIN c ON p.id = c.id AND p.month = c.month GROUP BY ALL ORDER BY ALL";
      const r = run(sql, "--table", "p=s3://sql/hive/pq/", "--table", "c=s3://sql/hive/csv/", "--task-bytes", "1024", "--format", "csv", "--quiet");
      assert.equal(r.status, 0, r.stderr);
      const file = join(local, "got.csv");
      writeFileSync(file, r.stdout);
      await db.run(`CREATE VIEW p AS SELECT * FROM read_parquet(${sqlString(`${local}/pq/**/*.parquet`)})`);
      await db.run(`CREATE VIEW c AS SELECT * FROM read_csv(${sqlString(`${local}/csv/**/*.csv`)})`);
      await db.run(`CREATE TABLE want AS ${sql}`);
      const want = await readTable(db, "want");
      assert.equal(want.rows.length, 12);
      assertSameResult(await readFileLike(db, file, "want"), want, true, "hive tables on S3");
    } finally {
      db.close();
    }
  });

  test("UHUGEINT beyond 2^127: --format json writes it as a string (was DuckDB's cast error on Smelter's own SQL); --output .parquet refuses it in Smelter's words (DECIMAL(38,0) cannot hold it)", () => {
    const sql = "SELECT small::UHUGEINT + 340282366920938463463374607431768211000 AS uh, small::UBIGINT AS ub FROM t WHERE small = 1";
    const json = run(sql, "--table", table, "--format", "json", "--quiet");
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [{ uh: "340282366920938463463374607431768211001", ub: 1 }, { uh: "340282366920938463463374607431768211001", ub: 1 }]);
    const pq = run(sql, "--table", table, "--output", join(dir, "uh.parquet"), "--overwrite", "--quiet");
    assert.equal(pq.status, 1);
    assert.match(pq.stderr, /the result's column uh holds a value of more than 38 digits, which Parquet .* cannot hold: write the output as \.csv, or cast it to DOUBLE or VARCHAR/);
    assert.doesNotMatch(pq.stderr, /LINE 1|COPY \(/);
  });

  test("--format json: only a JSON array of rows keyed by the result's names; big integers as strings, dates as ISO", () => {
    const r = run("SELECT k, max(big) AS top, sum(small) AS total, min(d) AS first, avg(x), count(*) FROM t GROUP BY k ORDER BY k", "--table", table, "--format", "json", "--partitions", "2");
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(rows.map((x) => Object.keys(x)), [0, 1].map(() => ["k", "top", "total", "first", "avg(x)", "count_star()"]));
    assert.deepEqual(rows[0], { k: "k0", top: "9007199254741003", total: 12, first: "2021-03-01", "avg(x)": rows[0]!["avg(x)"], "count_star()": 6 });
    assert.equal(rows[1]!.top, "9007199254741004");
    assert.ok(Math.abs((rows[0]!["avg(x)"] as number) - 3) < 1e-9, "avg(x) of k0 is 18 / 6");
    assert.match(r.stderr, /final aggregate .* done/, "progress and stats on stderr");
  });

  test("--format csv has a header; --output FILE.duckdb holds result and attempts", async () => {
    const file = join(dir, "out.duckdb");
    const r = run("SELECT k, count(*) AS n FROM t GROUP BY k", "--table", table, "--format", "csv", "--output", file, "--quiet", "--partitions", "2");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["k,n", "k0,6", "k1,6"].sort());
    assert.equal(r.stderr, "");
    const db = await openDuckDb({ path: file });
    try {
      assert.equal(Number(await db.value("SELECT count(*) FROM result")), 2);
      assert.ok(Number(await db.value("SELECT count(*) FROM attempts WHERE status = 'succeeded'")) >= 2);
    } finally {
      db.close();
    }
  });

  test("--format json: HUGEINT sums beyond 2^63 and long DECIMALs as strings, short DECIMALs as numbers, dates and timestamps as ISO strings; repeated names renamed", async () => {
    const sql = "SELECT k, sum(big) AS total, sum(amount) AS money, avg(amount) AS mean, min(d) AS first, max(ts) AS last, count(*), count(*) FROM h GROUP BY k ORDER BY k";
    const r = run(sql, "--table", hTable, "--schema", `h=${H_SCHEMA}`, "--format", "json", "--partitions", "2", "--quiet");
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const db = await openDuckDb({ threads: 1 });
    try {
      const want = await db.all<Record<string, string | number>>(
        `SELECT k, sum(big)::VARCHAR AS total, sum(amount)::VARCHAR AS money, avg(amount) AS mean, min(d)::VARCHAR AS first, max(ts)::VARCHAR AS last, count(*)::INTEGER AS n FROM read_csv(${sqlString(`${dir}/h/*.csv`)}, header = true, columns = ${H_COLUMNS}) GROUP BY k ORDER BY k`,
      );
      assert.equal(rows.length, 2);
      for (const [i, w] of want.entries()) {
        const g = rows[i]!;
        assert.deepEqual(Object.keys(g), ["k", "total", "money", "mean", "first", "last", "count_star()", "count_star()_1"]);
        assert.equal(g.total, w.total, "a sum beyond 2^63 as an exact string");
        assert.ok(BigInt(w.total!) > 2n ** 63n);
        assert.equal(typeof g.money, String(w.money).replace(/[-.]/g, "").length > 15 ? "string" : "number", `${String(w.money)}: a string beyond 15 digits`);
        assert.equal(g.money, typeof g.money === "string" ? w.money : Number(w.money), "the DECIMAL sum, exact");
        assert.ok(Math.abs((g.mean as number) - (w.mean as number)) <= 1e-9 * Math.abs(w.mean as number), "AVG of a DECIMAL is a DOUBLE");
        assert.equal(g.first, w.first);
        assert.equal(g.last, String(w.last).replace(" ", "T"));
        assert.equal(g["count_star()"], w.n);
        assert.equal(g["count_star()_1"], w.n);
      }
      assert.deepEqual(rows.map((x) => typeof x.money).sort(), ["number", "string"], "one short and one long DECIMAL sum");
    } finally {
      db.close();
    }
  });

  test("--output s3://bucket/key.csv: ONE object, each task of the final stage uploading its partition; equal to DuckDB alone", async () => {
    const sql = "SELECT k, count(*), count(*), sum(big) AS total, min(d) AS first, avg(x) AS mean FROM t GROUP BY k";
    const r = run(sql, "--table", "t=s3://sql/tables/t/", "--partitions", "3", "--output", "s3://sql/results/by-k.csv");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote s3:\/\/sql\/results\/by-k\.csv \([\d,]+ bytes, 1 part; 3 partitions uploaded by the tasks of stage 2\)/);
    const { got, want, header, wantHeader } = await objectVersusDuckDb("results/by-k.csv", sql);
    assert.equal(header, wantHeader, "the header is DuckDB's (count_star(), count_star()_1)");
    assertSameResult(got, want, false, "csv object");
    const keys: string[] = [];
    for await (const o of bucket.list("results/")) keys.push(o.key);
    assert.deepEqual(keys, ["results/by-k.csv"], "no staging objects left");
  });

  test("--output s3://...csv with ORDER BY + LIMIT, and .parquet: the coordinator uploads the sorted result; Parquet keeps HUGEINT sums exactly", async () => {
    const top = "SELECT k, small, big, d FROM t WHERE x IS NOT NULL ORDER BY big DESC LIMIT 5";
    const a = run(top, "--table", "t=s3://sql/tables/t/", "--output", "s3://sql/results/top.csv");
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /wrote s3:\/\/sql\/results\/top\.csv .*uploaded by the coordinator/);
    const csv = await objectVersusDuckDb("results/top.csv", top);
    assert.equal(csv.header, csv.wantHeader);
    assertSameResult(csv.got, csv.want, true, "sorted csv object");
    const sums = "SELECT k, sum(big) AS total, sum(big) * 1000 AS huge, max(d) AS last FROM t GROUP BY k";
    const b = run(sums, "--table", table, "--output", "s3://sql/results/sums.parquet", "--quiet");
    assert.equal(b.status, 0, b.stderr);
    const pq = await objectVersusDuckDb("results/sums.parquet", sums);
    assertSameResult(pq.got, pq.want, false, "parquet object");
    assert.ok(pq.want.rows.some((row) => BigInt(String(row[2])) > 2n ** 63n), "a HUGEINT beyond 2^63 went through Parquet");
  });

  test("--format json: a double's NaN and infinities as strings, so the output is JSON, also inside lists, structs and maps", () => {
    const nested = "[CAST('nan' AS DOUBLE), max(x), CAST('-inf' AS DOUBLE), -2.5] AS l, {'f': CAST('inf' AS DOUBLE), 's': 'NaN -Infinity \"x\\'} AS st, MAP {'m': CAST('-inf' AS FLOAT)} AS mp";
    const r = run(`SELECT k, CAST('nan' AS DOUBLE) AS n, CAST('-inf' AS DOUBLE) AS ni, CAST('inf' AS DOUBLE) AS pi, max(x) AS mx, ${nested} FROM t GROUP BY k ORDER BY k`, "--table", table, "--format", "json");
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(rows.map((x) => [x.n, x.ni, x.pi]), [["nan", "-inf", "inf"], ["nan", "-inf", "inf"]]);
    assert.ok(rows.every((x) => typeof x.mx === "number"), "finite doubles stay numbers");
    // Was: bare NaN, Infinity and -Infinity inside the list, struct and map (DuckDB's writer), which JSON.parse refused.
    assert.deepEqual(rows.map((x) => [x.l, x.st, x.mp]), rows.map((x) => [["nan", x.mx, "-inf", -2.5], { f: "inf", s: 'NaN -Infinity "x\\' }, { m: "-inf" }]));
  });

  test("--output: anything but FILE.duckdb, .csv or .parquet is refused before anything runs", () => {
    const txt = run("SELECT k FROM t", "--table", table, "--output", "s3://sql/results/r.txt");
    assert.equal(txt.status, 1);
    assert.match(txt.stderr, /--output s3:\/\/sql\/results\/r\.txt: write FILE\.duckdb or an object URL ending in \.csv or \.parquet/);
    const folder = run("SELECT k FROM t", "--table", table, "--output", "s3://sql/results/");
    assert.match(folder.stderr, /names a directory, not an object/);
    const bucketOnly = run("SELECT k FROM t", "--table", table, "--output", "s3://sql.csv");
    assert.equal(bucketOnly.status, 1);
    assert.match(bucketOnly.stderr, /names a bucket or directory, not an object/);
  });

  test("a bad query and a refused construct say what is wrong; --allow-single-task runs it as one task", () => {
    const bad = run("SELECT nope FROM t", "--table", table);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /\[smelter\] \[sql\] .*nope/);
    const window = "SELECT k, sum(small) OVER (PARTITION BY k ORDER BY d) AS s FROM t";
    const refused = run(window, "--table", table);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /window/i);
    assert.match(refused.stderr, /--allow-single-task/);
    const single = run(window, "--table", table, "--allow-single-task", "--format", "json");
    assert.equal(single.status, 0, single.stderr);
    assert.equal((JSON.parse(single.stdout) as unknown[]).length, 12);
    assert.match(single.stderr, /one task/);
  });
});
