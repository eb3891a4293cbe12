/**
 * How long a GET of n bytes should take: `latency + n / bandwidth` (Starling's model), learned
 * from the requests seen so far. The fit is Theil-Sen over a window of recent samples (slope:
 * the median of pairwise slopes; intercept: the median residual), so the very stragglers that
 * hedging is for do not drag the expectation up. Before enough samples, a prior is used.
 */

/** Options of {@link LatencyModel}. */
export interface LatencyModelOptions {
  /** Latency of a request before any is seen, ms. @default 50 */
  priorLatencyMs?: number;
  /** Bandwidth of one request before any is seen, bytes/s. @default 50 MB/s */
  priorBandwidth?: number;
  /** Samples kept (the most recent). @default 64 */
  window?: number;
  /** Samples needed before the learned fit replaces the prior. @default 3 */
  minSamples?: number;
}

const MIN_BANDWIDTH = 1e6; // 1 MB/s
const MAX_BANDWIDTH = 1e11; // 100 GB/s

export class LatencyModel {
  readonly #prior: { latencyMs: number; bandwidth: number };
  readonly #window: number;
  readonly #minSamples: number;
  readonly #samples: { bytes: number; ms: number }[] = [];
  #fit: { latencyMs: number; bandwidth: number } | undefined;

  constructor(options: LatencyModelOptions = {}) {
    this.#prior = { latencyMs: options.priorLatencyMs ?? 50, bandwidth: options.priorBandwidth ?? 50e6 };
    this.#window = options.window ?? 64;
    this.#minSamples = options.minSamples ?? 3;
  }

  /** Records a request that completed (not one that was aborted: its time is unknown). */
  observe(bytes: number, ms: number): void {
    this.#samples.push({ bytes, ms: Math.max(0, ms) });
    if (this.#samples.length > this.#window) this.#samples.shift();
    this.#fit = undefined;
  }

  get samples(): number {
    return this.#samples.length;
  }

  /** The current `{ latencyMs, bandwidth }` (bytes/s): learned, or the prior. */
  get params(): { latencyMs: number; bandwidth: number } {
    if (this.#samples.length < this.#minSamples) return this.#prior;
    return (this.#fit ??= this.#estimate());
  }

  /** Expected duration of a GET of `bytes`, ms. */
  expectedMs(bytes: number): number {
    const { latencyMs, bandwidth } = this.params;
    return latencyMs + (bytes / bandwidth) * 1000;
  }

  #estimate(): { latencyMs: number; bandwidth: number } {
    const s = this.#samples;
    const slopes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        const db = s[j]!.bytes - s[i]!.bytes;
        // Only pairs whose sizes differ enough to say something about bandwidth.
        if (Math.abs(db) >= 0.1 * Math.max(s[i]!.bytes, s[j]!.bytes, 1)) slopes.push((s[j]!.ms - s[i]!.ms) / db);
      }
    }
    // ms per byte; without size spread, keep the prior's bandwidth and learn only the latency.
    let msPerByte = slopes.length >= this.#minSamples ? median(slopes) : 1000 / this.#prior.bandwidth;
    msPerByte = Math.min(1000 / MIN_BANDWIDTH, Math.max(1000 / MAX_BANDWIDTH, msPerByte));
    let latencyMs = median(s.map((x) => x.ms - x.bytes * msPerByte));
    if (latencyMs < 0) {
      // All the time is transfer: attribute it to bandwidth instead.
      latencyMs = 0;
      msPerByte = Math.max(1000 / MAX_BANDWIDTH, median(s.map((x) => x.ms / Math.max(1, x.bytes))));
    }
    return { latencyMs, bandwidth: 1000 / msPerByte };
  }
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}
