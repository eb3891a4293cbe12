/**
 * `npm run bench functions [-- options]`: Query 2 written as plain TypeScript functions
 * (`defineMapReduce`, docs/mapreduce.md) against DuckDB alone, on bench/query2.ts's uservisits
 * CSV (generate it first with `npm run bench query2`; it lives in .smelter/bench/query2/).
 * Rounds are interleaved (DuckDB alone, then the functions job, on the same machine load); a
 * fresh processes pool of `--workers` is warmed up with one untimed run. Reports the medians,
 * their ratio, rows/s/core (rows / wall / workers), the CPU-seconds of each side (DuckDB alone: this
 * process, its threads included; functions: the coordinator's plus every winning task's, as the
 * tasks measured them) with rows per CPU-second (what a shared machine's load does not blur), and
 * checks the results are equal (relative 1e-6).
 *
 * What it shows: the cost of the general path (records parsed in JS, pairs as JSON) next to
 * DuckDB's, i.e. what `smelter query2` / `smelter sql` save by running DuckDB inside tasks.
 *
 * Options: --queries 2A,2B,2C --runs N (3) --workers N (2) --data DIR --no-record
 * --worker-cpu-prof DIR (each worker process writes a CPU profile there when the pool closes)
 * --task-bytes N --partitions R (the job's options; default: its own rules)
 */
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { processesBackend } from "../src/backends/index.js";
import { Manager } from "../src/scheduler/manager.js";
import { BENCH_DATA_ROOT } from "./_bdb-data.js";
import { openDuckDb } from "../src/duckdb/index.js";
import { compareResults, duckdbAlone, QUERY2_PREFIX_LEN as QUERIES, query2Files, query2Sql, timeDuckdbAlone, timeInProcess, uservisitsSourceSql, type Query2Result } from "./_peers.js";
import { JOBS } from "./_functions-jobs.js";
import { badOption, benchArgs } from "./_args.js";
import { median, record } from "./_record.js";

const ENTRY = new URL("./_functions-jobs.js", import.meta.url);

const args = benchArgs(import.meta.url, "functions", {
  queries: { type: "string", default: "2A" },
  runs: { type: "string", default: "3" },
  workers: { type: "string", default: "2" },
  data: { type: "string", default: join(BENCH_DATA_ROOT, "query2", "uservisits-10000000-s1-f8") },
  "no-record": { type: "boolean", default: false },
  "worker-cpu-prof": { type: "string" },
  "task-bytes": { type: "string" },
  partitions: { type: "string" },
});
const runs = Number(args.runs);
const workers = Number(args.workers);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(workers) || workers < 1) badOption("--runs and --workers take positive integers");
/** --task-bytes / --partitions: the job's own options (default: its rules). */
const runOptions = {
  ...(args["task-bytes"] ? { targetTaskBytes: Number(args["task-bytes"]) } : {}),
  ...(args.partitions ? { partitions: Number(args.partitions) } : {}),
};
const dataDir = args.data.replace(/\/?$/, "/");
const csvDir = `${dataDir}csv/`;
if (!existsSync(csvDir)) throw new Error(`no uservisits CSV at ${csvDir}: run \`npm run bench query2\` once to generate it, or pass --data DIR`);
const dataset = JSON.parse(readFileSync(`${dataDir}dataset.json`, "utf8")) as { rows: number };

