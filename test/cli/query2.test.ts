/** `smelter query2` as a user runs it: every output format, the DuckDB file, one CSV object, bad flags, bad data. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { openDuckDb } from "../../src/duckdb/index.js";
import { makeUservisits } from "../helpers/uservisits.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, "query2", "--backend", "threads", "--workers", "2", ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });

describe("smelter query2", () => {
  let data: Awaited<ReturnType<typeof makeUservisits>>;
  let expected: Map<string, number>;
  before(async () => {
    data = await makeUservisits(20_000, 2);
    const db = await openDuckDb();
    const rows = await db.all<{ prefix: string; s: number }>(
      `SELECT substr(sourceIP, 1, 10) AS prefix, sum(adRevenue) AS s FROM read_parquet('${data.parquet}*.parquet') GROUP BY 1`,
    );
    expected = new Map(rows.map((r) => [r.prefix, r.s]));
    db.close();
  });

  test("--format json: stdout is only a JSON array of {prefix, adRevenue}, equal to DuckDB's", () => {
    const r = run("--input", data.csv, "--prefix-len", "10", "--format", "json", "--partitions", "3");
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { prefix: string; adRevenue: number }[];
    assert.equal(rows.length, expected.size);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), ["adRevenue", "prefix"]);
      const want = expected.get(row.prefix);
      assert.ok(want !== undefined && Math.abs(row.adRevenue - want) <= 1e-6 * Math.max(1, Math.abs(want)), row.prefix);
    }
    assert.match(r.stderr, /map .* done/, "progress and stats on stderr");
  });

  test("--format csv prints every row with a header; table prints the top rows and the group count", () => {
    const csv = run("--input", data.parquet, "--prefix-len", "10", "--format", "csv", "--quiet");
    assert.equal(csv.status, 0, csv.stderr);
    const lines = csv.stdout.trim().split("\n");
    assert.equal(lines[0], "prefix,adRevenue");
    assert.equal(lines.length, expected.size + 1);
    const table = run("--input", data.parquet, "--prefix-len", "10", "--limit", "5", "--quiet");
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^prefix\s+adRevenue\n/);
    assert.match(table.stdout, new RegExp(`${expected.size.toLocaleString("en-US")} groups \\(top 5`));
    assert.equal(table.stdout.trim().split("\n").length, 2 + 5 + 1);
  });

  test("--output FILE.duckdb holds the result and every attempt; --output x.csv is one object assembled in parallel", async () => {
    const file = join(data.dir, "out.duckdb");
    const r = run("--input", data.csv, "--prefix-len", "10", "--output", file, "--partitions", "2", "--quiet");
    assert.equal(r.status, 0, r.stderr);
    const db = await openDuckDb({ path: file });
    assert.equal(Number(await db.value("SELECT count(*) FROM result")), expected.size);
    const attempts = await db.all<{ stage_name: string; status: string; n: bigint }>("SELECT stage_name, status, count(*) AS n FROM attempts GROUP BY ALL ORDER BY 1");
    assert.deepEqual(attempts.map((a) => [a.stage_name, a.status]), [["map", "succeeded"], ["reduce", "succeeded"]]);
    assert.equal(Number(await db.value("SELECT count(*) FROM attempts WHERE stage_name = 'reduce'")), 2);
    db.close();
    const csvFile = join(data.dir, "results", "q2.csv");
    mkdirSync(join(data.dir, "results"), { recursive: true });
    const c = run("--input", data.csv, "--prefix-len", "10", "--output", csvFile, "--partitions", "3", "--quiet");
    assert.equal(c.status, 0, c.stderr);
    const lines = readFileSync(csvFile, "utf8").trim().split("\n");
    assert.equal(lines[0], "prefix,adRevenue");
    assert.equal(lines.length, expected.size + 1, "one header, then every group once");
  });

  test("bad flags and a missing input say what is wrong", () => {
    const noInput = run("--prefix-len", "8");
    assert.equal(noInput.status, 1);
    assert.match(noInput.stderr, /--input is required/);
    const badLen = run("--input", data.csv, "--prefix-len", "20");
    assert.match(badLen.stderr, /--prefix-len must be 1 to 15/);
    const badFormat = run("--input", data.csv, "--format", "xml");
    assert.match(badFormat.stderr, /--format must be table, json or csv/);
    const badOutput = run("--input", data.csv, "--output", "result.txt");
    assert.match(badOutput.stderr, /FILE\.duckdb or an object URL ending in \.csv/);
    const missing = run("--input", join(data.dir, "nope/"));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no uservisits data at .*nope/);
    // The result's DuckDB file is open by the time the input is listed: a missing input leaves no file.
    const out = join(data.dir, "missing.duckdb");
    const missingOut = run("--input", join(data.dir, "nope/"), "--output", out);
    assert.equal(missingOut.status, 1);
    assert.match(missingOut.stderr, /no uservisits data at .*nope/);
    assert.ok(!existsSync(out) && !existsSync(`${out}.wal`), "no missing.duckdb or .wal left behind");
  });

  test("a malformed row fails the job with the object and byte range named, not a temp file", () => {
    const dir = join(data.dir, "bad");
    mkdirSync(dir);
    copyFileSync(join(data.csv, "part-00000"), join(dir, "part-00000"));
    appendFileSync(join(dir, "part-00000"), "1.2.3.4,only-three-fields,2001-01-01\n");
    const r = run("--input", `${dir}/`, "--quiet");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /reading file:\/\/\S+\/part-00000 \[bytes 0-\d+\)/);
    assert.match(r.stderr, /fix or remove the malformed rows/);
    assert.doesNotMatch(r.stderr, /smelter-(map|sql)-/, "no temp file names");
  });
});
