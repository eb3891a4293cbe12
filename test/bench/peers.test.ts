// The TypeScript side of the Query 2 peers benchmark (bench/_peers.ts): the answer check and DuckDB
// alone. The Python peers are optional tools for the benchmark and are not needed here.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { compareResults, duckdbAlone, parseResultCsv, query2Files, resultCheckSql } from "../../bench/_peers.js";
import { openDuckDb, sqlString } from "../../src/duckdb/index.js";
import { BDB_TINY_USERVISITS } from "../helpers/bdb-tiny.js";

const TINY = BDB_TINY_USERVISITS;

/** Query 2 by hand: split each line, first X chars of field 0, float64 sum of field 3 as float32. */
function expected(prefixLen: number): Map<string, number> {
  const sums = new Map<string, number>();
  for (const name of readdirSync(TINY).filter((f) => f.startsWith("part-")).sort()) {
    for (const line of readFileSync(join(TINY, name), "latin1").split("\n")) {
      if (line === "") continue;
      const f = line.split(",");
      assert.equal(f.length, 9, `9 fields in ${JSON.stringify(line)}`);
      const prefix = f[0]!.slice(0, prefixLen);
      sums.set(prefix, (sums.get(prefix) ?? 0) + Math.fround(Number(f[3])));
    }
  }
  return sums;
}

describe("compareResults", () => {
  const a = new Map([
    ["1.2.3.4.", 1.5],
    ["10.20.30", 2.25],
    ["9.9.9.9.", 3.0000001],
  ]);

  it("passes the same answer, and sums within the relative tolerance", () => {
    const b = new Map([
      ["9.9.9.9.", 3.0000001 * (1 + 5e-7)],
      ["1.2.3.4.", 1.5],
      ["10.20.30", 2.25],
    ]);
    const c = compareResults(a, b);
    assert.equal(c.sameGroups, true);
    assert.equal(c.equal, true);
    assert.ok(c.maxRelError > 0 && c.maxRelError < 1e-6, String(c.maxRelError));
    assert.deepEqual(c.mismatches, []);
  });

  it("catches a wrong sum", () => {
    const b = new Map(a);
    b.set("10.20.30", 2.25 * (1 + 1e-5));
    const c = compareResults(a, b);
    assert.equal(c.sameGroups, true);
    assert.equal(c.equal, false);
    assert.ok(c.maxRelError > 9e-6 && c.maxRelError < 1.1e-5, String(c.maxRelError));
    assert.equal(c.mismatches.length, 1);
    assert.equal(c.mismatches[0]?.prefix, "10.20.30");
    // A looser tolerance accepts it.
    assert.equal(compareResults(a, b, 1e-4).equal, true);
  });

  it("catches a missing group on either side, and an extra one", () => {
    const b = new Map(a);
    b.delete("1.2.3.4.");
    const c = compareResults(a, b);
    assert.equal(c.sameGroups, false);
    assert.equal(c.equal, false);
    assert.equal(c.missingInB, 1);
    assert.deepEqual(c.mismatches[0], { prefix: "1.2.3.4.", a: 1.5, b: undefined, relError: Number.POSITIVE_INFINITY });
    const d = compareResults(b, a);
    assert.equal(d.missingInA, 1);
    assert.equal(d.mismatches[0]?.a, undefined);
    const e = new Map(a);
    e.set("extra.gr", 0);
    assert.equal(compareResults(a, e).sameGroups, false);
  });

  it("treats NaN as a mismatch", () => {
    const b = new Map(a);
    b.set("1.2.3.4.", Number.NaN);
    const c = compareResults(a, b);
    assert.equal(c.equal, false);
    assert.equal(c.maxRelError, Number.POSITIVE_INFINITY);
  });
});

