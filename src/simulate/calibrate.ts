/**
 * Calibration of the processes backend's models on this machine (docs/simulation.md,
 * "Calibration against real runs"): a real run's attempt timestamps and CPU times give the few
 * parameters that belong to the machine, not to the query; the rest of the models (task counts,
 * bytes, groups, operator mix, waves, the coordinator's merge) stays as it is and is what a
 * prediction at other sizes tests.
 *
 * - `cpuScale`: CPU time the real stage-1 attempts used / the task model's CPU for the same tasks
 *   (the operator costs were measured on a loaded machine: one factor for all of them), from the
 *   attempts after each worker's first.
 * - `coreShare`: the share of a core one worker actually gets (CPU time / body wall time of the
 *   real attempts): the machine's other load, the embedded S3 server and the manager share it.
 * - `coldStart` / `warmStart`: launch to running of the first attempt per worker (a new process)
 *   plus that attempt's extra CPU for loading DuckDB and the S3 client, and launch to running of
 *   the others (a pool process picking up the next task).
 * - `setupMs`: the call to the first launch (listing the input, planning, job set up).
 * - `coordinatorScale`: the real coordinator's tail (last task done to the result: gathering the
 *   segments, its merge, deleting the work prefix) / the model's time for it at the same size.
 * - `probeShare`: the share of a core a busy loop got around the calibration runs. The machine is
 *   shared: a run at another time gets another share, so a prediction for a run measured with
 *   probe share p uses {@link atSpeed} with p / probeShare (every wall-time parameter scaled by it).
 *   On a quiet machine both are ~1 and nothing changes.
 */
import { type LatencyDist } from "./models.js";

export interface Calibration {
  cpuScale: number;
  coreShare: number;
  coldStart: LatencyDist;
  warmStart: LatencyDist;
  setupMs: number;
  coordinatorScale: number;
  probeShare: number;
}

/**
 * The calibration on a machine `speed` times as free as during the calibration (the ratio of
 * probe shares): a worker's share of a core grows with it (at most 1), process starts, set-up and
 * the coordinator (CPU work on a loaded machine) shrink with it. CPU time per operator stays.
 */
export function atSpeed(c: Calibration, speed: number): Calibration {
  const scale = (d: LatencyDist): LatencyDist => ({ medianMs: d.medianMs / speed, p99Ms: d.p99Ms / speed });
  return {
    ...c,
    coreShare: Math.min(1, c.coreShare * speed),
    coldStart: scale(c.coldStart),
    warmStart: scale(c.warmStart),
    setupMs: c.setupMs / speed,
    coordinatorScale: c.coordinatorScale / speed,
    probeShare: c.probeShare * speed,
  };
}

/** The share of one core a busy loop of `ms` gets now (1: a free core; 0.1 on a machine loaded 10 deep). */
export function probeCoreShare(ms = 300): number {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < ms) for (let i = 0; i < 10_000; i++) x += Math.sqrt(i);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  return x < 0 ? 0 : Math.min(1, (cpu.user + cpu.system) / 1000 / wall);
}

/** One attempt of a run (real or simulated), times in ms on one clock. */
export interface RunAttempt {
  stage: number;
  launched: number;
  running?: number;
  done?: number;
  /** CPU of the attempt (user + system), ms; real attempts only. */
  cpuMs?: number;
}

/** A run's timestamps: the call, its return, its attempts. */
export interface RunTimes {
  t0: number;
  t1: number;
  attempts: RunAttempt[];
}

/** Where a run's wall time went (ms). */
export interface Phases {
  /** The call to the first launch. */
  setup: number;
  /** First launch to the last attempt done (every stage). */
  tasks: number;
  /** Last attempt done to the return (the coordinator's gather and merge, clean-up). */
  coordinator: number;
  wall: number;
}

const sum = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);

export function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function phases(run: RunTimes): Phases {
  const launched = Math.min(...run.attempts.map((a) => a.launched));
  const done = Math.max(...run.attempts.flatMap((a) => (a.done !== undefined ? [a.done] : [])));
  return { setup: launched - run.t0, tasks: done - launched, coordinator: run.t1 - done, wall: run.t1 - run.t0 };
}

/** Launch-to-running gaps: the first `workers` attempts (new processes) and the rest (warm ones). */
export function startGaps(run: RunTimes, workers: number): { cold: number[]; warm: number[] } {
  const started = run.attempts.filter((a) => a.running !== undefined).sort((a, b) => a.launched - b.launched);
  const gaps = started.map((a) => a.running! - a.launched);
  return { cold: gaps.slice(0, workers), warm: gaps.slice(workers) };
}

/** A log-normal by its median, with a p99 of twice the median (assumed spread). */
const dist = (medianMs: number): LatencyDist => ({ medianMs: Math.max(0.1, medianMs), p99Ms: Math.max(0.2, 2 * medianMs) });

/**
 * The machine's parameters from one real run (everything but `coordinatorScale`, which needs a
 * simulation with the others: {@link withCoordinatorScale}). `modelCpuMs`: the task model's CPU
 * (one core, uncalibrated) of every task of the stages whose attempts are in `real`, summed.
 *
 * A worker's first attempt (the first `workers` launched) also pays for loading DuckDB and the S3
 * client in its fresh process: the CPU scale comes from the other attempts (per task, against the
 * model's mean task), and the first attempts' extra CPU over them, at the worker's share of a
 * core, is added to the cold start. Without that split a small calibration run, where first
 * attempts are a large part, scales every task of a larger job by their extra cost.
 */
export function fitMachine(real: RunTimes, workers: number, modelCpuMs: number): Omit<Calibration, "coordinatorScale" | "probeShare"> {
  const won = real.attempts.filter((a) => a.done !== undefined && a.running !== undefined && a.cpuMs !== undefined);
  if (won.length === 0) throw new Error("[smelter] calibration: the real run has no finished attempt with its CPU time");
  const cpu = sum(won.map((a) => a.cpuMs!));
  const body = sum(won.map((a) => a.done! - a.running!));
  const coreShare = Math.min(1, cpu / body);
  const gaps = startGaps(real, workers);
  const byLaunch = [...won].sort((a, b) => a.launched - b.launched);
  const first = byLaunch.slice(0, workers);
  const rest = byLaunch.slice(workers);
  const mean = (xs: RunAttempt[]): number => sum(xs.map((a) => a.cpuMs!)) / xs.length;
  const modelPerTask = modelCpuMs / won.length;
  const firstExtraCpuMs = rest.length > 0 ? Math.max(0, mean(first) - mean(rest)) : 0;
  return {
    cpuScale: rest.length > 0 ? mean(rest) / modelPerTask : cpu / modelCpuMs,
    coreShare,
    coldStart: dist(medianOf(gaps.cold) + firstExtraCpuMs / coreShare),
    warmStart: dist(gaps.warm.length ? medianOf(gaps.warm) : medianOf(gaps.cold)),
    setupMs: phases(real).setup,
  };
}

/** `coordinatorScale` from the real run's coordinator phase and a simulation's (made with scale 1). */
export function coordinatorScale(real: RunTimes, simulated: RunTimes): number {
  const s = phases(simulated).coordinator;
  return s > 0 ? phases(real).coordinator / s : 1;
}
