/**
 * The core of `npm run bench sql` (bench/sql.ts; the header there says what is measured), and of
 * its smoke test (test/bench/sql.test.ts): {@link runSqlBench} generates or reuses the data, runs
 * the interleaved rounds and returns every figure; {@link sqlBenchTable} formats them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { processesBackend } from "../src/backends/index.js";
import { planOptions, tablesFromFlags, type SqlFlags } from "../src/cli/sql-flags.js";
import { openDuckDb, sqlString, type DuckDb } from "../src/duckdb/index.js";
import { parseOrThrow } from "../src/job/policy.js";
import { Manager } from "../src/scheduler/manager.js";
import { executePlan } from "../src/query/execute.js";
import { planQuery } from "../src/sql/plan.js";
import { Q3 } from "../test/helpers/sql-cases.js";
import { BENCH_DATA_ROOT, bdbData, datasetOf, formatDir, pagesFor, type BdbData, type BdbDataset } from "./_bdb-data.js";
import { bdbSourceSql, query2Files, query2Sql, QUERY2_SHAPE, resultCheckSql, timeDuckdbAlone, timeInProcess, type Query2Format, type ResultCheck, type ResultShape } from "./_peers.js";
import { measureJob, measureRun, type SmelterRun } from "./_query2-measure.js";
import { median } from "./_record.js";

/** Query 2A as a user writes it for `smelter sql`. */
const Q2A_SQL = "SELECT SUBSTR(sourceIP, 1, 8) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1";
/** Q3's one row: the top sourceIP, its revenue and average page rank. */
const Q3_SHAPE: ResultShape = { keys: ["sourceIP"], values: ["totalRevenue", "avgPageRank"] };

const ENTRY = new URL("../src/builtin-workers/builtin.js", import.meta.url);
const QUERIES = ["2A", "Q3"] as const;
const JOINS = ["broadcast", "partitioned"] as const;
const FORMATS = ["csv", "parquet"] as const;
export type JoinStrategy = (typeof JOINS)[number];

