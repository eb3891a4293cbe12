/**
 * The simulated object store: how long a task's reads and writes take in virtual time, what
 * they cost, and what they count. No bytes move: a read is a number of ranged GETs of a size,
 * each with a sampled first-byte latency (log-normal, plus a rare stall), a transfer at the
 * reader's share of its bandwidth, a per-prefix request-rate limit answered by 503 SlowDown and
 * retried by the SDK with full-jitter backoff, and, when on, hedges of a slow GET by the ranged
 * reader's own rule (storage/hedging.ts: a hedge when no first byte came after `firstByteAfter` x
 * the median first byte, or the GET is still running after `hedgeAfter` x its expected time;
 * another one delay later if all are still late, up to `maxHedges`), each with its own sampled
 * latency. The expected times are the model's median first byte and that + transfer (the reader
 * learns them from the GETs it sees). Reads are computed when a task starts, so the rate limit counts requests per
 * second of virtual time (docs/simulation.md).
 */
import { hedgedGetMs, type HedgeRule } from "../storage/hedging.js";
import type { LatencyDist, StoreModel } from "./models.js";

/** A log-normal draw by median and p99. */
export function sampleLatency(d: LatencyDist, random: () => number): number {
  let sigma = SIGMAS.get(d);
  if (sigma === undefined) SIGMAS.set(d, (sigma = Math.log(Math.max(d.p99Ms, d.medianMs * 1.0001) / d.medianMs) / 2.3263));
  return d.medianMs * Math.exp(sigma * normal(random));
}

/** sigma of each distribution (z of the 99th percentile: 2.3263), computed once. */
const SIGMAS = new WeakMap<LatencyDist, number>();

