/**
 * The generated tables, and the row source of one contiguous row range of either (row-source.ts).
 */
import { RankingsSource } from "./rankings.js";
import type { RowSource } from "./row-source.js";
import { BLOCK_ROWS, UservisitsSource } from "./uservisits.js";

export const tables = ["uservisits", "rankings"] as const;
export type Table = (typeof tables)[number];

/** What to generate: one contiguous row range of a table. */
export interface RangeSpec {
  table: Table;
  seed: number;
  /** uservisits only: pages in the URL space. */
  pages: number;
  startRow: number;
  rows: number;
}

export function openSource(spec: RangeSpec): RowSource {
  return spec.table === "uservisits"
    ? new UservisitsSource({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow, pages: spec.pages })
    : new RankingsSource({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow });
}

/**
 * The row range is cut at PRNG block boundaries (the unit spread over workers): how many pieces,
 * and piece `i` as [startRow, rows]. Computed, never listed: a trillion rows are 15 million pieces.
 */
export function blockCount(spec: Pick<RangeSpec, "startRow" | "rows">): number {
  if (spec.rows <= 0) return 0;
  return Math.floor((spec.startRow + spec.rows - 1) / BLOCK_ROWS) - Math.floor(spec.startRow / BLOCK_ROWS) + 1;
}

export function blockRange(spec: Pick<RangeSpec, "startRow" | "rows">, i: number): [number, number] {
  const blockStart = (Math.floor(spec.startRow / BLOCK_ROWS) + i) * BLOCK_ROWS;
  const start = Math.max(spec.startRow, blockStart);
  const end = Math.min(spec.startRow + spec.rows, blockStart + BLOCK_ROWS);
  return [start, end - start];
}
