/**
 * `npm run bench query2 [-- options]`: the headline benchmark (../shared/BENCH.md, issue 4).
 *
 *   SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 *
 * Data: `--rows` (10M) uservisits rows, seed `--seed` (1), as `--files` (8) CSV objects and the
 * same rows as Parquet, generated once into .smelter/bench/query2/ (gitignored; a marker file
 * records rows, seed and files) and reused (bench/_bdb-data.ts).
 *
 * For each query (2A/2B/2C) and format (csv/parquet): DuckDB alone on the local files (all
 * cores) and Smelter's runQuery2 on the processes backend with `--workers` (2) workers, on each
 * store (local dir / embedded S3, the same files uploaded into a bucket once), interleaved round
 * by round so that both see the same machine load: one pool per store, created before its cold
 * first run (process start and DuckDB load included; it is also the warm-up) and reused for the
 * `--runs` timed rounds (a warm cluster). Reported: the medians and their ratio Smelter / DuckDB
 * (and the median of the per-round ratios), rows/s/core, bytes read, peak RSS of the manager
 * (sampled) and of the largest worker, a result check against DuckDB (relative 1e-6), and where
 * the time went (attempt timestamps, CPU of workers / manager / S3 server, workers' phase timers).
 * Then 2C's reducer peak memory for R = 1, 4, 16, and the peers (Polars, DataFusion, chDB,
 * Lithops, Dask, Daft, smallpond) on the same local files where installed (`npm run
 * setup:peers`; a peer that is not is skipped with a line saying why), each checked against DuckDB.
 *
 * Prints a table, appends a JSON line to bench/results/query2.jsonl and writes the table into
 * docs/performance.md (between the query2 markers of its "Query 2" section).
 *
 * Options: --rows N --seed S --files F --runs N --workers N --queries 2A,2B,2C --formats csv,parquet
 * --stores local,s3 (s3: the embedded s3rver; versitygw: the compiled S3 server in .tools/bin, on
 * loopback; one of the two per run) --r-sweep 1,4,16 (empty: skip) --skip-peers
 * --peers polars,datafusion,chdb,lithops,dask,daft,smallpond
 * --peer-runs N --lithops-queries 2A --lithops-runs 1 --task-bytes N --threads-per-task N --combine auto|always|skip
 * --partitions R --worker-cpu-prof DIR --no-docs --no-record --label TEXT
 */