/** A standard normal draw (Box-Muller). */
export function normal(random: () => number): number {
  const u = Math.max(1e-12, random());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface StoreCounters {
  gets: number;
  puts: number;
  /** GETs that were hedges (counted in `gets` too). */
  hedges: number;
  /** Hedges that finished first. */
  hedgesWon: number;
  /** 503 SlowDown answers (requests refused and retried). */
  slowDowns: number;
  /** GETs that stalled. */
  stalls: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface IoResult {
  ms: number;
  counters: StoreCounters;
  /** Set when a request was still refused (503 SlowDown) after the SDK's retries: the task fails after `ms`. */
  failed?: string;
}

export const emptyCounters = (): StoreCounters => ({ gets: 0, puts: 0, hedges: 0, hedgesWon: 0, slowDowns: 0, stalls: 0, bytesRead: 0, bytesWritten: 0 });

export function addCounters(into: StoreCounters, c: StoreCounters): void {
  for (const k of Object.keys(into) as (keyof StoreCounters)[]) into[k] += c[k];
}

export function sumCounters(a: StoreCounters, b: StoreCounters): StoreCounters {
  const out = { ...a };
  addCounters(out, b);
  return out;
}

const ADMITTED = { delay: 0, refused: false } as const;

/** Smelter's S3 store: `maxAttempts` 5, the SDK's standard mode (storage/s3.ts). */
const MAX_SLOWDOWN_RETRIES = 4;
/** The SDK's standard mode caps a retry delay at 20 s. */
const MAX_RETRY_DELAY_MS = 20_000;

export class SimStore {
  readonly totals = emptyCounters();
  /** Requests accepted per prefix and verb, per second of virtual time. */
  readonly #perSecond = new Map<string, Map<number, number>>();

  constructor(
    readonly model: StoreModel,
    readonly random: () => number,
    /** The ranged reader's hedging rule (`hedgeAfter` 0: no hedging). */
    readonly hedge: HedgeRule,
  ) {}

  /**
   * Reads `bytes` as `requests` GETs (default: parts of `partBytes`) under `prefix`, starting at
   * `now`, at most `bandwidth` bytes/s for this reader; `readers` share the aggregate bandwidth.
   */
  read(now: number, prefix: string, bytes: number, bandwidth: number, readers: number, requests?: number): IoResult {
    const m = this.model;
    const c = emptyCounters();
    const n = Math.max(1, requests ?? Math.ceil(bytes / m.partBytes));
    const lanes = Math.min(m.readConcurrency, n);
    const share = Math.min(bandwidth, m.aggregateBandwidth / Math.max(1, readers)) / lanes;
    const size = bytes / n;
    const transfer = (size / share) * 1000;
    const expected = m.firstByte.medianMs + transfer;
    const laneTime = new Array<number>(lanes).fill(0);
    const counts = this.#counts(prefix, "get");
    for (let i = 0; i < n; i++) {
      const l = i % lanes;
      let t = now + laneTime[l]!;
      const admitted = this.#admit(counts, t, m.getRatePerPrefix, c);
      t += admitted.delay;
      if (admitted.refused) {
        c.bytesRead = Math.round((bytes * i) / n);
        addCounters(this.totals, c);
        return { ms: t - now, counters: c, failed: `SlowDown: GET under ${prefix} still refused after ${MAX_SLOWDOWN_RETRIES + 1} attempts (over ${m.getRatePerPrefix} requests/s per prefix)` };
      }
      const get = hedgedGetMs(this.hedge, { totalMs: expected, firstByteMs: m.firstByte.medianMs }, () => {
        const firstByteMs = this.#firstByte(c);
        return { firstByteMs, totalMs: firstByteMs + transfer };
      });
      c.gets += 1 + get.hedges;
      c.hedges += get.hedges;
      if (get.winner > 0) c.hedgesWon++;
      laneTime[l] = t + get.ms - now;
    }
    c.bytesRead = bytes;
    addCounters(this.totals, c);
    return { ms: Math.max(...laneTime), counters: c };
  }

  /** Writes `bytes` as one PUT (a multipart upload's parts go in parallel: one latency, the bandwidth). */
  write(now: number, prefix: string, bytes: number, bandwidth: number): IoResult {
    const c = emptyCounters();
    const admitted = this.#admit(this.#counts(prefix, "put"), now, this.model.putRatePerPrefix, c);
    if (admitted.refused) {
      addCounters(this.totals, c);
      return { ms: admitted.delay, counters: c, failed: `SlowDown: PUT under ${prefix} still refused after ${MAX_SLOWDOWN_RETRIES + 1} attempts` };
    }
    let ms = admitted.delay;
    c.puts++;
    ms += sampleLatency(this.model.putLatency, this.random) + (bytes / bandwidth) * 1000;
    c.bytesWritten = bytes;
    addCounters(this.totals, c);
    return { ms, counters: c };
  }

  #firstByte(c: StoreCounters): number {
    if (this.model.stallRate > 0 && this.random() < this.model.stallRate) {
      c.stalls++;
      return this.model.stallMs;
    }
    return sampleLatency(this.model.firstByte, this.random);
  }

  /** The per-second request counts of a prefix and verb. */
  #counts(prefix: string, verb: "get" | "put"): Map<number, number> {
    const key = `${verb} ${prefix}`;
    let seconds = this.#perSecond.get(key);
    if (!seconds) this.#perSecond.set(key, (seconds = new Map()));
    return seconds;
  }

  /**
   * The per-prefix rate limit: requests are counted per prefix and per second of virtual time
   * (reads are computed ahead, out of time order, so a count per second rather than a bucket);
   * a request in a full second gets 503 SlowDown and is retried after the SDK's full-jitter
   * exponential backoff. Returns the delay before it is accepted, or `refused` after the last attempt.
   */
  #admit(seconds: Map<number, number>, t: number, rate: number, c: StoreCounters): { delay: number; refused: boolean } {
    if (!Number.isFinite(rate)) return ADMITTED;
    let delay = 0;
    for (let attempt = 0; ; attempt++) {
      const second = Math.floor((t + delay) / 1000);
      const used = seconds.get(second) ?? 0;
      if (used < rate) {
        seconds.set(second, used + 1);
        return { delay, refused: false };
      }
      c.slowDowns++;
      if (attempt >= MAX_SLOWDOWN_RETRIES) return { delay, refused: true };
      delay += this.random() * Math.min(MAX_RETRY_DELAY_MS, this.model.slowDownBaseMs * 2 ** (attempt + 1));
    }
  }
}
