/**
 * A simulated backend: a real `Backend` whose attempts do no work. Each launch asks the
 * platform model for room (concurrency limit, scaling rate: a refusal is a `no-capacity`
 * outcome the scheduler backs off from), picks a warm or a cold worker, and asks the task model
 * how long the body takes (reads and writes through the simulated store, CPU by bytes). Then it
 * reports `onRunning` and the outcome on the runtime context's clock (a VirtualClock in a
 * simulation). Stragglers, platform failures and Spot preemptions are drawn from the context's
 * seeded random source, so a seed replays exactly. A kill on a platform that cannot stop an
 * invocation (Lambda) is `abandoned`: the attempt runs to its end and is billed.
 */
import { serializeError, SmelterError } from "../job/errors.js";
import { CancelledError } from "../job/errors.js";
import { systemContext, type RuntimeContext, type TimerHandle } from "../job/runtime-context.js";
import { emptyStats, type AttemptStats } from "../job/stats.js";
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, BackendHost, KillOutcome, TaskEnvelope } from "../backends/contract.js";
import { LOCAL_CORES, type PlatformModel } from "./models.js";
import { emptyCounters, sampleLatency, type StoreCounters } from "./store-model.js";

/** What a simulated task does, given where and when it runs. */
export interface SimBody {
  /** ms of the body (after the start), or a failure after `ms`. */
  ms: number;
  output?: unknown;
  failed?: string;
  counters: StoreCounters;
}

export interface SimWorkerEnv {
  now: number;
  /** Cores this attempt gets. */
  cpus: number;
  /** Its store bandwidth, bytes/s. */
  bandwidth: number;
  uploadBandwidth: number;
  /** Attempts running now (share the store's aggregate bandwidth). */
  running: number;
}

/** A worker function of the simulation: computes the body of one attempt. May wait (a reducer waits for the map outputs). */
export type SimWorker = (envelope: TaskEnvelope, env: () => SimWorkerEnv) => SimBody | Promise<SimBody>;

export interface SimBackendOptions {
  platform: PlatformModel;
  /** Workers: the backend's `maxConcurrency`. */
  workers: number;
  memoryMb: number;
  workerFns: Record<string, SimWorker>;
  /** Share of attempts that straggle, and how much slower they are. */
  stragglers?: { rate: number; factor: number };
  /** Overrides the platform's failure rate and preemptions per worker-hour. */
  failureRate?: number;
  preemptionsPerHour?: number;
  /** Share of a core a worker gets (processes: the machine's other load; a calibration measures it). @default 1 */
  coreShare?: number;
}

/** Billing and counts of everything that ran. */
export interface SimLedger {
  attempts: number;
  coldStarts: number;
  noCapacity: number;
  failures: number;
  preemptions: number;
  stragglers: number;
  abandoned: number;
  /** Billed worker time, ms, and the cost of it (compute and invocations, no requests). */
  billedMs: number;
  computeCost: number;
}

export interface SimBackend extends Backend {
  readonly ledger: SimLedger;
}

class SimulatedFailure extends SmelterError {
  override name = "SimulatedFailure";
}

