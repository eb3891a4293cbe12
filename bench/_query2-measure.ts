/**
 * What the Query 2 benchmark measures around one Smelter run: wall time, the job's events
 * (attempt timestamps, stats, counters), CPU of the manager, of the workers and of the embedded
 * S3 server, and the manager's peak RSS (sampled). Used by bench/query2.ts and bench/sql.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { DuckDb } from "../src/duckdb/index.js";
import type { SmelterEvent } from "../src/job/events.js";
import { runQuery2, type Query2Options, type Query2Result } from "../src/query/query2.js";
import { JobStats, type StageTotals } from "../src/report/job-stats.js";
import type { Job } from "../src/scheduler/job.js";
import type { Manager } from "../src/scheduler/manager.js";

/** One attempt as seen in the events. */
export interface AttemptTimes {
  stage: number;
  attemptId: string;
  launched: number;
  running?: number;
  done?: number;
  wallMs?: number;
  cpuMs?: number;
  peakRssBytes?: number;
  counters?: Record<string, number>;
}

export interface SmelterRun extends RunOutcome {
  wallS: number;
  totals: StageTotals[];
  attempts: AttemptTimes[];
  /** Epoch ms: the run called / returned. */
  t0: number;
  t1: number;
  managerPeakRssBytes: number;
  managerRssBeforeBytes: number;
  managerCpuMs: number;
  /** CPU of the embedded S3 server's process during the run (undefined: no server). */
  s3CpuMs?: number;
}

/** CPU ms (user + system) of a process from /proc (Linux); undefined when unreadable. */
export function procCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return undefined;
  }
}

/** The pid of our child process whose command line contains `marker` (the embedded S3 server). */
export function findChildPid(marker: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** What a measured run reports about itself. */
export interface RunOutcome {
  /** Rows of the result. */
  groups: number;
  /** Tasks of the first stage. */
  mapTasks: number;
  /** R of the first shuffle. */
  partitions: number;
}

/** One Smelter Query 2 run on a warm (or cold) manager, measured. */
export async function measureRun(manager: Manager, db: DuckDb, options: Query2Options, s3Pid?: number): Promise<SmelterRun> {
  return measureJob(async (onJob) => {
    const result: Query2Result = await runQuery2(manager, db, options, { onJob });
    return { groups: result.rows, mapTasks: result.tasks[0] ?? 0, partitions: result.partitions };
  }, s3Pid);
}

/**
 * Measures one run of a job (`run` passes `onJob` to the engine): wall time, the attempts' events
 * and the stages' totals, this process's CPU and sampled peak RSS, the S3 server's CPU.
 */
export async function measureJob(run: (onJob: (job: Job) => void) => Promise<RunOutcome>, s3Pid?: number): Promise<SmelterRun> {
  let stats: JobStats | undefined;
  const attempts = new Map<string, AttemptTimes>();
  const onEvent = (e: SmelterEvent) => {
    if (e.type === "attempt-launched") attempts.set(e.attemptId, { stage: e.stage, attemptId: e.attemptId, launched: e.time });
    else if (e.type === "attempt-running") {
      const a = attempts.get(e.attemptId);
      if (a) a.running = e.time;
    } else if (e.type === "attempt-succeeded") {
      const a = attempts.get(e.attemptId);
      if (a) {
        a.done = e.time;
        a.wallMs = e.stats.wallMs;
        a.cpuMs = e.stats.cpuUserMs + e.stats.cpuSystemMs;
        a.peakRssBytes = e.stats.peakRssBytes;
        a.counters = e.stats.counters;
      }
    }
  };
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 25);
  const s3Cpu0 = s3Pid !== undefined ? procCpuMs(s3Pid) : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const p0 = performance.now();
  let outcome: RunOutcome;
  try {
    outcome = await run((job: Job) => {
      stats = new JobStats(job);
      job.events.on(onEvent);
    });
  } finally {
    clearInterval(sampler);
    stats?.stop();
  }
  const wallS = (performance.now() - p0) / 1000;
  const t1 = Date.now();
  const cpu = process.cpuUsage(cpu0);
  const s3Cpu1 = s3Pid !== undefined ? procCpuMs(s3Pid) : undefined;
  peak = Math.max(peak, process.memoryUsage.rss());
  return {
    wallS,
    ...outcome,
    totals: stats?.totals() ?? [],
    attempts: [...attempts.values()],
    t0,
    t1,
    managerPeakRssBytes: peak,
    managerRssBeforeBytes: rssBefore,
    managerCpuMs: (cpu.user + cpu.system) / 1000,
    ...(s3Cpu0 !== undefined && s3Cpu1 !== undefined ? { s3CpuMs: s3Cpu1 - s3Cpu0 } : {}),
  };
}

/** Where one run's wall time went, from the attempts' timestamps (ms, relative to the call). */
export interface Timeline {
  /** Call to the first map attempt launched (listing, first split, job setup). */
  toFirstMapMs: number;
  /** First map launched to its attempt running (pool worker picked it up; cold: process start). */
  firstMapStartMs: number;
  /** First map launched to the last map done. */
  mapStageMs: number;
  /** Last map done to the last reducer done (reducers' tail: manifest polling, last fetch, merge, final COPY, put); 0 without reducers. */
  reduceTailMs: number;
  /** Last reducer done (or, without reducers, last map done) to runQuery2 returning: gather of the reducers' outputs, or the coordinator's merge of the map outputs, into its DuckDB, and deleting the work prefix. */
  gatherMs: number;
  wallMs: number;
  /** Mean gap between an attempt's launch and its start on a worker, ms. */
  meanDispatchMs: number;
}

export function timeline(run: SmelterRun): Timeline {
  const maps = run.attempts.filter((a) => a.stage === 1);
  const reduces = run.attempts.filter((a) => a.stage === 2);
  const min = (xs: number[]) => (xs.length ? Math.min(...xs) : Number.NaN);
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
  const firstMap = min(maps.map((a) => a.launched));
  const firstMapRunning = min(maps.flatMap((a) => (a.running !== undefined ? [a.running] : [])));
  const lastMap = max(maps.flatMap((a) => (a.done !== undefined ? [a.done] : [])));
  const lastReduce = max(reduces.flatMap((a) => (a.done !== undefined ? [a.done] : [])));
  const gaps = run.attempts.flatMap((a) => (a.running !== undefined ? [a.running - a.launched] : []));
  return {
    toFirstMapMs: firstMap - run.t0,
    firstMapStartMs: firstMapRunning - firstMap,
    mapStageMs: lastMap - firstMap,
    reduceTailMs: reduces.length ? lastReduce - lastMap : 0,
    gatherMs: run.t1 - (reduces.length ? lastReduce : lastMap),
    wallMs: run.t1 - run.t0,
    meanDispatchMs: gaps.length ? gaps.reduce((s, x) => s + x, 0) / gaps.length : 0,
  };
}

/** Sum of a counter over the winning attempts of a stage. */
export function counter(run: SmelterRun, stage: string, name: string): number {
  return stageTotals(run, stage)?.counters[name] ?? 0;
}

export function stageTotals(run: SmelterRun, stage: string): StageTotals | undefined {
  return run.totals.find((t) => t.name === stage);
}
