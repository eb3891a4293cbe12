/**
 * `npm run bench sql [-- options]`: Smelter's SQL path against the hand-built Query 2 path and
 * DuckDB alone (../shared/BENCH.md; issue 5, "Numbers").
 *
 * Data: the uservisits of bench/query2.ts (`--rows` 10M, seed `--seed` 1, `--files` 8 CSV objects
 * and the same rows as Parquet, under .smelter/bench/query2/, reused), and for Query 3
 * `--rankings-rows` rankings rows (default 12% of --rows, the benchmark's ratio: every destURL
 * joins a pageURL) as `--rankings-files` (4) objects per format under .smelter/bench/sql/
 * (bench/_bdb-data.ts generates both once).
 *
 * On the local dir store, processes backend, `--workers` (2) workers (one pool for the whole run,
 * a warm cluster), for each format (csv, parquet):
 * - 2A: interleaved rounds of [DuckDB alone (this process, all cores), runQuery2 (src/mapreduce/
 *   query2.ts), and `SELECT SUBSTR(sourceIP, 1, 8) AS prefix, SUM(adRevenue) AS adRevenue FROM
 *   uservisits GROUP BY 1` through the SQL path as `smelter sql` runs it (tables from --table/
 *   --schema bdb:uservisits, planQuery, executePlan; planning timed as part of the run)]; both
 *   Smelter paths with their own default partitions and task sizes (the same here: one map task per
 *   object, R = workers) unless --partitions / --task-bytes / --threads-per-task set both.
 * - Q3 (test/helpers/sql-cases.ts): interleaved rounds of [DuckDB alone, smelter sql], once per
 *   `--joins` strategy (broadcast: every uservisits task reads all of rankings; partitioned: both
 *   tables shuffled by URL).
 * A warm-up round first (DuckDB alone first: its result is the reference), then `--runs` (5) timed
 * rounds, the order rotating each round. Reported: medians, ratios sql / query2 and each / DuckDB
 * (of the medians; and the median of the per-round ratios), a check of the last round's results
 * against DuckDB alone's (same groups, each value within relative 1e-6; DuckDB alone's result is
 * kept as Parquet in a temp directory and the check runs inside DuckDB, so no copy of it sits in
 * this process, Smelter's coordinator, during the timed runs), and where Smelter's time went (listing and
 * planning, each stage's elapsed time, CPU and the workers' phase timers, gather).
 *
 * Prints the tables, appends a JSON line to bench/results/sql.jsonl and writes the tables into
 * docs/performance.md (between the sql markers of its "SQL" section). Exits 1 if a result differs.
 *
 * Options: --rows N --seed S --files F --rankings-rows N --rankings-files F --runs N --workers N
 * --queries 2A,Q3 --formats csv,parquet --joins broadcast,partitioned --data-root DIR
 * --task-bytes N --partitions R --threads-per-task N --no-docs --no-record --label TEXT
 */
import { benchArgs } from "./_args.js";
import { record, writeDocsSection } from "./_record.js";
import { runSqlBench, sqlBenchTable } from "./_sql-bench.js";

const args = benchArgs(import.meta.url, "sql", {
  rows: { type: "string" },
  seed: { type: "string" },
  files: { type: "string" },
  "rankings-rows": { type: "string" },
  "rankings-files": { type: "string" },
  runs: { type: "string" },
  workers: { type: "string" },
  queries: { type: "string" },
  formats: { type: "string" },
  joins: { type: "string" },
  "data-root": { type: "string" },
  "task-bytes": { type: "string" },
  partitions: { type: "string" },
  "threads-per-task": { type: "string" },
  "no-docs": { type: "boolean", default: false },
  "no-record": { type: "boolean", default: false },
  label: { type: "string" },
});

const log = (msg: string) => process.stderr.write(`[bench sql] ${msg}\n`);
const { "no-docs": noDocs, "no-record": noRecord, label, ...rest } = args;
// --rankings-rows -> rankingsRows: the options' names in bench/_sql-bench.ts (errors name the flags).
const options = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), v]));
const result = await runSqlBench(options, log);
const table = sqlBenchTable(result, label);
console.log(table);
if (!noRecord) log(`recorded in ${record("sql", { label, ...result })}`);
if (!noDocs) log(`table written to ${writeDocsSection("sql", "SQL", table)}`);
if (!result.allEqual) {
  log("!! a Smelter result differs from DuckDB alone's (see the table)");
  process.exitCode = 1;
}