export function simulatedBackend(o: SimBackendOptions): SimBackend {
  const p = o.platform;
  let context: RuntimeContext = systemContext();
  let running = 0;
  let idle = 0;
  let firstLaunch: number | undefined;
  let seq = 0;
  const ledger: SimLedger = { attempts: 0, coldStarts: 0, noCapacity: 0, failures: 0, preemptions: 0, stragglers: 0, abandoned: 0, billedMs: 0, computeCost: 0 };
  const failureRate = o.failureRate ?? p.failureRate;
  const preemptionsPerHour = o.preemptionsPerHour ?? p.preemptionsPerHour;
  const coreShare = o.coreShare ?? 1;
  const cpus = (): number => coreShare * (p.name === "processes" ? Math.min(1, LOCAL_CORES / Math.max(1, running)) : p.cpus(o.memoryMb));

  const bill = (ms: number): void => {
    const billed = Math.max(p.price.minimumBilledMs, Math.ceil(ms));
    ledger.billedMs += billed;
    ledger.computeCost += (billed / 1000) * ((o.memoryMb / 1024) * p.price.perGbSecond + p.cpus(o.memoryMb) * p.price.perVcpuSecond) + p.price.perInvocation;
  };

  const backend: SimBackend = {
    name: `simulated-${p.name}`,
    maxConcurrency: o.workers,
    ledger,
    attach(host: BackendHost) {
      context = host.context;
    },
    launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
      const clock = context.clock;
      const random = context.random;
      const launchedAt = clock.now();
      const runtimeId = `sim-${p.name}-${++seq}`;
      firstLaunch ??= launchedAt;
      const allowed = Math.min(p.concurrencyLimit, Number.isFinite(p.scalePerWindow) ? p.scalePerWindow * (1 + Math.floor((launchedAt - firstLaunch) / p.scaleWindowMs)) : Infinity);
      if (running >= allowed) {
        ledger.noCapacity++;
        const reason = running >= p.concurrencyLimit ? `concurrency limit ${p.concurrencyLimit} reached` : `scaling rate: at most ${allowed} workers ${Math.round((launchedAt - firstLaunch) / 1000)} s after the first launch`;
        return { runtimeId, result: Promise.resolve({ status: "no-capacity", reason, retryAfterMs: p.retryAfterMs }), kill: () => Promise.resolve("stopped") };
      }
      ledger.attempts++;
      running++;
      const cold = idle === 0;
      if (cold) ledger.coldStarts++;
      else idle--;
      const startMs = sampleLatency(cold ? p.coldStart : p.warmStart, random);

      let settle!: (o: AttemptOutcome) => void;
      const result = new Promise<AttemptOutcome>((r) => (settle = r));
      let settled = false;
      let released = false;
      let timer: TimerHandle | undefined;
      let naturalEnd: number | undefined;
      const finish = (out: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        settle(out);
      };
      // The worker is free again (and billed) at the end of its run.
      const release = (endedAt: number): void => {
        if (released) return;
        released = true;
        running--;
        idle++;
        bill(endedAt - launchedAt);
      };
      const stats = (counters?: StoreCounters): AttemptStats => {
        const s = emptyStats(launchedAt, clock.now());
        if (counters) s.counters = { bytesRead: counters.bytesRead, bytesWritten: counters.bytesWritten, readRequests: counters.gets, writeRequests: counters.puts };
        return s;
      };
      const env = () => ({ now: clock.now(), cpus: cpus(), bandwidth: p.workerBandwidth(o.memoryMb), uploadBandwidth: p.workerBandwidth(o.memoryMb) * p.uploadFactor, running });

      timer = clock.setTimeout(() => {
        if (settled) return;
        listener.onRunning({ runtimeId, cold });
        const fn = o.workerFns[envelope.worker];
        void Promise.resolve(fn ? fn(envelope, env) : { ms: 0, failed: `no simulated worker "${envelope.worker}"`, counters: emptyCounters() }).then((body: SimBody) => {
          if (settled) return;
          let ms = body.ms;
          if (o.stragglers && random() < o.stragglers.rate) {
            ledger.stragglers++;
            ms *= o.stragglers.factor;
          }
          let failure = body.failed;
          if (!failure && failureRate > 0 && random() < failureRate) {
            ledger.failures++;
            ms *= random();
            failure = "the worker crashed (simulated platform failure)";
          }
          if (!failure && preemptionsPerHour > 0 && random() < 1 - Math.exp((-preemptionsPerHour * ms) / 3_600_000)) {
            ledger.preemptions++;
            ms *= random();
            failure = "SpotInterruption: the worker was preempted (simulated)";
          }
          naturalEnd = clock.now() + ms;
          timer = clock.setTimeout(() => {
            release(clock.now());
            if (failure) finish({ status: "failed", error: serializeError(new SimulatedFailure(failure)), stats: stats(body.counters) });
            else finish({ status: "succeeded", output: body.output, stats: stats(body.counters) });
          }, ms);
        });
      }, startMs);

      return {
        runtimeId,
        result,
        kill(reason: string): Promise<KillOutcome> {
          if (settled) return Promise.resolve("stopped");
          finish({ status: "failed", error: serializeError(new CancelledError(`attempt ${envelope.attemptId} was cancelled: ${reason}`)), stats: stats() });
          if (p.killAbandons && naturalEnd !== undefined) {
            // The invocation runs on to its end: billed, its worker busy until then.
            ledger.abandoned++;
            return Promise.resolve("abandoned");
          }
          clock.clearTimeout(timer);
          release(clock.now());
          return Promise.resolve("stopped");
        },
      };
    },
  };
  return backend;
}
