/**
 * `npm run bench calibrate [-- options]`: does the simulator predict real runs? (issue 14,
 * docs/simulation.md "Calibration against real runs").
 *
 * Query 2A (`smelter query2`'s SQL plan) runs for real on the processes backend (`--workers` 2)
 * reading the embedded S3 server (what `npm start` uses), over uservisits of every size in
 * `--sizes` (rows; 1M, 2M, 5M, 10M by default), generated once into .smelter/bench/calibrate/ as
 * `--files` (8) CSV objects and uploaded into the server's bucket once. Every run is a fresh pool
 * (process start and DuckDB load included, as a CLI run), timed from runQuery2's call to its
 * return; `--rounds` (2) rounds of every size, interleaved so that all sizes see the same machine
 * load (after one untimed warm-up run: the coordinator's planning session opens once per
 * process); the 1-minute load average is recorded before and after every run, and before a round the
 * bench waits (up to `--wait-until`, UTC HH:MM) while the load is over `--max-load`.
 *
 * The FIRST size is the calibration: its runs alone give the machine's parameters
 * (src/simulate/calibrate.ts: CPU scale of the task model, a worker's share of a core, process
 * start, set-up, the coordinator's speed). Then `simulateQuery2` on the processes model with that
 * calibration predicts every run (5 seeds, median), for the machine as a probe found it around
 * that run (the share of a core a busy loop gets: src/simulate/calibrate.ts atSpeed), and the table compares prediction and real
 * wall time (median of the rounds) with the error, and where the time went (set-up, tasks,
 * coordinator) in both. Appends a JSON line to bench/results/calibrate.jsonl.
 *
 * Options: --sizes 1000000,2000000,5000000,10000000 --rounds 2 --workers 2 --files 8 --seeds 5
 * --max-load 4 --wait-until 19:15 --no-record --label TEXT
 */
import { createReadStream, statSync } from "node:fs";
import { loadavg } from "node:os";
import { basename, join } from "node:path";
import { processesBackend } from "../src/backends/index.js";
import { openDuckDb } from "../src/duckdb/index.js";
import type { SmelterEvent } from "../src/job/events.js";
import { Manager } from "../src/scheduler/manager.js";
import { atSpeed, coordinatorScale, fitMachine, medianOf, phases, probeCoreShare, type Calibration, type Phases, type RunTimes } from "../src/simulate/calibrate.js";
import { simulateQuery2, uservisitsForQuery2, type Query2SimOptions } from "../src/simulate/query2.js";
import { prepareSimulation } from "../src/simulate/sql.js";
import { estimateStages } from "../src/simulate/sql-model.js";
import { query2Sql } from "../src/query/query2.js";
import { startS3Server } from "../src/storage/server.js";
import { openStore } from "../src/storage/url.js";
import { badOption, benchArgs } from "./_args.js";
import { BENCH_DATA_ROOT, bdbData, type BdbData } from "./_bdb-data.js";
import { query2Files } from "./_peers.js";
import { findChildPid, measureRun, type SmelterRun } from "./_query2-measure.js";
import { record } from "./_record.js";

const ENTRY = new URL("../src/builtin-workers/builtin.js", import.meta.url);
const MiB = 2 ** 20;
const ROOT = join(BENCH_DATA_ROOT, "calibrate");

const args = benchArgs(import.meta.url, "calibrate", {
    sizes: { type: "string", default: "1000000,2000000,5000000,10000000" },
    rounds: { type: "string", default: "2" },
    workers: { type: "string", default: "2" },
    files: { type: "string", default: "8" },
    seeds: { type: "string", default: "5" },
    "max-load": { type: "string", default: "4" },
    "wait-until": { type: "string", default: "19:15" },
    "no-record": { type: "boolean", default: false },
    label: { type: "string" },
  });