const count = (flag: string, min: number) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be a whole number`).min(min, `${flag} must be at least ${min}`).max(Number.MAX_SAFE_INTEGER, `${flag} is too large`);
const list = <T extends string>(flag: string, values: readonly [T, ...T[]]) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (typeof v === "string" ? v.split(",") : v).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values, { error: `${flag} takes a comma-separated list of ${values.join(", ")}` })).min(1, `${flag} needs at least one of ${values.join(", ")}`));

export const sqlBenchOptionsSchema = z.strictObject({
  /** uservisits rows (the data of bench/query2.ts). */
  rows: count("--rows", 1).default(10_000_000),
  seed: count("--seed", 0).default(1),
  /** uservisits objects per format. */
  files: count("--files", 1).default(8),
  /** rankings rows. @default pagesFor(rows): every destURL joins a pageURL */
  rankingsRows: count("--rankings-rows", 1).optional(),
  rankingsFiles: count("--rankings-files", 1).default(4),
  /** Timed rounds after the warm-up round. */
  runs: count("--runs", 1).default(5),
  workers: count("--workers", 1).default(2),
  queries: list("--queries", QUERIES).default([...QUERIES]),
  formats: list("--formats", FORMATS).default([...FORMATS]),
  /** Join strategies of Q3. */
  joins: list("--joins", JOINS).default([...JOINS]),
  /** Where the data sets live: uservisits under `<root>/query2/` (shared with bench/query2.ts), rankings under `<root>/sql/`. */
  dataRoot: z.string().min(1).default(BENCH_DATA_ROOT),
  /** Input bytes per first-stage task (both paths). @default each path's own default */
  taskBytes: count("--task-bytes", 1024).optional(),
  /** R of every shuffle (both paths). @default each path's own default */
  partitions: count("--partitions", 1).optional(),
  threadsPerTask: count("--threads-per-task", 1).optional(),
});
export type SqlBenchOptions = z.input<typeof sqlBenchOptionsSchema>;
type Options = z.output<typeof sqlBenchOptionsSchema>;

/** Per stage of one configuration: medians over the timed runs. */
export interface StageSummary {
  name: string;
  tasks: number;
  /** First launch to last success, ms. */
  elapsedMs: number;
  cpuS: number;
  /** Bytes the stage's tasks wrote (shuffle segments / gathered output), MiB. */
  writtenMB: number;
  /** The workers' phase timers (counters ending in Ms), summed over tasks. */
  phasesMs: Record<string, number>;
}

/** One contender of a comparison: its timed runs and the result check of its last run. */
export interface Contender {
  name: string;
  coldS: number;
  runsS: number[];
  medianS: number;
  /** Median CPU seconds of the timed runs (see Sample). */
  cpuS: number;
  /** Median over rounds of this run / DuckDB alone's run of the same round. */
  ratioOfRounds: number;
  /** Smelter: call to the first task launched (listing, planning), last stage done to return (gather, coordinator), medians, ms. */
  beforeFirstTaskMs?: number;
  afterLastStageMs?: number;
  /** SQL: tables listed + query planned, median s (included in runsS). */
  planS?: number;
  /** Smelter: median CPU seconds of the workers and of this process (listing, planning, coordinator). */
  cpuSplitS?: { workers: number; manager: number };
  workerPeakRssMB?: number;
  stages?: StageSummary[];
  check?: ResultCheck;
}

export interface Comparison {
  query: "2A" | "Q3";
  format: Query2Format;
  join?: JoinStrategy;
  /** The SQL plan's strategy (src/sql/plan.ts). */
  strategy: string;
  groups: number;
  contenders: Contender[];
  load: number[];
}

export interface SqlBenchResult {
  options: Omit<Options, "dataRoot">;
  cores: number;
  uservisits: BdbDataset;
  rankings?: BdbDataset;
  comparisons: Comparison[];
  load: { start: number[]; end: number[] };
  /** Every Smelter result equals DuckDB alone's. */
  allEqual: boolean;
}

type Log = (msg: string) => void;
const load = () => loadavg().map((x) => +x.toFixed(2));
const MiB = 2 ** 20;

/** A contender's one run: its wall time, and for Smelter the measured job; `check` compares its result (last run only). */
interface Sample {
  wallS: number;
  /** CPU seconds: DuckDB alone's process; Smelter's workers (winning attempts) + this process (listing, planning, coordinator). */
  cpuS: number;
  run?: SmelterRun;
  planS?: number;
  check?: Contender["check"];
}
interface Runner {
  name: string;
  /** One run; `last`: also compare its result with DuckDB alone's. */
  once: (last: boolean) => Promise<Sample>;
}

/** Runs the benchmark; never records or writes docs (bench/sql.ts does). */
export async function runSqlBench(input: SqlBenchOptions, log: Log = () => undefined): Promise<SqlBenchResult> {
  const o = parseOrThrow(sqlBenchOptionsSchema, input, "sql bench options");
  const cores = availableParallelism();
  const start = load();
  log(`machine: ${cores} cores, load ${start.join(" ")}`);
  const uv = await bdbData({ table: "uservisits", rows: o.rows, seed: o.seed, files: o.files, root: join(o.dataRoot, "query2"), log });
  const rk = o.queries.includes("Q3") ? await bdbData({ table: "rankings", rows: o.rankingsRows ?? pagesFor(o.rows), seed: o.seed, files: o.rankingsFiles, root: join(o.dataRoot, "sql"), log }) : undefined;
  const manager = new Manager({ backend: processesBackend({ entry: ENTRY, workers: o.workers }) });
  const comparisons: Comparison[] = [];
  try {
    for (const format of o.formats) {
      if (o.queries.includes("2A")) comparisons.push(await compare2A(o, manager, uv, format, log));
      for (const join of rk && o.queries.includes("Q3") ? o.joins : []) comparisons.push(await compareQ3(o, manager, uv, rk!, format, join, log));
    }
  } finally {
    await manager.close();
  }
  const { dataRoot: _root, ...options } = o;
  return {
    options,
    cores,
    uservisits: datasetOf(uv),
    ...(rk ? { rankings: datasetOf(rk) } : {}),
    comparisons,
    load: { start, end: load() },
    allEqual: comparisons.every((c) => c.contenders.every((x) => x.check === undefined || x.check.equal)),
  };
}

// ---------------------------------------------------------------------------------------------
// The comparisons.

async function compare2A(o: Options, manager: Manager, uv: BdbData, format: Query2Format, log: Log): Promise<Comparison> {
  const dir = formatDir(uv, format);
  const duck = await duckdbRunner([], query2Sql(bdbSourceSqlOf("uservisits", dir, format), 8));
  const tuning = { ...(o.taskBytes ? { targetTaskBytes: o.taskBytes } : {}), ...(o.threadsPerTask ? { threadsPerTask: o.threadsPerTask } : {}), ...(o.partitions ? { partitions: o.partitions } : {}) };
  const query2: Runner = {
    name: "query2",
    once: (last) =>
      withDb(async (db) => {
        const run = await measureRun(manager, db, { input: `${dir}/`, prefixLen: 8, format, ...tuning });
        return { wallS: run.wallS, cpuS: smelterCpuS(run), run, ...(last ? { check: await resultCheckSql(db, duck.reference()) } : {}) };
      }),
  };
  const sql = sqlRunner(o, manager, Q2A_SQL, { uservisits: dir }, "auto", (db) => resultCheckSql(db, duck.reference(), { shape: QUERY2_SHAPE }));
  try {
    log(`2A ${format}: ${o.runs} rounds of [DuckDB alone (${availableParallelism()} threads), runQuery2, smelter sql] after a warm-up round`);
    const contenders = await rounds(o.runs, [duck.runner, query2, sql.runner], (label) => log(`  2A ${format} ${label}`));
    return { query: "2A", format, strategy: sql.strategy(), groups: duck.rows(), contenders, load: load() };
  } finally {
    await duck.close();
  }
}

async function compareQ3(o: Options, manager: Manager, uv: BdbData, rk: BdbData, format: Query2Format, join: JoinStrategy, log: Log): Promise<Comparison> {
  const views = (["uservisits", "rankings"] as const).map((t) => `CREATE OR REPLACE VIEW ${t} AS SELECT * FROM ${bdbSourceSqlOf(t, formatDir(t === "rankings" ? rk : uv, format), format)}`);
  const duck = await duckdbRunner(views, Q3);
  const sql = sqlRunner(o, manager, Q3, { rankings: formatDir(rk, format), uservisits: formatDir(uv, format) }, join, (db) => resultCheckSql(db, duck.reference(), { shape: Q3_SHAPE }));
  try {
    log(`Q3 ${format} ${join} join: ${o.runs} rounds of [DuckDB alone, smelter sql] after a warm-up round`);
    const contenders = await rounds(o.runs, [duck.runner, sql.runner], (label) => log(`  Q3 ${format} ${join} ${label}`));
    return { query: "Q3", format, join, strategy: sql.strategy(), groups: duck.rows(), contenders, load: load() };
  } finally {
    await duck.close();
  }
}

function bdbSourceSqlOf(table: "uservisits" | "rankings", dir: string, format: Query2Format): string {
  return bdbSourceSql(table, query2Files(dir, format), format);
}

// ---------------------------------------------------------------------------------------------
// Contenders.

/**
 * DuckDB alone: one database in this process with all cores over the local files, timed from
 * sending the SQL to every result row in JS (timeDuckdbAlone in _peers.ts). Its warm-up run writes
 * the result as Parquet in a temp directory instead: the reference, which the Smelter runs' results
 * are checked against inside DuckDB (resultCheckSql). It stays on disk, not in this process, which
 * is also Smelter's coordinator: a JS Map of millions of groups made its collections slow.
 */
async function duckdbRunner(setup: string[], sql: string) {
  const dir = await mkdtemp(join(tmpdir(), "smelter-bench-sql-ref-"));
  const referencePath = join(dir, "reference.parquet");
  let db: DuckDb | undefined;
  let rows: number | undefined;
  try {
    db = await openDuckDb({ threads: availableParallelism() });
    for (const s of setup) await db.run(s);
  } catch (err) {
    db?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const open = db;
  const runner: Runner = {
    name: "DuckDB alone",
    once: async () => {
      if (rows !== undefined) {
        const { wallS, cpuS } = await timeDuckdbAlone(open, sql);
        return { wallS, cpuS };
      }
      const { wallS, cpuS } = await timeInProcess(() => open.run(`COPY (${sql}) TO ${sqlString(referencePath)} (FORMAT parquet)`));
      rows = Number(await open.value(`SELECT count(*) FROM read_parquet(${sqlString(referencePath)})`));
      return { wallS, cpuS };
    },
  };
  const ran = () => {
    if (rows === undefined) throw new Error("DuckDB alone has not run yet: it runs first in the warm-up round");
    return rows;
  };
  return {
    runner,
    /** The reference result's Parquet file. */
    reference: () => (ran(), referencePath),
    /** Rows of the reference result. */
    rows: ran,
    close: async () => {
      open.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `smelter sql` on the warm pool, as src/cli/sql.ts runs it: tables from `--table NAME=DIR/
 * --schema NAME=bdb:NAME` (listing, CSV sniff), planQuery with the CLI's plan options, then
 * executePlan; planning is timed as part of the run.
 */
function sqlRunner(o: Options, manager: Manager, query: string, tables: Record<string, string>, join: SqlFlags["join"], check: (db: DuckDb) => Promise<ResultCheck>) {
  const flags: SqlFlags = {
    table: Object.entries(tables).map(([name, dir]) => `${name}=${dir}/`),
    schema: Object.keys(tables).map((name) => `${name}=bdb:${name}`),
    join,
    allowSingleTask: false,
    ...(o.partitions ? { partitions: o.partitions } : {}),
  };
  let strategy = "";
  const runner: Runner = {
    name: "smelter sql",
    once: (last) =>
      withDb(async (db) => {
        let planS = 0;
        const run = await measureJob(async (onJob) => {
          const t0 = performance.now();
          const catalog = await tablesFromFlags(flags);
          const plan = await planQuery(query, catalog.tables, planOptions(flags, manager.maxConcurrentTasks));
          planS = (performance.now() - t0) / 1000;
          strategy = plan.strategy;
          const r = await executePlan(manager, db, plan, { listings: catalog.listings, ...(o.taskBytes ? { targetTaskBytes: o.taskBytes } : {}), threadsPerTask: o.threadsPerTask ?? 1 }, { onJob });
          const first = plan.stages[0]!.output;
          return { groups: r.rows, mapTasks: r.tasks[0] ?? 0, partitions: first.kind === "shuffle" ? first.partitions : 1 };
        });
        return { wallS: run.wallS, cpuS: smelterCpuS(run), run, planS, ...(last ? { check: await check(db) } : {}) };
      }),
  };
  return { runner, strategy: () => strategy };
}

function smelterCpuS(run: SmelterRun): number {
  return (run.totals.reduce((n, t) => n + t.cpuMs, 0) + run.managerCpuMs) / 1000;
}

async function withDb<T>(f: (db: DuckDb) => Promise<T>): Promise<T> {
  const db = await openDuckDb();
  try {
    return await f(db);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Rounds and their summaries.

/**
 * A warm-up round (DuckDB alone first: its result is the reference), then `runs` timed rounds of
 * every runner, the order rotating round by round so that no runner always follows the same one.
 * The last round also checks every Smelter result.
 */
async function rounds(runs: number, runners: Runner[], log: (label: string) => void): Promise<Contender[]> {
  const samples: Sample[][] = runners.map(() => []);
  for (let round = 0; round <= runs; round++) {
    for (let k = 0; k < runners.length; k++) {
      const i = (k + round) % runners.length;
      const r = runners[i]!;
      const sample = await r.once(round === runs);
      samples[i]!.push(sample);
      const extra = sample.run ? ` (${sample.run.groups.toLocaleString("en-US")} rows, ${sample.run.mapTasks} first-stage tasks, R ${sample.run.partitions}${sample.planS !== undefined ? `, plan ${sample.planS.toFixed(2)} s` : ""})` : "";
      log(`${r.name} ${round === 0 ? "warm-up" : `run ${round}`}: ${sample.wallS.toFixed(2)} s${extra}; load ${load().join(" ")}${sample.check && !sample.check.equal ? ` !! result differs from DuckDB alone: ${JSON.stringify(sample.check.mismatches)}` : ""}`);
    }
  }
  const base = samples[0]!.slice(1).map((x) => x.wallS);
  return runners.map((r, i) => contender(r.name, samples[i]!, base));
}

function contender(name: string, samples: Sample[], base: number[]): Contender {
  const [cold, ...timed] = samples as [Sample, ...Sample[]];
  const runsS = timed.map((x) => +x.wallS.toFixed(3));
  const runs = timed.flatMap((x) => (x.run ? [x.run] : []));
  const out: Contender = { name, coldS: +cold.wallS.toFixed(3), runsS, medianS: +median(runsS).toFixed(3), cpuS: +median(timed.map((x) => x.cpuS)).toFixed(2), ratioOfRounds: +median(runsS.map((s, i) => s / base[i]!)).toFixed(2) };
  if (runs.length === 0) return out;
  const med = (f: (r: SmelterRun) => number) => median(runs.map(f));
  const plans = timed.flatMap((x) => (x.planS !== undefined ? [x.planS] : []));
  const check = timed[timed.length - 1]!.check;
  return {
    ...out,
    beforeFirstTaskMs: Math.round(med((r) => Math.min(...r.attempts.map((a) => a.launched)) - r.t0)),
    afterLastStageMs: Math.round(med((r) => r.t1 - Math.max(...r.attempts.map((a) => a.done ?? 0)))),
    ...(plans.length ? { planS: +median(plans).toFixed(3) } : {}),
    cpuSplitS: { workers: +(med((r) => r.totals.reduce((n, t) => n + t.cpuMs, 0)) / 1000).toFixed(2), manager: +(med((r) => r.managerCpuMs) / 1000).toFixed(2) },
    workerPeakRssMB: Math.round(Math.max(...[cold.run!, ...runs].flatMap((r) => r.totals.map((t) => t.peakRssBytes))) / MiB),
    stages: stageSummaries(runs),
    ...(check ? { check } : {}),
  };
}

function stageSummaries(runs: SmelterRun[]): StageSummary[] {
  const last = runs[runs.length - 1]!;
  return [...last.totals]
    .sort((a, b) => a.stage - b.stage)
    .map((t) => {
      const of = (r: SmelterRun) => r.totals.find((x) => x.stage === t.stage);
      const phases = [...new Set(runs.flatMap((r) => Object.keys(of(r)?.counters ?? {}).filter((k) => k.endsWith("Ms"))))].sort();
      return {
        name: t.name,
        tasks: t.tasks,
        elapsedMs: Math.round(median(runs.map((r) => of(r)?.elapsedMs ?? 0))),
        cpuS: +(median(runs.map((r) => of(r)?.cpuMs ?? 0)) / 1000).toFixed(2),
        writtenMB: Math.round(median(runs.map((r) => of(r)?.counters.bytesWritten ?? 0)) / MiB),
        phasesMs: Object.fromEntries(phases.map((k) => [k, Math.round(median(runs.map((r) => of(r)?.counters[k] ?? 0)))])),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// The report.

const fmtS = (s: number) => `${s.toFixed(2)} s`;
const ratio = (a: number, b: number) => (a / b).toFixed(2);

/** The Markdown tables of a result (what bench/sql.ts prints and writes into docs/performance.md). */
export function sqlBenchTable(r: SqlBenchResult, label?: string): string {
  const uv = r.uservisits;
  const rk = r.rankings;
  const lines = [
    `uservisits: ${uv.rows.toLocaleString("en-US")} rows (CSV ${mb(uv.csvBytes)}, Parquet ${mb(uv.parquetBytes)}, ${uv.files} objects each)` +
      (rk ? `; rankings: ${rk.rows.toLocaleString("en-US")} rows (CSV ${mb(rk.csvBytes)}, Parquet ${mb(rk.parquetBytes)}, ${rk.files} objects each)` : "") +
      `; local dir store, processes backend, ${r.options.workers} workers; ${r.cores} cores; median of ${r.options.runs} interleaved rounds after a warm-up round; load average ${r.load.start.join(" ")} at start, ${r.load.end.join(" ")} at end.${label ? ` ${label}.` : ""}`,
  ];
  const q2 = r.comparisons.filter((c) => c.query === "2A");
  if (q2.length) {
    lines.push("", "Query 2A: `" + Q2A_SQL + "`", "");
    lines.push("| format | DuckDB alone | runQuery2 (query2) | smelter sql (of which planning) | sql / query2 (medians; per round) | query2 / DuckDB | sql / DuckDB | CPU s: DuckDB / query2 / sql | same result |", "|---|---|---|---|---|---|---|---|---|");
    for (const c of q2) {
      const [duck, query2, sql] = c.contenders as [Contender, Contender, Contender];
      const perRound = median(sql.runsS.map((s, i) => s / query2.runsS[i]!));
      lines.push(
        `| ${c.format} | ${fmtS(duck.medianS)} | ${fmtS(query2.medianS)} | ${fmtS(sql.medianS)} (${fmtS(sql.planS ?? 0)}) | **${ratio(sql.medianS, query2.medianS)}**; ${perRound.toFixed(2)} | ${ratio(query2.medianS, duck.medianS)} | ${ratio(sql.medianS, duck.medianS)} | ${duck.cpuS} / ${query2.cpuS} / ${sql.cpuS} | ${checkCell(c, [query2, sql])} |`,
      );
    }
  }
  const q3 = r.comparisons.filter((c) => c.query === "Q3");
  if (q3.length) {
    lines.push("", "BDB Query 3 (rankings joined with uservisits, visitDate in 1980-1995, top sourceIP by revenue):", "");
    lines.push("| format | join | DuckDB alone | smelter sql (of which planning) | sql / DuckDB (medians; per round) | CPU s: DuckDB / sql | stages: tasks | same result |", "|---|---|---|---|---|---|---|---|");
    for (const c of q3) {
      const [duck, sql] = c.contenders as [Contender, Contender];
      lines.push(`| ${c.format} | ${c.join} | ${fmtS(duck.medianS)} | ${fmtS(sql.medianS)} (${fmtS(sql.planS ?? 0)}) | ${ratio(sql.medianS, duck.medianS)}; ${sql.ratioOfRounds.toFixed(2)} | ${duck.cpuS} / ${sql.cpuS} | ${(sql.stages ?? []).map((s) => s.tasks).join(" + ")} | ${checkCell(c, [sql])} |`);
    }
  }
  lines.push("", "Where Smelter's time went (medians, ms): call to the first task (listing, planning), each stage from its first launch to its last success with its CPU, the bytes it wrote and the workers' phase timers summed over its tasks, and last stage done to return (gather, coordinator SQL):", "");
  lines.push("| query | format | path | to first task | stages: elapsed ms (CPU s; MiB written) [phases ms] | after last stage | CPU workers / manager s |", "|---|---|---|---|---|---|---|");
  for (const c of r.comparisons) {
    for (const x of c.contenders.filter((k) => k.stages)) {
      const stages = x.stages!.map((s) => `${s.name}: ${s.elapsedMs} (${s.cpuS}; ${s.writtenMB} MiB) [${Object.entries(s.phasesMs).map(([k, v]) => `${k.replace(/Ms$/, "")} ${v}`).join(", ")}]`).join("<br>");
      lines.push(`| ${c.query}${c.join ? ` ${c.join}` : ""} | ${c.format} | ${x.name} | ${x.beforeFirstTaskMs} | ${stages} | ${x.afterLastStageMs} | ${x.cpuSplitS!.workers} / ${x.cpuSplitS!.manager} |`);
    }
  }
  return lines.join("\n");
}

function checkCell(c: Comparison, xs: Contender[]): string {
  const ok = xs.every((x) => x.check?.equal);
  const rel = Math.max(...xs.map((x) => x.check?.maxRelError ?? Number.POSITIVE_INFINITY));
  return ok ? `yes (${c.groups.toLocaleString("en-US")} ${c.query === "Q3" ? "row" : "groups"}, max rel ${rel.toExponential(0)})` : "NO";
}

function mb(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}
