/**
 * `npm run bench functions [-- options]`: Query 2 written as plain TypeScript functions
 * (`defineMapReduce`, docs/mapreduce.md) against DuckDB alone, on bench/query2.ts's uservisits
 * CSV (generate it first with `npm run bench query2`; it lives in .smelter/bench/query2/).
 * Rounds are interleaved (DuckDB alone, then the functions job, on the same machine load); a
 * fresh processes pool of `--workers` is warmed up with one untimed run. Reports the medians,
 * their ratio, rows/s/core, and checks the results are equal (relative 1e-6).
 *
 * What it shows: the cost of the general path (records parsed in JS, pairs as JSON) next to
 * DuckDB's, i.e. what `smelter query2` / `smelter sql` save by running DuckDB inside tasks.
 *
 * Options: --queries 2A,2B,2C --runs N (3) --workers N (2) --data DIR --no-record
 */
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { processesBackend } from "../src/backends/index.js";
import { Manager } from "../src/scheduler/manager.js";
import { BENCH_DATA_ROOT } from "./_bdb-data.js";
import { compareResults, duckdbAlone, QUERY2_PREFIX_LEN as QUERIES, type Query2Result } from "./_peers.js";
import { JOBS } from "./_functions-jobs.js";
import { median, record } from "./_record.js";

const ENTRY = new URL("./_functions-jobs.js", import.meta.url);

const { values: args } = parseArgs({
  options: {
    queries: { type: "string", default: "2A" },
    runs: { type: "string", default: "3" },
    workers: { type: "string", default: "2" },
    data: { type: "string", default: join(BENCH_DATA_ROOT, "query2", "uservisits-10000000-s1-f8") },
    "no-record": { type: "boolean", default: false },
  },
});
const runs = Number(args.runs);
const workers = Number(args.workers);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(workers) || workers < 1) throw new Error("--runs and --workers take positive integers");
const dataDir = args.data.replace(/\/?$/, "/");
const csvDir = `${dataDir}csv/`;
if (!existsSync(csvDir)) throw new Error(`no uservisits CSV at ${csvDir}: run \`npm run bench query2\` once to generate it, or pass --data DIR`);
const dataset = JSON.parse(readFileSync(`${dataDir}dataset.json`, "utf8")) as { rows: number };

const results = [];
for (const q of args.queries.split(",")) {
  const prefixLen = QUERIES[q as keyof typeof QUERIES];
  if (!prefixLen) throw new Error(`unknown query ${q}: pick from 2A, 2B, 2C`);
  const job = JOBS[prefixLen];
  const manager = new Manager({ backend: processesBackend({ entry: ENTRY, workers }) });
  try {
    await job.run(manager, { input: csvDir }); // warm-up: process start, code loaded
    const duck: number[] = [];
    const fn: number[] = [];
    let reference: Query2Result | undefined;
    let got: Query2Result | undefined;
    for (let i = 0; i < runs; i++) {
      const d = await duckdbAlone({ input: csvDir, format: "csv", prefixLen, runs: 1, warmup: 0, workers });
      duck.push(d.medianS);
      reference = d.result;
      const t0 = performance.now();
      const r = await job.run(manager, { input: csvDir });
      fn.push((performance.now() - t0) / 1000);
      got = new Map(r.records!);
      console.error(`${q} round ${i + 1}: duckdb ${d.medianS.toFixed(2)} s, functions ${fn[i]!.toFixed(2)} s (${r.mapTasks} map tasks, R = ${r.partitions})`);
    }
    const check = compareResults(reference!, got!);
    const row = {
      query: q,
      rows: dataset.rows,
      workers,
      duckdbS: median(duck),
      functionsS: median(fn),
      ratio: median(fn) / median(duck),
      rowsPerSecPerCore: dataset.rows / median(fn) / workers,
      equal: check.equal,
      maxRelError: check.maxRelError,
      runs: { duckdb: duck, functions: fn },
    };
    results.push(row);
    console.log(`${q}: functions ${row.functionsS.toFixed(2)} s, DuckDB alone ${row.duckdbS.toFixed(2)} s, ratio ${row.ratio.toFixed(2)}, ${(row.rowsPerSecPerCore / 1e6).toFixed(2)}M rows/s/core, equal: ${row.equal} (max rel ${check.maxRelError.toExponential(1)})`);
  } finally {
    await manager.close();
  }
}
if (!args["no-record"]) console.log(`recorded in ${record("functions", { loadavg: loadavg(), results })}`);
