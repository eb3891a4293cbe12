// A smoke test of `npm run bench sql` (bench/_sql-bench.ts) at a tiny size, so the benchmark
// program cannot rot: every path runs once after its warm-up and gives DuckDB alone's answer.
// It times nothing.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runSqlBench, sqlBenchOptionsSchema, sqlBenchTable, type SqlBenchResult } from "../../bench/_sql-bench.js";

describe("bench sql at 20,000 rows", () => {
  let root: string;
  let result: SqlBenchResult;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "smelter-bench-sql-"));
    result = await runSqlBench({ rows: 20_000, files: 4, rankingsFiles: 2, runs: 1, formats: "csv,parquet", dataRoot: root });
  });
  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("runs 2A three ways and Q3 with both joins, per format", () => {
    const got = result.comparisons.map((c) => `${c.query} ${c.format}${c.join ? ` ${c.join}` : ""}: ${c.contenders.map((x) => x.name).join(", ")}`);
    assert.deepEqual(got, [
      "2A csv: DuckDB alone, query2, smelter sql",
      "Q3 csv broadcast: DuckDB alone, smelter sql",
      "Q3 csv partitioned: DuckDB alone, smelter sql",
      "2A parquet: DuckDB alone, query2, smelter sql",
      "Q3 parquet broadcast: DuckDB alone, smelter sql",
      "Q3 parquet partitioned: DuckDB alone, smelter sql",
    ]);
    assert.equal(result.rankings?.rows, 2_400, "rankings: 12% of the uservisits rows");
  });

  it("gets DuckDB alone's results on every Smelter path", () => {
    assert.equal(result.allEqual, true);
    for (const c of result.comparisons) {
      assert.ok(c.groups > 0, `${c.query} ${c.format}: groups`);
      for (const x of c.contenders.slice(1)) {
        assert.equal(x.check?.equal, true, `${c.query} ${c.format} ${c.join ?? ""} ${x.name}: ${JSON.stringify(x.check)}`);
        assert.equal(x.runsS.length, 1);
        // One stage when the coordinator merges the partials (small input, no --partitions).
        assert.ok((x.stages?.length ?? 0) >= 1, `${c.query} ${c.format} ${x.name}: stage breakdown`);
      }
    }
    assert.equal(result.comparisons.find((c) => c.query === "Q3" && c.join === "partitioned")?.strategy.includes("partitioned join"), true);
    assert.equal(result.comparisons.find((c) => c.query === "Q3" && c.join === "broadcast")?.strategy.includes("broadcast join"), true);
  });

  it("formats the tables", () => {
    const table = sqlBenchTable(result);
    assert.match(table, /\| csv \| .* \| yes \(/);
    assert.doesNotMatch(table, /\| NO \|/);
  });

  it("names the flag in option errors", () => {
    assert.match(String(sqlBenchOptionsSchema.safeParse({ runs: "0" }).error), /--runs must be at least 1/);
    assert.match(String(sqlBenchOptionsSchema.safeParse({ joins: "hash" }).error), /--joins takes a comma-separated list of broadcast, partitioned/);
  });
});