const num = (name: keyof typeof args): number => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < 0) badOption(`--${name} must be a non-negative number, got ${String(args[name])}`);
  return v;
};
const sizes = String(args.sizes).split(",").map(Number);
if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1000)) badOption("--sizes: give at least two row counts (the first is the calibration)");
const rounds = num("rounds");
const workers = num("workers");
const files = num("files");
const seeds = num("seeds");
const maxLoad = num("max-load");
const waitUntil = (() => {
  const m = /^(\d\d):(\d\d)$/.exec(String(args["wait-until"]));
  if (!m) badOption("--wait-until must be HH:MM (UTC)");
  const d = new Date();
  d.setUTCHours(Number(m[1]), Number(m[2]), 0, 0);
  return d.getTime();
})();
const load1 = (): number => +loadavg()[0]!.toFixed(2);
const log = (msg: string): void => void process.stderr.write(`[bench calibrate] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Data and the embedded S3 server.
const data = new Map<number, BdbData>();
for (const rows of sizes) data.set(rows, await bdbData({ table: "uservisits", rows, seed: 1, files, root: ROOT, log }));
const server = await startS3Server({ dir: join(ROOT, "s3"), buckets: ["bench"] });
Object.assign(process.env, server.env); // the coordinator's S3 store finds the server through these
const s3Pid = findChildPid("--smelter-s3rver-child");
const inputUrl = (rows: number): string => `s3://bench/uservisits-${rows}/`;

async function upload(rows: number): Promise<void> {
  const { store, key } = await openStore(inputUrl(rows));
  const have = new Map<string, number>();
  for await (const o of store.list(key)) have.set(o.key, o.size);
  for (const path of query2Files(data.get(rows)!.csvDir, "csv")) {
    const k = `${key}${basename(path)}`;
    const size = statSync(path).size;
    if (have.get(k) === size) continue;
    log(`uploading ${k} (${(size / MiB).toFixed(0)} MiB)`);
    await store.putStream(k, createReadStream(path, { highWaterMark: 8 * MiB }), { contentType: "text/csv" });
  }
}

// ---------------------------------------------------------------------------------------------
// Real runs.
interface RealRun {
  rows: number;
  round: number;
  wallS: number;
  loadBefore: number;
  loadAfter: number;
  /** The share of a core a busy loop got just before and just after the run (mean). */
  probeShare: number;
  tasks: number;
  groups: number;
  phases: Phases;
  times: RunTimes;
  cpuS: { workers: number; manager: number; s3?: number };
}

const toTimes = (r: SmelterRun): RunTimes => ({
  t0: r.t0,
  t1: r.t1,
  attempts: r.attempts.map((a) => ({ stage: a.stage, launched: a.launched, ...(a.running !== undefined ? { running: a.running } : {}), ...(a.done !== undefined ? { done: a.done } : {}), ...(a.cpuMs !== undefined ? { cpuMs: a.cpuMs } : {}) })),
});

async function realRun(rows: number, round: number): Promise<RealRun> {
  const manager = new Manager({ backend: processesBackend({ entry: ENTRY, workers, env: server.env }) });
  const db = await openDuckDb();
  const loadBefore = load1();
  const probeBefore = probeCoreShare();
  try {
    const r = await measureRun(manager, db, { input: inputUrl(rows), prefixLen: 8, format: "csv" }, s3Pid);
    const probeShare = +((probeBefore + probeCoreShare()) / 2).toFixed(3);
    const times = toTimes(r);
    const run: RealRun = {
      rows,
      round,
      wallS: +r.wallS.toFixed(3),
      loadBefore,
      loadAfter: load1(),
      probeShare,
      tasks: r.mapTasks,
      groups: r.groups,
      phases: phases(times),
      times,
      cpuS: { workers: +(r.attempts.reduce((a, x) => a + (x.cpuMs ?? 0), 0) / 1000).toFixed(2), manager: +(r.managerCpuMs / 1000).toFixed(2), ...(r.s3CpuMs !== undefined ? { s3: +(r.s3CpuMs / 1000).toFixed(2) } : {}) },
    };
    log(`${(rows / 1e6).toFixed(0)}M rows, round ${round}: ${run.wallS.toFixed(2)} s, ${run.tasks} tasks, ${run.groups.toLocaleString("en-US")} groups; load ${loadBefore} -> ${run.loadAfter}, probe ${probeShare}; CPU ${JSON.stringify(run.cpuS)}`);
    return run;
  } finally {
    db.close();
    await manager.close();
  }
}

async function waitForLoad(): Promise<void> {
  while (load1() > maxLoad && Date.now() + 30_000 < waitUntil) {
    log(`load ${load1()} > ${maxLoad}: waiting (until ${new Date(waitUntil).toISOString().slice(11, 16)} UTC at most)`);
    await new Promise((r) => setTimeout(r, 30_000));
  }
}

// ---------------------------------------------------------------------------------------------
// Simulation.
const dataOf = (rows: number): BdbData => data.get(rows)!;
const simOptions = (rows: number): Omit<Query2SimOptions, "seed"> => ({
  platform: "processes",
  workers,
  memoryMb: 2048,
  speculation: false, // runQuery2's default policy: no speculation
  hedging: true, // the ranged reader's default
  inputBytes: dataOf(rows).csvBytes,
  rows,
  objects: files,
});

async function simulate(rows: number, calibration: Calibration, seed: number): Promise<{ seconds: number; times: RunTimes; tasks: number }> {
  const attempts = new Map<string, RunTimes["attempts"][number]>();
  const onEvent = (e: SmelterEvent): void => {
    if (e.type === "attempt-launched") attempts.set(e.attemptId, { stage: e.stage, launched: e.time });
    else if (e.type === "attempt-running") attempts.get(e.attemptId)!.running = e.time;
    else if (e.type === "attempt-succeeded") attempts.get(e.attemptId)!.done = e.time;
  };
  const r = await simulateQuery2({ ...simOptions(rows), seed, calibration, onEvent });
  if (r.seconds === undefined) throw new Error(`simulation of ${rows} rows failed: ${r.failed}`);
  return { seconds: r.seconds, times: { t0: r.startedAt, t1: r.startedAt + r.seconds * 1000, attempts: [...attempts.values()] }, tasks: r.mapTasks };
}

/** The uncalibrated task model's CPU (one core) of every task of the calibration size. */
async function modelCpuMs(rows: number): Promise<number> {
  const table = uservisitsForQuery2(dataOf(rows).csvBytes, { rows, objects: files });
  const prepared = await prepareSimulation({ query: query2Sql(8), tables: [table], workers });
  return estimateStages(prepared, new Map([["uservisits", table]])).reduce((a, s) => a + s.tasks.reduce((b, t) => b + t.cpuMs, 0), 0);
}

// ---------------------------------------------------------------------------------------------
// Main.
const real: RealRun[] = [];
try {
  for (const rows of sizes) await upload(rows);
  log(`sizes ${sizes.join(", ")} rows (calibration: ${sizes[0]}), ${rounds} rounds, ${workers} workers; load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  // One untimed run first: the coordinator's planning session (opened once per process) and the file cache.
  await realRun(sizes[0]!, 0);
  for (let round = 1; round <= rounds; round++) {
    await waitForLoad();
    for (const rows of sizes) real.push(await realRun(rows, round));
  }
} finally {
  await server.stop();
}

const calRows = sizes[0]!;
const calRuns = real.filter((r) => r.rows === calRows);
const cpuModel = await modelCpuMs(calRows);
const machines = calRuns.map((r) => fitMachine(r.times, workers, cpuModel));
const med = (f: (m: (typeof machines)[number]) => number): number => medianOf(machines.map(f));
const machine = {
  cpuScale: med((m) => m.cpuScale),
  coreShare: med((m) => m.coreShare),
  coldStart: { medianMs: med((m) => m.coldStart.medianMs), p99Ms: med((m) => m.coldStart.p99Ms) },
  warmStart: { medianMs: med((m) => m.warmStart.medianMs), p99Ms: med((m) => m.warmStart.p99Ms) },
  setupMs: med((m) => m.setupMs),
};
const unscaled = await simulate(calRows, { ...machine, coordinatorScale: 1, probeShare: 1 }, 1);
const calibration: Calibration = { ...machine, coordinatorScale: medianOf(calRuns.map((r) => coordinatorScale(r.times, unscaled.times))), probeShare: medianOf(calRuns.map((r) => r.probeShare)) };
log(`calibration (from the ${calRows} rows runs only): ${JSON.stringify(calibration)}`);

interface Row {
  rows: number;
  calibration: boolean;
  csvMB: number;
  tasks: { real: number; simulated: number };
  realS: number[];
  predictedPerRunS: number[];
  probes: number[];
  realMedianS: number;
  predictedS: number;
  error: number;
  load: number[];
  phasesMs: { real: Phases; simulated: Phases };
}
const rowsOut: Row[] = [];
for (const rows of sizes) {
  const runs = real.filter((r) => r.rows === rows);
  // Each real run predicted for the machine as its probe found it; seeds' median per run, then the median over runs.
  const sims = [];
  const perRun: number[] = [];
  for (const run of runs) {
    const mine = [];
    for (let seed = 1; seed <= seeds; seed++) mine.push(await simulate(rows, atSpeed(calibration, run.probeShare / calibration.probeShare), seed));
    perRun.push(medianOf(mine.map((s) => s.seconds)));
    sims.push(...mine);
  }
  const predictedS = medianOf(perRun);
  const realMedianS = medianOf(runs.map((r) => r.wallS));
  const medPhases = (ps: Phases[]): Phases => ({ setup: medianOf(ps.map((p) => p.setup)), tasks: medianOf(ps.map((p) => p.tasks)), coordinator: medianOf(ps.map((p) => p.coordinator)), wall: medianOf(ps.map((p) => p.wall)) });
  rowsOut.push({
    rows,
    calibration: rows === calRows,
    csvMB: +(dataOf(rows).csvBytes / 1e6).toFixed(1),
    tasks: { real: runs[0]!.tasks, simulated: sims[0]!.tasks },
    realS: runs.map((r) => r.wallS),
    predictedPerRunS: perRun.map((x) => +x.toFixed(2)),
    probes: runs.map((r) => r.probeShare),
    realMedianS: +realMedianS.toFixed(3),
    predictedS: +predictedS.toFixed(3),
    error: +((predictedS - realMedianS) / realMedianS).toFixed(3),
    load: runs.flatMap((r) => [r.loadBefore, r.loadAfter]),
    phasesMs: { real: medPhases(runs.map((r) => r.phases)), simulated: medPhases(sims.map((s) => phases(s.times))) },
  });
}

const f1 = (x: number): string => (x / 1000).toFixed(1);
const lines = [
  "| rows | CSV MB | tasks (real / sim) | real s (runs) | predicted s (per run) | error | real: set-up / tasks / coordinator s | simulated: set-up / tasks / coordinator s | load (1 min, before/after each run) | probe share (each run) |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...rowsOut.map((r) => `| ${(r.rows / 1e6).toFixed(0)}M${r.calibration ? " (calibration)" : ""} | ${r.csvMB.toFixed(0)} | ${r.tasks.real} / ${r.tasks.simulated} | ${r.realMedianS.toFixed(2)} (${r.realS.map((s) => s.toFixed(2)).join(", ")}) | ${r.predictedS.toFixed(2)} (${r.predictedPerRunS.join(", ")}) | ${r.calibration ? "(fitted) " : ""}${(r.error * 100).toFixed(1)}% | ${f1(r.phasesMs.real.setup)} / ${f1(r.phasesMs.real.tasks)} / ${f1(r.phasesMs.real.coordinator)} | ${f1(r.phasesMs.simulated.setup)} / ${f1(r.phasesMs.simulated.tasks)} / ${f1(r.phasesMs.simulated.coordinator)} | ${r.load.join(", ")} | ${r.probes.join(", ")} |`),
];
const predicted = rowsOut.filter((r) => !r.calibration);
const worst = Math.max(...predicted.map((r) => Math.abs(r.error)));
lines.push("", `largest error over the ${predicted.length} predicted sizes: ${(worst * 100).toFixed(1)}% (target: within 20%)`);
console.log(lines.join("\n"));
if (!args["no-record"]) log(`recorded in ${record("calibrate", { label: args.label, workers, files, rounds, seeds, calibration, rows: rowsOut, real })}`);
