/** `smelter sql` as a user runs it: JSON keys and exact types, CSV, --output FILE.duckdb, a bad query, a refused construct, --allow-single-task. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { openDuckDb } from "../../src/duckdb/index.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, "sql", ...args, "--backend", "threads", "--workers", "2"], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });

describe("smelter sql", () => {
  let dir: string;
  let table: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-sql-cli-"));
    mkdirSync(join(dir, "t"));
    for (let f = 0; f < 3; f++) {
      const rows = [0, 1, 2, 3].map((i) => `k${i % 2},${9007199254740993n + BigInt(f * 4 + i)},${i + f},2021-03-0${i + 1},${i === 3 ? "" : (i + f) * 1.5}`);
      writeFileSync(join(dir, "t", `part-${f}.csv`), `k,big,small,d,x\n${rows.join("\n")}\n`);
    }
    table = `t=${join(dir, "t")}/`;
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
    const r = run("SELECT k, count(*) AS n FROM t GROUP BY k", "--table", table, "--format", "csv", "--output", file, "--quiet");
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
