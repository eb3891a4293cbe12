/**
 * Runs a simulation over seeds and a sweep of worker counts, with and without the straggler
 * policies (speculation, hedged reads), and summarizes: time median and p95 over seeds, cost,
 * bytes and requests (medians).
 */
import type { SimResult } from "./sql.js";

export interface Variant {
  name: string;
  speculation: boolean;
  hedging: boolean;
}

export const VARIANTS: Variant[] = [
  { name: "speculation + hedging", speculation: true, hedging: true },
  { name: "no speculation, no hedging", speculation: false, hedging: false },
];

export interface SummaryRow {
  workers: number;
  variant: string;
  /** Seeds whose job finished. */
  finished: number;
  seeds: number;
  medianSeconds: number | undefined;
  p95Seconds: number | undefined;
  medianCost: number;
  mapTasks: number;
  partitions: number;
  bytesRead: number;
  bytesWritten: number;
  gets: number;
  puts: number;
  slowDowns: number;
  hedges: number;
  speculated: number;
  noCapacity: number;
  /** The first failure's message, when some seeds failed. */
  failure?: string;
  /** Real ms the simulations of this row took, in all. */
  simulatedInMs: number;
}

/** One simulated job: `workers`, a seed, a variant's policies. */
export type Simulate = (o: { workers: number; seed: number; speculation: boolean; hedging: boolean }) => Promise<SimResult>;

export async function sweep(simulate: Simulate, workers: number[], seeds: number, variants: Variant[] = VARIANTS): Promise<SummaryRow[]> {
  const rows: SummaryRow[] = [];
  for (const w of workers) {
    for (const v of variants) {
      const results: SimResult[] = [];
      for (let seed = 1; seed <= seeds; seed++) results.push(await simulate({ workers: w, seed, speculation: v.speculation, hedging: v.hedging }));
      rows.push(summarize(w, v.name, results));
    }
  }
  return rows;
}

export function summarize(workers: number, variant: string, results: SimResult[]): SummaryRow {
  const times = results.map((r) => r.seconds).filter((s): s is number => s !== undefined);
  const med = (xs: number[]) => quantile(xs, 0.5) ?? 0;
  const failure = results.find((r) => r.failed)?.failed;
  return {
    workers,
    variant,
    finished: times.length,
    seeds: results.length,
    medianSeconds: quantile(times, 0.5),
    p95Seconds: quantile(times, 0.95),
    medianCost: med(results.map((r) => r.cost)),
    mapTasks: med(results.map((r) => r.mapTasks)),
    partitions: med(results.map((r) => r.partitions)),
    bytesRead: med(results.map((r) => r.store.bytesRead)),
    bytesWritten: med(results.map((r) => r.store.bytesWritten)),
    gets: med(results.map((r) => r.store.gets)),
    puts: med(results.map((r) => r.store.puts)),
    slowDowns: med(results.map((r) => r.store.slowDowns)),
    hedges: med(results.map((r) => r.store.hedges)),
    speculated: med(results.map((r) => r.speculated)),
    noCapacity: med(results.map((r) => r.noCapacity)),
    simulatedInMs: results.reduce((a, r) => a + r.simulatedInMs, 0),
    ...(failure ? { failure } : {}),
  };
}

/** The q-quantile (nearest rank) of `xs`; undefined when empty. */
export function quantile(xs: number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