describe("resultCheckSql", () => {
  it("agrees with compareResults, and fails on a missing, an extra, a wrong or a repeated group", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-refcheck-"));
    const db = await openDuckDb();
    try {
      const ref = join(dir, "ref.parquet");
      await db.run(`COPY (SELECT 'p' || i AS prefix, i * 1.5 AS adRevenue FROM range(1000) t(i)) TO ${sqlString(ref)} (FORMAT parquet)`);
      const check = async (sql: string) => {
        await db.run(`CREATE OR REPLACE TABLE result AS ${sql}`);
        return resultCheckSql(db, ref);
      };
      const same = await check(`FROM read_parquet(${sqlString(ref)})`);
      assert.deepEqual(same, { equal: true, sameGroups: true, maxRelError: 0, mismatches: [] });
      const close = await check(`SELECT prefix, adRevenue * (1 + 1e-9) AS adRevenue FROM read_parquet(${sqlString(ref)})`);
      assert.ok(close.equal && close.maxRelError > 0 && close.maxRelError < 1e-6, JSON.stringify(close));
      const missing = await check(`FROM read_parquet(${sqlString(ref)}) WHERE prefix <> 'p7'`);
      assert.equal(missing.equal, false);
      assert.deepEqual(missing.mismatches, [{ prefix: "p7", a: 10.5, b: undefined, relError: Infinity }]);
      const extra = await check(`FROM read_parquet(${sqlString(ref)}) UNION ALL SELECT 'zz', 1`);
      assert.equal(extra.equal, false);
      assert.deepEqual(extra.mismatches, [{ prefix: "zz", a: undefined, b: 1, relError: Infinity }]);
      const wrong = await check(`SELECT prefix, CASE WHEN prefix = 'p9' THEN 14 ELSE adRevenue END AS adRevenue FROM read_parquet(${sqlString(ref)})`);
      assert.equal(wrong.equal, false);
      assert.equal(wrong.mismatches[0]!.prefix, "p9");
      assert.ok(Math.abs(wrong.maxRelError - 0.5 / 14) < 1e-12, String(wrong.maxRelError));
      const twice = await check(`FROM read_parquet(${sqlString(ref)}) UNION ALL SELECT 'p3', 4.5`);
      assert.equal(twice.equal, false);
      assert.equal(twice.sameGroups, false);
      assert.match(twice.mismatches[0]!.prefix, /1 duplicate keys in result/);
      const nullSum = await check(`SELECT prefix, CASE WHEN prefix = 'p5' THEN NULL ELSE adRevenue END AS adRevenue FROM read_parquet(${sqlString(ref)})`);
      assert.equal(nullSum.equal, false);
      assert.deepEqual(nullSum.mismatches, [{ prefix: "p5", a: 7.5, b: undefined, relError: Infinity }]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks any shape: several keys and values, each value within the tolerance, NULL keys as groups", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-refcheck-"));
    const db = await openDuckDb();
    const shape = { keys: ["k", "n"], values: ["total", "mean"] };
    try {
      const ref = join(dir, "ref.parquet");
      // 200 rows; key (NULL, 0) is a group of its own.
      const rows = `SELECT CASE WHEN i = 0 THEN NULL ELSE 'k' || (i % 7) END AS k, i // 7 AS n, i * 2.5 AS total, i / 3 AS mean, 'x' AS note FROM range(200) t(i)`;
      await db.run(`COPY (${rows}) TO ${sqlString(ref)} (FORMAT parquet)`);
      const check = async (sql: string) => {
        await db.run(`CREATE OR REPLACE TABLE got AS ${sql}`);
        return resultCheckSql(db, ref, { table: "got", shape });
      };
      // Other columns and column order do not matter.
      const same = await check(`SELECT mean, total, n, k FROM (${rows}) ORDER BY random()`);
      assert.deepEqual(same, { equal: true, sameGroups: true, maxRelError: 0, mismatches: [] });
      const close = await check(`SELECT k, n, total, mean * (1 - 1e-8) AS mean FROM (${rows})`);
      assert.ok(close.equal && close.maxRelError > 0 && close.maxRelError < 1e-6, JSON.stringify(close));
      const missing = await check(`FROM (${rows}) WHERE k IS NOT NULL`);
      assert.equal(missing.equal, false);
      assert.equal(missing.sameGroups, false);
      assert.deepEqual(missing.mismatches, [
        { prefix: "NULL 0 mean", a: 0, b: undefined, relError: Infinity },
        { prefix: "NULL 0 total", a: 0, b: undefined, relError: Infinity },
      ]);
      const extra = await check(`SELECT k, n, total, mean FROM (${rows}) UNION ALL SELECT 'k1', 99, 1, 2`);
      assert.equal(extra.equal, false);
      assert.deepEqual(extra.mismatches.map((m) => [m.prefix, m.a, m.b]), [["k1 99 mean", undefined, 2], ["k1 99 total", undefined, 1]]);
      // One value of one row wrong: named by its key and column, the other value of that row passes.
      const wrong = await check(`SELECT k, n, total, CASE WHEN k = 'k3' AND n = 2 THEN mean * 1.001 ELSE mean END AS mean FROM (${rows})`);
      assert.equal(wrong.equal, false);
      assert.equal(wrong.sameGroups, true);
      assert.deepEqual(wrong.mismatches.map((m) => m.prefix), ["k3 2 mean"]);
      assert.ok(Math.abs(wrong.maxRelError - 0.001 / 1.001) < 1e-9, String(wrong.maxRelError));
      const twice = await check(`SELECT k, n, total, mean FROM (${rows}) UNION ALL SELECT NULL, 0, 0, 0`);
      assert.equal(twice.equal, false);
      assert.equal(twice.sameGroups, false);
      assert.match(twice.mismatches[0]!.prefix, /1 duplicate keys in got/);
      const notANumber = await check(`SELECT k, n, CASE WHEN n = 5 AND k = 'k5' THEN 'NaN'::DOUBLE ELSE total END AS total, mean FROM (${rows})`);
      assert.equal(notANumber.equal, false);
      assert.equal(notANumber.maxRelError, Infinity);
      // The reference itself repeating a key fails too.
      await db.run(`COPY (${rows} UNION ALL SELECT 'k2', 0, 5, 0.6, 'y') TO ${sqlString(ref)} (FORMAT parquet)`);
      const refTwice = await check(rows);
      assert.equal(refTwice.equal, false);
      assert.match(refTwice.mismatches[0]!.prefix, /1 duplicate keys in the reference/);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("parseResultCsv", () => {
  it("reads prefix,sum lines as the Python peers write them", () => {
    const m = parseResultCsv("1.2.3.4.,0.5\n10.20.30,3.1352043e-05\n\n");
    assert.deepEqual([...m], [["1.2.3.4.", 0.5], ["10.20.30", 3.1352043e-5]]);
    assert.throws(() => parseResultCsv("abc\n"), /no comma/);
  });
});

describe("duckdbAlone on bdb-tiny", () => {
  it("lists the ten CSV part files", () => {
    assert.equal(query2Files(TINY, "csv").length, 10);
    assert.throws(() => query2Files(TINY, "parquet"), /no parquet uservisits files/);
  });

  for (const prefixLen of [8, 10, 12]) {
    it(`returns the groups and sums of Query 2 with X=${prefixLen} (parsed and summed here independently)`, async () => {
      const want = expected(prefixLen);
      const got = await duckdbAlone({ input: TINY, format: "csv", prefixLen, runs: 1, warmup: 0, workers: 2 });
      assert.equal(got.engine, "duckdb");
      assert.equal(got.runsS.length, 1);
      assert.ok(got.medianS > 0);
      assert.equal(got.groups, want.size);
      const c = compareResults(want, got.result);
      assert.ok(c.equal, JSON.stringify(c));
      // The real tiny data has 14 revenues in scientific notation: a wrong parse would show here.
      const total = [...got.result.values()].reduce((s, v) => s + v, 0);
      const wantTotal = [...want.values()].reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(total - wantTotal) / wantTotal < 1e-9, `${total} vs ${wantTotal}`);
    });
  }

  it("gives 2A fewer groups than 2C, as prefixes get longer", async () => {
    const a = await duckdbAlone({ input: TINY, format: "csv", prefixLen: 8, runs: 1, warmup: 0 });
    const c = await duckdbAlone({ input: TINY, format: "csv", prefixLen: 12, runs: 1, warmup: 0 });
    assert.ok(a.groups < c.groups && c.groups <= 10_000, `${a.groups} < ${c.groups}`);
  });
});
