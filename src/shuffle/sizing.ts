/**
 * The one sizing rule of every shuffle (Query 2, SQL, the functions API): how many reducers (R)
 * a shuffle of a given size gets, and when a grouped aggregate's partials are small enough for
 * the coordinator to finish it (no reduce stage). Plain arithmetic: the planner (src/sql/) and the
 * runner (src/mapreduce/) both read it.
 */

/** A reducer's budget of map output: 256 MiB. */
export const REDUCER_BYTES = 256 * 1024 * 1024;

/**
 * R from bytes: enough reducers that each one's share of the map output fits `reducerBytes`,
 * and at least one per worker so every worker has a reducer. Capped at `max`.
 */
export function derivePartitions(o: { mapOutputBytes: number; reducerBytes?: number; workers: number; max?: number }): number {
  const reducerBytes = o.reducerBytes ?? REDUCER_BYTES;
  return Math.max(1, Math.min(o.max ?? 4096, Math.max(o.workers, Math.ceil(o.mapOutputBytes / reducerBytes))));
}

/**
 * Partial aggregates estimated from input bytes: 1/8 of the input (BDB Q2C, with a 12-character
 * prefix, keeps nearly one group per row: its partials are ~1/8 of the CSV).
 */
export function partialBytes(inputBytes: number): number {
  return inputBytes / 8;
}

/**
 * Whether the final aggregate over partials of `inputBytes` of input runs on the coordinator
 * (no reduce stage; each map writes one segment) when the user gave no R: the estimated partials
 * fit one reducer's budget (inputs up to ~2 GiB). The SQL planner (src/sql/context.ts) decides
 * with this, for `smelter sql` and `smelter query2` alike.
 */
export function mergeOnCoordinator(inputBytes: number): boolean {
  return derivePartitions({ mapOutputBytes: partialBytes(inputBytes), workers: 1 }) === 1;
}
