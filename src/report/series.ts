/**
 * Concurrency and throughput over time, in equal buckets over the job: attempts running and
 * pending (time-weighted mean per bucket), tasks finished per second, and bytes read and
 * written per second (each attempt's bytes spread evenly over its running time). Pure.
 */
import { runMs, type TimelineAttempt } from "./timeline.js";

export interface TimeSeries {
  /** Bucket start times, ms from the job's start. */
  t: number[];
  bucketMs: number;
  running: number[];
  pending: number[];
  /** Winning attempts ending in the bucket, per second. */
  tasksPerSecond: number[];
  bytesReadPerSecond: number[];
  bytesWrittenPerSecond: number[];
}

export function timeSeries(attempts: readonly TimelineAttempt[], start: number, end: number, maxBuckets = 200): TimeSeries {
  const span = Math.max(1, end - start);
  const bucketMs = niceBucket(span / maxBuckets);
  const n = Math.max(1, Math.ceil(span / bucketMs));
  const zero = () => new Array<number>(n).fill(0);
  const running = zero();
  const pending = zero();
  const done = zero();
  const read = zero();
  const written = zero();
  /** Adds `weight` per ms over [from, to) into `into`. */
  const spread = (into: number[], from: number, to: number, weight: number) => {
    const a = Math.max(0, from - start);
    const b = Math.min(span, to - start);
    for (let i = Math.floor(a / bucketMs); i < n && i * bucketMs < b; i++) {
      const lo = Math.max(a, i * bucketMs);
      const hi = Math.min(b, (i + 1) * bucketMs);
      if (hi > lo) into[i]! += (hi - lo) * weight;
    }
  };
  for (const a of attempts) {
    const runFrom = a.runningAt ?? a.launchedAt;
    if (a.runningAt !== undefined) spread(pending, a.launchedAt, a.runningAt, 1 / bucketMs);
    spread(running, runFrom, a.endedAt, 1 / bucketMs);
    const ms = runMs(a);
    if (ms > 0) {
      spread(read, runFrom, a.endedAt, (a.counters.bytesRead ?? 0) / ms);
      spread(written, runFrom, a.endedAt, (a.counters.bytesWritten ?? 0) / ms);
    } else {
      const i = Math.min(n - 1, Math.floor((a.endedAt - start) / bucketMs));
      read[i]! += a.counters.bytesRead ?? 0;
      written[i]! += a.counters.bytesWritten ?? 0;
    }
    if (a.outcome === "won") done[Math.min(n - 1, Math.max(0, Math.floor((a.endedAt - start) / bucketMs)))]!++;
  }
  const perSecond = (xs: number[]) => xs.map((x) => (x * 1000) / bucketMs);
  return { t: Array.from({ length: n }, (_, i) => i * bucketMs), bucketMs, running, pending, tasksPerSecond: perSecond(done), bytesReadPerSecond: perSecond(read), bytesWrittenPerSecond: perSecond(written) };
}

function niceBucket(ms: number): number {
  if (ms <= 1) return 1;
  const pow = 10 ** Math.floor(Math.log10(ms));
  return [1, 2, 5, 10].map((m) => m * pow).find((w) => w >= ms)!;
}