const results = [];
for (const q of args.queries.split(",")) {
  const prefixLen = QUERIES[q as keyof typeof QUERIES];
  if (!prefixLen) throw new Error(`unknown query ${q}: pick from 2A, 2B, 2C`);
  const job = JOBS[prefixLen];
  const profDir = args["worker-cpu-prof"];
  const manager = new Manager({ backend: processesBackend({ entry: ENTRY, workers, ...(profDir ? { execArgv: ["--cpu-prof", "--cpu-prof-dir", profDir] } : {}) }) });
  try {
    await job.run(manager, { input: csvDir, ...runOptions }); // warm-up: process start, code loaded
    const duck: number[] = [];
    const fn: number[] = [];
    const duckCpu: number[] = [];
    const fnCpu: number[] = [];
    // DuckDB alone: one open database (threads = workers), each round's run timed alone (its CPU is
    // this process's, its threads included), as bench query2 does. No result is kept in this process
    // while the rounds run (a Map of ~800k groups made the coordinator's collections slow): the last
    // round's records are compared with DuckDB alone's result once the rounds are over.
    const db = await openDuckDb({ threads: workers });
    const sql = query2Sql(uservisitsSourceSql(query2Files(csvDir, "csv"), "csv"), prefixLen);
    let last: [string, number][] | undefined;
    try {
      for (let i = 0; i < runs; i++) {
        const d = await timeDuckdbAlone(db, sql); // every result row materialized, as bench query2 times it
        duck.push(d.wallS);
        duckCpu.push(d.cpuS);
        const { value: r, wallS, cpuS: coordinatorCpu } = await timeInProcess(() => job.run(manager, { input: csvDir, ...runOptions }));
        fn.push(wallS);
        const mapCpu = tasksCpuS(r.run.mapResults);
        const reduceCpu = tasksCpuS(r.run.reduceResults);
        fnCpu.push(coordinatorCpu + mapCpu + reduceCpu);
        last = i === runs - 1 ? r.records! : undefined;
        console.error(`${q} round ${i + 1} (load ${loadavg()[0]!.toFixed(1)}): duckdb ${duck[i]!.toFixed(2)} s / ${duckCpu[i]!.toFixed(2)} CPU-s, functions ${fn[i]!.toFixed(2)} s / ${fnCpu[i]!.toFixed(2)} CPU-s (map tasks ${mapCpu.toFixed(2)}, reduce tasks ${reduceCpu.toFixed(2)}, coordinator ${coordinatorCpu.toFixed(2)}; ${r.mapTasks} map tasks, R = ${r.partitions})`);
      }
    } finally {
      db.close();
    }
    const reference: Query2Result = (await duckdbAlone({ input: csvDir, format: "csv", prefixLen, runs: 1, warmup: 0, workers })).result;
    const got: Query2Result = new Map(last);
    const check = compareResults(reference, got);
    const row = {
      query: q,
      rows: dataset.rows,
      workers,
      duckdbS: median(duck),
      functionsS: median(fn),
      ratio: median(fn) / median(duck),
      rowsPerSecPerCore: dataset.rows / median(fn) / workers,
      duckdbCpuS: median(duckCpu),
      functionsCpuS: median(fnCpu),
      rowsPerCpuS: dataset.rows / median(fnCpu),
      equal: check.equal,
      maxRelError: check.maxRelError,
      runs: { duckdb: duck, functions: fn, duckdbCpu: duckCpu, functionsCpu: fnCpu },
    };
    results.push(row);
    console.log(`${q}: functions ${row.functionsS.toFixed(2)} s, DuckDB alone ${row.duckdbS.toFixed(2)} s, ratio ${row.ratio.toFixed(2)}, ${(row.rowsPerSecPerCore / 1e6).toFixed(2)}M rows/s/core; CPU ${row.functionsCpuS.toFixed(2)} s vs ${row.duckdbCpuS.toFixed(2)} s, ${(row.rowsPerCpuS / 1e6).toFixed(2)}M rows/CPU-s; equal: ${row.equal} (max rel ${check.maxRelError.toExponential(1)})`);
  } finally {
    await manager.close();
  }
}
/** CPU-seconds of winning tasks, as each task measured it. */
function tasksCpuS(results: { stats: { cpuUserMs: number; cpuSystemMs: number } }[]): number {
  let ms = 0;
  for (const r of results) ms += r.stats.cpuUserMs + r.stats.cpuSystemMs;
  return ms / 1000;
}

if (!args["no-record"]) console.log(`recorded in ${record("functions", { loadavg: loadavg(), results })}`);