import { createReadStream, statSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { z } from "zod";
import { processesBackend } from "../src/backends/index.js";
import { openDuckDb, sqlString } from "../src/duckdb/index.js";
import { Manager } from "../src/scheduler/manager.js";
import type { ObjectStore } from "../src/storage/contract.js";
import { startS3Server, type S3Server } from "../src/storage/server.js";
import { openStore } from "../src/storage/url.js";
import { startCompleteS3Server } from "../test/helpers/s3-complete.js";
import { BENCH_DATA_ROOT, bdbData, datasetOf, formatDir } from "./_bdb-data.js";
import { compareResults, duckdbAlone, isUnavailable, PEER_ENGINES, QUERY2_PREFIX_LEN, query2Files, query2Sql, readQuery2Result, resultCheckSql, runPeer, timeDuckdbAlone, uservisitsSourceSql, type PeerEngine, type Query2Format, type Query2Timing, type ResultCheck } from "./_peers.js";
import { counter, findChildPid, measureRun, stageTotals, timeline, type SmelterRun, type Timeline } from "./_query2-measure.js";
import { badOption, benchArgs, intOption } from "./_args.js";
import { median, record, writeDocsSection } from "./_record.js";

const ENTRY = new URL("../src/builtin-workers/builtin.js", import.meta.url);
/** With --worker-cpu-prof: the same workers, ending on SIGTERM so that the profile is written. */
const PROFILED_ENTRY = new URL("./_profiled-entry.js", import.meta.url);
const MiB = 2 ** 20;

const args = benchArgs(import.meta.url, "query2", {
  rows: { type: "string", default: "10000000" },
  seed: { type: "string", default: "1" },
  files: { type: "string", default: "8" },
  runs: { type: "string", default: "5" },
  workers: { type: "string", default: "2" },
  queries: { type: "string", default: "2A,2B,2C" },
  formats: { type: "string", default: "csv,parquet" },
  stores: { type: "string", default: "local,s3" },
  "r-sweep": { type: "string", default: "1,4,16" },
  "skip-peers": { type: "boolean", default: false },
  peers: { type: "string", default: PEER_ENGINES.join(",") },
  "peer-runs": { type: "string", default: "5" },
  "lithops-queries": { type: "string", default: "2A" },
  "lithops-runs": { type: "string", default: "1" },
  "task-bytes": { type: "string" },
  combine: { type: "string" },
  "threads-per-task": { type: "string" },
  partitions: { type: "string" },
  "worker-cpu-prof": { type: "string" },
  "no-docs": { type: "boolean", default: false },
  "no-record": { type: "boolean", default: false },
  label: { type: "string" },
});

const rows = int("rows");
const seed = int("seed");
const files = int("files");
const runs = int("runs");
const workers = int("workers");
const cores = availableParallelism();
const queries = list("queries").map((q) => {
  const x = (QUERY2_PREFIX_LEN as Record<string, number>)[q.toUpperCase()];
  if (x === undefined) badOption(`--queries: ${q} is not one of 2A, 2B, 2C`);
  return { name: q.toUpperCase(), prefixLen: x };
});
const formats = list("formats") as Query2Format[];
for (const f of formats) if (f !== "csv" && f !== "parquet") badOption(`--formats: ${f} is not csv or parquet`);
/** Where Smelter reads the files: the local dir, or a bucket on an S3 server on loopback (s3rver or versitygw). */
type StoreKind = "local" | "s3" | "versitygw";
const STORE_KINDS: StoreKind[] = ["local", "s3", "versitygw"];
const stores = list("stores") as StoreKind[];
for (const s of stores) if (!STORE_KINDS.includes(s)) badOption(`--stores: ${s} is not one of ${STORE_KINDS.join(", ")}`);
// The manager reads s3://bench through the process's AWS_* endpoint: one S3 server per run.
if (stores.includes("s3") && stores.includes("versitygw")) badOption("--stores: give s3 or versitygw, not both (the manager has one S3 endpoint per run)");
const s3Kind = stores.find((s) => s !== "local");
const storeLabel = (s: StoreKind) => (s === "local" ? "local dir" : s === "s3" ? "embedded S3" : "versitygw S3");
const storeShort = (s: StoreKind) => (s === "local" ? "local" : s === "s3" ? "S3" : "vgw");
const rSweep = list("r-sweep").map(Number);
const peers = args["skip-peers"] ? [] : (list("peers") as PeerEngine[]);
for (const p of peers) if (!PEER_ENGINES.includes(p)) badOption(`--peers: ${p} is not one of ${PEER_ENGINES.join(", ")}`);
const lithopsQueries = list("lithops-queries").map((q) => q.toUpperCase());
const tuning = {
  ...(args["task-bytes"] ? { targetTaskBytes: int("task-bytes") } : {}),
  ...(args["threads-per-task"] ? { threadsPerTask: int("threads-per-task") } : {}),
  ...(args.combine ? { combine: z.enum(["auto", "always", "skip"]).parse(args.combine) } : {}),
};

function int(name: keyof typeof args): number {
  return intOption(name, args[name] as string | undefined, 0);
}
function list(name: keyof typeof args): string[] {
  return String(args[name] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}
function log(msg: string): void {
  process.stderr.write(`[bench query2] ${msg}\n`);
}
const load = () => loadavg().map((x) => +x.toFixed(2));
log(`machine: ${cores} cores, load ${load().join(" ")}`);

// ---------------------------------------------------------------------------------------------
// Data: generated once, reused (bench/_bdb-data.ts).
const data = await bdbData({ table: "uservisits", rows, seed, files, root: join(BENCH_DATA_ROOT, "query2"), log });

/** The local files as uploaded to S3: `csv/part-NNNNN`, `parquet/part-NNNNN.parquet`. */
function localFiles(format: Query2Format): { key: string; path: string; size: number }[] {
  return query2Files(formatDir(data, format), format).map((path) => ({ key: `${format}/${basename(path)}`, path, size: statSync(path).size }));
}

async function uploadOnce(store: ObjectStore): Promise<number> {
  const t0 = performance.now();
  let uploaded = 0;
  for (const format of formats) {
    const have = new Map<string, number>();
    for await (const info of store.list(`${format}/`)) have.set(info.key, info.size);
    for (const f of localFiles(format)) {
      if (have.get(f.key) === f.size) continue;
      log(`s3: uploading ${f.key} (${(f.size / MiB).toFixed(0)} MiB)`);
      await store.putStream(f.key, createReadStream(f.path, { highWaterMark: 8 * MiB }), { contentType: format === "csv" ? "text/csv" : "application/vnd.apache.parquet" });
      uploaded++;
    }
  }
  if (uploaded) log(`s3: uploaded ${uploaded} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return uploaded;
}

// ---------------------------------------------------------------------------------------------
// Smelter runs.
interface ConfigResult {
  query: string;
  prefixLen: number;
  format: Query2Format;
  store: StoreKind;
  workers: number;
  partitions: number;
  mapTasks: number;
  coldS: number;
  runsS: number[];
  medianS: number;
  duckdbMedianS: number;
  ratio: number;
  /** Median over rounds of Smelter's run / DuckDB alone's run of the same round. */
  ratioOfRounds: number;
  rowsPerSecPerCore: number;
  bytesRead: { total: number; map: number; reduce: number };
  readRequests: { map: number; reduce: number };
  bytesWritten: { map: number; reduce: number };
  /** Every counter of the last warm run, summed over each stage's winning attempts. */
  counters: { map: Record<string, number>; reduce: Record<string, number> };
  managerPeakRssMB: number;
  managerRssBeforeMB: number;
  workerPeakRssMB: number;
  groups: number;
  check: ResultCheck;
  /** Medians over the warm runs. */
  timeline: Timeline;
  cpuS: { workers: number; manager: number; s3?: number; mapTasks: number; reduceTasks: number; duckdb: number };
  /** The job's CPU (workers' tasks + manager; the S3 server's apart) / DuckDB alone's: medians; median of per-round ratios. */
  cpuRatio: number;
  cpuRatioOfRounds: number;
  /** Summed per-phase timers of the workers (ms, medians over warm runs), when the workers report them. */
  phasesMs: Record<string, number>;
  load: number[];
}

function roundAll(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));
}

function medianOf<T>(xs: T[], f: (x: T) => number): number {
  return median(xs.map(f));
}

function newManager(env: Record<string, string>): Manager {
  const profDir = args["worker-cpu-prof"];
  return new Manager({
    backend: processesBackend({
      entry: profDir ? PROFILED_ENTRY : ENTRY,
      workers,
      env,
      ...(profDir ? { execArgv: ["--cpu-prof", "--cpu-prof-dir", profDir] } : {}),
    }),
  });
}

/**
 * One query on one format, interleaved round by round so that DuckDB alone and Smelter see the
 * same machine load: a cold Smelter run per store (a fresh pool each: process start, DuckDB
 * load), then `runs` rounds of [DuckDB alone, Smelter on each store]. DuckDB alone is warmed up
 * and its reference result taken by duckdbAlone (bench/_peers.ts); its timed runs are the same
 * SQL in one open database, timed the same way (runAndReadAll), one per round.
 */
async function queryFormat(q: { name: string; prefixLen: number }, format: Query2Format, s3Pid: number | undefined): Promise<{ base: Query2Timing; configs: ConfigResult[] }> {
  const dir = formatDir(data, format);
  const { result: refMap, ...ref } = await duckdbAlone({ input: dir, format, prefixLen: q.prefixLen, runs: 1, warmup: 1 });
  refMap.clear();
  const duck = await openDuckDb({ threads: cores });
  const sql = query2Sql(uservisitsSourceSql(query2Files(dir, format), format), q.prefixLen);
  // The reference result stays on disk while Smelter runs: held as a JS Map of millions of
  // entries, it made each collection of this (the coordinator's) heap take 0.3-0.9 s mid-run.
  const refDir = await mkdtemp(join(tmpdir(), "smelter-bench-ref-"));
  const refPath = join(refDir, "reference.parquet");
  await duck.run(`COPY (${sql}) TO ${sqlString(refPath)} (FORMAT parquet)`);
  const options = (store: StoreKind) =>
    ({ input: store === "local" ? `${dir}/` : `s3://bench/${format}/`, prefixLen: q.prefixLen, format, ...tuning, ...(args.partitions ? { partitions: int("partitions") } : {}) }) as const;
  const per = stores.map((store) => ({ store, manager: newManager(store !== "local" ? s3Env : {}), measured: [] as SmelterRun[], cold: undefined as SmelterRun | undefined, check: undefined as ConfigResult["check"] | undefined, loads: [] as number[][] }));
  const duckTimes: number[] = [];
  /** DuckDB alone's CPU per round: this process's (all its threads'); the pools' workers are idle meanwhile. */
  const duckCpuMs: number[] = [];
  const one = async (p: (typeof per)[number], label: string, last: boolean): Promise<SmelterRun> => {
    const db = await openDuckDb();
    try {
      p.loads.push(load());
      const r = await measureRun(p.manager, db, options(p.store), p.store !== "local" ? s3Pid : undefined);
      log(`  ${q.name} ${format} ${p.store} ${label}: ${r.wallS.toFixed(2)} s (${r.groups.toLocaleString("en-US")} groups, ${r.mapTasks} maps, R ${r.partitions}; load ${p.loads[p.loads.length - 1]!.join(" ")})`);
      if (last) {
        p.check = await resultCheckSql(db, refPath);
        if (!p.check.equal) log(`  !! result differs from DuckDB alone: ${JSON.stringify(p.check.mismatches)}`);
      }
      return r;
    } finally {
      db.close();
    }
  };
  try {
    for (const p of per) p.cold = await one(p, "cold", false);
    for (let i = 1; i <= runs; i++) {
      const { wallS, cpuS } = await timeDuckdbAlone(duck, sql); // every result row materialized in JS, as duckdbAlone times it
      duckTimes.push(wallS);
      duckCpuMs.push(cpuS * 1000);
      log(`  ${q.name} ${format} DuckDB alone run ${i}: ${duckTimes[duckTimes.length - 1]!.toFixed(2)} s`);
      for (const p of per) p.measured.push(await one(p, `run ${i}`, i === runs));
    }
  } finally {
    duck.close();
    for (const p of per) await p.manager.close();
  }
  const refDb = await openDuckDb();
  let result: Query2Timing["result"];
  try {
    await refDb.run(`CREATE TABLE result AS FROM read_parquet(${sqlString(refPath)})`);
    result = await readQuery2Result(refDb); // for the peers' checks, after Smelter's runs
  } finally {
    refDb.close();
    await rm(refDir, { recursive: true, force: true });
  }
  const base: Query2Timing = { ...ref, result, runsS: duckTimes.map((t) => +t.toFixed(3)), medianS: median(duckTimes) };
  return { base, configs: per.map((p) => summarize(q, format, p.store, base, duckCpuMs, p.cold!, p.measured, p.check!, p.loads)) };
}

function summarize(q: { name: string; prefixLen: number }, format: Query2Format, store: StoreKind, base: Query2Timing, duckCpuMs: number[], cold: SmelterRun, measured: SmelterRun[], check: ConfigResult["check"], loads: number[][]): ConfigResult {
  const med = median(measured.map((r) => r.wallS));
  const last = measured[measured.length - 1]!;
  const tls = measured.map(timeline);
  const tlKeys = Object.keys(tls[0]!) as (keyof Timeline)[];
  const tl = Object.fromEntries(tlKeys.map((k) => [k, +medianOf(tls, (t) => t[k]).toFixed(1)])) as unknown as Timeline;
  const phaseNames = new Set<string>();
  for (const r of measured) for (const t of r.totals) for (const k of Object.keys(t.counters)) if (k.endsWith("Ms")) phaseNames.add(`${t.name}.${k}`);
  const phasesMs: Record<string, number> = {};
  for (const p of [...phaseNames].sort()) {
    const [stage, name] = p.split(".") as [string, string];
    phasesMs[p] = Math.round(medianOf(measured, (r) => counter(r, stage, name)));
  }
  const cpu = (r: SmelterRun, s: string) => stageTotals(r, s)?.cpuMs ?? 0;
  const jobCpuMs = (r: SmelterRun) => cpu(r, "map") + cpu(r, "reduce") + r.managerCpuMs;
  const s3Cpu = measured.every((r) => r.s3CpuMs !== undefined) ? +(medianOf(measured, (r) => r.s3CpuMs!) / 1000).toFixed(2) : undefined;
  return {
    query: q.name,
    prefixLen: q.prefixLen,
    format,
    store,
    workers,
    partitions: last.partitions,
    mapTasks: last.mapTasks,
    coldS: +cold.wallS.toFixed(3),
    runsS: measured.map((r) => +r.wallS.toFixed(3)),
    medianS: +med.toFixed(3),
    duckdbMedianS: +base.medianS.toFixed(3),
    ratio: +(med / base.medianS).toFixed(2),
    ratioOfRounds: +median(measured.map((r, i) => r.wallS / base.runsS[i]!)).toFixed(2),
    rowsPerSecPerCore: Math.round(rows / med / cores),
    // Without reducers the coordinator reads every map output: the map stage's bytes written.
    bytesRead: (() => {
      const map = counter(last, "map", "bytesRead");
      const reduce = last.partitions > 0 ? counter(last, "reduce", "bytesRead") : counter(last, "map", "bytesWritten");
      return { total: map + reduce, map, reduce };
    })(),
    readRequests: { map: counter(last, "map", "readRequests"), reduce: counter(last, "reduce", "readRequests") },
    bytesWritten: { map: counter(last, "map", "bytesWritten"), reduce: counter(last, "reduce", "bytesWritten") },
    counters: { map: roundAll(stageTotals(last, "map")?.counters ?? {}), reduce: roundAll(stageTotals(last, "reduce")?.counters ?? {}) },
    managerPeakRssMB: Math.round(Math.max(...measured.map((r) => r.managerPeakRssBytes), cold.managerPeakRssBytes) / MiB),
    managerRssBeforeMB: Math.round(Math.min(...measured.map((r) => r.managerRssBeforeBytes)) / MiB),
    workerPeakRssMB: Math.round(Math.max(...[cold, ...measured].flatMap((r) => r.totals.map((t) => t.peakRssBytes))) / MiB),
    groups: last.groups,
    check,
    timeline: tl,
    cpuS: {
      workers: +(medianOf(measured, (r) => cpu(r, "map") + cpu(r, "reduce")) / 1000).toFixed(2),
      manager: +(medianOf(measured, (r) => r.managerCpuMs) / 1000).toFixed(2),
      ...(s3Cpu !== undefined ? { s3: s3Cpu } : {}),
      mapTasks: +(medianOf(measured, (r) => cpu(r, "map")) / 1000).toFixed(2),
      reduceTasks: +(medianOf(measured, (r) => cpu(r, "reduce")) / 1000).toFixed(2),
      duckdb: +(median(duckCpuMs) / 1000).toFixed(2),
    },
    cpuRatio: +(medianOf(measured, jobCpuMs) / median(duckCpuMs)).toFixed(2),
    cpuRatioOfRounds: +median(measured.map((r, i) => jobCpuMs(r) / duckCpuMs[i]!)).toFixed(2),
    phasesMs,
    load: loads[Math.floor(loads.length / 2)]!,
  };
}

/** 2C on local CSV with R reducers: the largest reducer's peak RSS (max over reduce attempts), one fresh pool per R. */
async function reducerSweep(): Promise<{ r: number; wallS: number; reducerPeakRssMB: number; mapPeakRssMB: number; groups: number; reduceStateMB?: number }[]> {
  const out = [];
  for (const r of rSweep) {
    const manager = newManager({});
    const db = await openDuckDb();
    try {
      const run = await measureRun(manager, db, { input: `${data.csvDir}/`, prefixLen: 12, format: "csv", partitions: r, ...tuning });
      const red = run.attempts.filter((a) => a.stage === 2);
      const state = red.map((a) => a.counters?.reduceStateBytes ?? 0);
      const row = {
        r,
        wallS: +run.wallS.toFixed(2),
        reducerPeakRssMB: Math.round(Math.max(...red.map((a) => a.peakRssBytes ?? 0)) / MiB),
        mapPeakRssMB: Math.round((stageTotals(run, "map")?.peakRssBytes ?? 0) / MiB),
        groups: run.groups,
        ...(state.some((x) => x > 0) ? { reduceStateMB: Math.round(Math.max(...state) / MiB) } : {}),
      };
      log(`  2C R=${r}: ${JSON.stringify(row)}`);
      out.push(row);
    } finally {
      db.close();
      await manager.close();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main.
log(`data: ${rows.toLocaleString("en-US")} rows, CSV ${(data.csvBytes / MiB).toFixed(0)} MiB, Parquet ${(data.parquetBytes / MiB).toFixed(0)} MiB in ${files} files each`);

let server: Pick<S3Server, "stop"> | undefined;
let s3Pid: number | undefined;
let s3Env: Record<string, string> = {};
const results: ConfigResult[] = [];
const baselines: Record<string, Query2Timing> = {};
const peerRows: Record<string, unknown>[] = [];
let sweep: Awaited<ReturnType<typeof reducerSweep>> = [];
const loadStart = load();
try {
  if (s3Kind === "s3") {
    const s3rver = await startS3Server({ dir: join(BENCH_DATA_ROOT, "query2", `s3-${rows}-s${seed}-f${files}`), buckets: ["bench"] });
    server = s3rver;
    s3Env = s3rver.env;
    s3Pid = findChildPid("--smelter-s3rver-child");
    log(`s3: embedded server at ${s3rver.endpoint} (pid ${s3Pid ?? "?"})`);
  } else if (s3Kind === "versitygw") {
    // Its posix data directory is kept between runs (the bucket's objects are uploaded once).
    const vgwDir = join(BENCH_DATA_ROOT, "query2", `vgw-${rows}-s${seed}-f${files}`);
    await mkdir(vgwDir, { recursive: true });
    const vgw = await startCompleteS3Server({ dir: vgwDir, buckets: ["bench"] });
    server = vgw;
    s3Env = { AWS_ENDPOINT_URL_S3: vgw.endpoint, AWS_ACCESS_KEY_ID: vgw.accessKeyId, AWS_SECRET_ACCESS_KEY: vgw.secretAccessKey, AWS_REGION: vgw.region };
    s3Pid = findChildPid("versitygw");
    log(`s3: versitygw at ${vgw.endpoint} (pid ${s3Pid ?? "?"})`);
  }
  if (s3Kind) {
    Object.assign(process.env, s3Env); // the manager's S3 client (listing, manifest, gather)
    await uploadOnce((await openStore("s3://bench/")).store);
  }
  for (const q of queries) {
    for (const format of formats) {
      const key = `${q.name}-${format}`;
      log(`${q.name} ${format}: ${runs} rounds of [DuckDB alone (${cores} threads), Smelter on ${stores.join(", ")}] after a warm-up / cold run`);
      const { base, configs } = await queryFormat(q, format, s3Pid);
      baselines[key] = base;
      results.push(...configs);
      log(`  DuckDB alone: median ${base.medianS.toFixed(3)} s (${base.runsS.map((s) => s.toFixed(3)).join(", ")}), ${base.groups.toLocaleString("en-US")} groups`);
      for (const engine of peers) {
        if (engine === "lithops" && !lithopsQueries.includes(q.name)) continue;
        const lith = engine === "lithops";
        const p = await runPeer(engine, { input: formatDir(data, format), format, prefixLen: q.prefixLen, runs: lith ? int("lithops-runs") : int("peer-runs"), warmup: lith ? 0 : 1 });
        if (isUnavailable(p)) {
          log(`  ${engine}: SKIPPED, ${p.unavailable}`);
          peerRows.push({ query: q.name, format, engine, unavailable: p.unavailable });
          continue;
        }
        const c = compareResults(base.result, p.result);
        log(`  ${engine}: median ${p.medianS.toFixed(3)} s = ${(p.medianS / base.medianS).toFixed(2)}x DuckDB, equal ${c.equal} (max rel ${c.maxRelError.toExponential(1)})`);
        peerRows.push({ query: q.name, format, engine, version: p.version, runsS: p.runsS, medianS: p.medianS, ratio: +(p.medianS / base.medianS).toFixed(2), equal: c.equal, maxRelError: c.maxRelError, maxRssMB: Math.round(p.maxRssKb / 1024), maxRssChildrenMB: Math.round(p.maxRssChildrenKb / 1024) });
      }
      base.result.clear(); // let the 2C maps go
    }
  }
  if (rSweep.length) {
    log(`2C reducer memory for R = ${rSweep.join(", ")} (local CSV)`);
    sweep = await reducerSweep();
  }
} finally {
  await server?.stop();
}

// ---------------------------------------------------------------------------------------------
// Report.
const mb = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
const fmtS = (s: number) => `${s.toFixed(2)} s`;
const lines: string[] = [];
const loadEnd = load();
lines.push(
  `${rows.toLocaleString("en-US")} rows (CSV ${mb(data.csvBytes)}, Parquet ${mb(data.parquetBytes)}, ${files} objects each); processes backend, ${workers} workers; ${cores} cores; load average ${loadStart.join(" ")} at start, ${loadEnd.join(" ")} at end.${args.label ? ` ${args.label}.` : ""}`,
  "",
  "| query | format | store | Smelter median (cold) | DuckDB alone | Smelter / DuckDB (medians; per round) | rows/s/core | maps / R | bytes read (input + shuffle) | peak RSS manager / worker | same result |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
);
for (const r of results) {
  lines.push(
    `| ${r.query} | ${r.format} | ${storeLabel(r.store)} | ${fmtS(r.medianS)} (${fmtS(r.coldS)}) | ${fmtS(r.duckdbMedianS)} | ${r.ratio.toFixed(2)}; ${r.ratioOfRounds.toFixed(2)} | ${(r.rowsPerSecPerCore / 1e6).toFixed(2)}M | ${r.mapTasks} / ${r.partitions || "coordinator"} | ${mb(r.bytesRead.map)} + ${mb(r.bytesRead.reduce)} | ${r.managerPeakRssMB} / ${r.workerPeakRssMB} MiB | ${r.check.equal ? `yes (${r.groups.toLocaleString("en-US")} groups, max rel ${r.check.maxRelError.toExponential(0)})` : "NO"} |`,
  );
}
lines.push("", "Where the wall time went (medians of the warm runs, ms): call to first map launched / map stage (first launch to last map done) / reducers' tail after the last map (- without reducers) / gather of the reducers' outputs or, without reducers, the coordinator's merge of the map outputs, + cleanup; CPU seconds of the workers / manager / S3 server, and the job's CPU (workers + manager, the S3 server apart) / DuckDB alone's CPU in the same rounds (medians; per round). `R = coordinator`: no reduce stage, the partials were small enough for the coordinator to finish the sums (src/query/query2.ts: the SQL planner's rule).", "");
lines.push("| query | format | store | to first map | map stage | reduce tail | gather | wall | CPU workers (map + reduce) | CPU manager | CPU S3 server | CPU DuckDB alone | job CPU / DuckDB's |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const t = r.timeline;
  lines.push(
    `| ${r.query} | ${r.format} | ${storeShort(r.store)} | ${t.toFirstMapMs} | ${t.mapStageMs} | ${r.partitions ? t.reduceTailMs : "-"} | ${t.gatherMs} | ${t.wallMs} | ${r.cpuS.workers} (${r.cpuS.mapTasks} + ${r.cpuS.reduceTasks}) | ${r.cpuS.manager} | ${r.cpuS.s3 ?? "-"} | ${r.cpuS.duckdb} | ${r.cpuRatio.toFixed(2)}; ${r.cpuRatioOfRounds.toFixed(2)} |`,
  );
}
const s3Costs = results.flatMap((r) => {
  const local = results.find((l) => l.store === "local" && l.query === r.query && l.format === r.format);
  return r.store !== "local" && local ? [{ r, local }] : [];
});
if (s3Costs.length) {
  lines.push("", "Client-side CPU to read through S3: workers' CPU through S3 minus from the local dir, per GiB the maps read through S3 (the S3 server's own CPU apart):", "", "| query | format | store | workers CPU S3 / local (s) | GiB read | client CPU-s/GiB | S3 server CPU-s/GiB |", "|---|---|---|---|---|---|---|");
  for (const { r, local } of s3Costs) {
    const gib = r.bytesRead.map / 2 ** 30;
    lines.push(`| ${r.query} | ${r.format} | ${storeShort(r.store)} | ${r.cpuS.workers} / ${local.cpuS.workers} | ${gib.toFixed(2)} | ${((r.cpuS.workers - local.cpuS.workers) / gib).toFixed(2)} | ${r.cpuS.s3 !== undefined ? (r.cpuS.s3 / gib).toFixed(2) : "-"} |`);
  }
}
if (results.some((r) => Object.keys(r.phasesMs).length)) {
  const names = [...new Set(results.flatMap((r) => Object.keys(r.phasesMs)))].sort();
  lines.push("", "Workers' phase timers, summed over tasks (ms, median of the warm runs):", "", `| query | format | store | ${names.join(" | ")} |`, `|---|---|---|${names.map(() => "---").join("|")}|`);
  for (const r of results) lines.push(`| ${r.query} | ${r.format} | ${storeShort(r.store)} | ${names.map((n) => r.phasesMs[n] ?? "-").join(" | ")} |`);
}
if (sweep.length) {
  lines.push("", "2C, local CSV, largest reducer's peak RSS by R (one run each, a fresh pool per R):", "", "| R | wall | reducer peak RSS | map peak RSS | groups |", "|---|---|---|---|---|");
  for (const s of sweep) lines.push(`| ${s.r} | ${fmtS(s.wallS)} | ${s.reducerPeakRssMB} MiB${s.reduceStateMB !== undefined ? ` (DuckDB state ${s.reduceStateMB} MiB)` : ""} | ${s.mapPeakRssMB} MiB | ${s.groups.toLocaleString("en-US")} |`);
}
if (peerRows.length) {
  const engines = [...new Set(peerRows.map((p) => p.engine as string))];
  lines.push(
    "",
    "Peers on the same local files (median after 1 warm-up; Lithops: one run, no warm-up), x DuckDB alone in the same run; Smelter's local-dir median beside them:",
    "",
    `| query | format | DuckDB alone | Smelter (local dir) | ${engines.join(" | ")} |`,
    `|---|---|---|---|${engines.map(() => "---").join("|")}|`,
  );
  for (const key of Object.keys(baselines)) {
    const [query, format] = key.split("-") as [string, string];
    const cell = (e: string) => {
      const p = peerRows.find((x) => x.query === query && x.format === format && x.engine === e);
      if (!p) return "-";
      if ("unavailable" in p) return "skipped";
      return `${(p.ratio as number).toFixed(2)}x (${(p.medianS as number).toFixed(2)} s)${p.equal ? "" : " WRONG"}`;
    };
    const own = results.find((r) => r.query === query && r.format === format && r.store === "local");
    lines.push(`| ${query} | ${format} | ${fmtS(baselines[key]!.medianS)} | ${own ? `${own.ratio.toFixed(2)}x (${fmtS(own.medianS)})` : "-"} | ${engines.map(cell).join(" | ")} |`);
  }
  const skipped = new Map<string, string>();
  for (const p of peerRows) if ("unavailable" in p && !skipped.has(p.engine as string)) skipped.set(p.engine as string, String(p.unavailable));
  for (const [engine, why] of skipped) lines.push("", `Skipped ${engine}: ${why}`);
}
const table = lines.join("\n");
console.log(table);

const summary = {
  label: args.label,
  rows,
  seed,
  files,
  workers,
  tuning,
  dataset: datasetOf(data),
  load: { start: loadStart, end: loadEnd },
  configs: results,
  duckdb: Object.fromEntries(Object.entries(baselines).map(([k, b]) => [k, { version: b.version, runsS: b.runsS, medianS: b.medianS, groups: b.groups }])),
  reducerSweep: sweep,
  peers: peerRows,
};
if (!args["no-record"]) log(`recorded in ${record("query2", summary)}`);
if (!args["no-docs"]) log(`table written to ${writeDocsSection("query2", "Query 2", table)}`);
