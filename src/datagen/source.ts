/**
 * The generated tables, and the row source of one contiguous row range of either (row-source.ts).
 */
import { RankingsSource } from "./rankings.js";
import type { RowSource } from "./row-source.js";
import { UservisitsSource } from "./uservisits.js";

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
