/**
 * Collects the {@link AttemptStats} of one attempt: wall time, CPU time (delta of
 * `process.cpuUsage()`), peak RSS and the one-minute load average (sampled), the task's counters,
 * and where it ran.
 *
 * Sampling is cheap: one sample when the attempt starts, one when it ends, and in between one
 * every `sampleIntervalMs` from an unref'd timer (so attempts shorter than that interval never
 * see a timer fire). `process.resourceUsage().maxRSS` is not used: it is the peak of the whole
 * process lifetime, not of this attempt.
 *
 * CPU time and RSS are process-wide: on the threads backend they include the other threads of
 * the process (Node 20 has no per-thread CPU clock).
 */
import { hostname, loadavg } from "node:os";
import { isMainThread, threadId } from "node:worker_threads";
import { repeat, systemClock, type Clock } from "../job/clock.js";
import { Counters, type AttemptStats } from "../job/stats.js";

export interface StatsCollectorOptions {
  /** Milliseconds between RSS / load samples while the attempt runs. @default 75 */
  sampleIntervalMs?: number;
  /** Times and the sampling timer (the runtime context's clock). @default the system clock */
  clock?: Clock;
}

let cachedHost: string | undefined;

export class StatsCollector {
  private readonly sampleIntervalMs: number;
  private readonly counters: Record<string, number> = {
    [Counters.bytesRead]: 0,
    [Counters.bytesWritten]: 0,
    [Counters.readRequests]: 0,
    [Counters.writeRequests]: 0,
  };
  private startedAt = 0;
  private cpuStart: NodeJS.CpuUsage | undefined;
  private peakRss = 0;
  private loadSum = 0;
  private loadMax = 0;
  private loadSamples = 0;
  private stopSampling: (() => void) | undefined;
  private readonly clock: Clock;
  private finished: AttemptStats | undefined;

  constructor(options: StatsCollectorOptions = {}) {
    this.sampleIntervalMs = options.sampleIntervalMs ?? 75;
    this.clock = options.clock ?? systemClock;
  }

  /** Starts the clocks and takes the first sample. Idempotent. */
  start(): void {
    if (this.cpuStart) return;
    this.startedAt = this.clock.now();
    this.cpuStart = process.cpuUsage();
    this.sample();
    this.stopSampling = repeat(this.clock, this.sampleIntervalMs, () => this.sample(), { unref: true });
  }

  /** Adds `delta` to counter `name`. Non-finite deltas are ignored. */
  count(name: string, delta = 1): void {
    if (!Number.isFinite(delta)) return;
    this.counters[name] = (this.counters[name] ?? 0) + delta;
  }

  /** Stops sampling, takes the last sample and returns the stats. Later calls return the same object. */
  finish(): AttemptStats {
    if (this.finished) return this.finished;
    this.start();
    this.stopSampling?.();
    this.sample();
    const wallMs = this.clock.now() - this.startedAt;
    const cpu = process.cpuUsage(this.cpuStart);
    const stats: AttemptStats = {
      wallMs,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      peakRssBytes: this.peakRss,
      loadAvg: { mean: this.loadSamples ? this.loadSum / this.loadSamples : 0, max: this.loadMax },
      counters: { ...this.counters },
      startedAt: this.startedAt,
      endedAt: this.startedAt + wallMs,
      host: (cachedHost ??= hostname()),
      pid: process.pid,
    };
    if (!isMainThread) stats.threadId = threadId;
    this.finished = stats;
    return stats;
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
    const load = loadavg()[0] ?? 0;
    this.loadSum += load;
    this.loadSamples += 1;
    if (load > this.loadMax) this.loadMax = load;
  }
}
