/**
 * Query 2 of the Big Data Benchmark, simulated as it runs: the fixed SQL plan of `smelter query2`
 * (src/query/query2.ts: query2Sql over the headerless uservisits table) planned and prepared by
 * the real planner over a synthetic listing, and run through the executor's stage graph by
 * simulateSql (sql.ts). Only the data is modelled: uservisits' shape, with the distinct groups of
 * 2A measured on datagen's data (a power law, capped).
 */
import { query2Sql } from "../query/query2.js";
import { PRESETS, type TableShape } from "./shapes.js";
import { simulateSql, type SimResult, type SimRunOptions } from "./sql.js";

export { SPECULATION, type SimResult } from "./sql.js";

export interface Query2SimOptions extends SimRunOptions {
  /** Input bytes (uservisits CSV). */
  inputBytes: number;
  /** Rows of the input. @default its bytes / the benchmark's bytes per row */
  rows?: number;
  /** Input objects (equal sizes). @default one per 256 MiB */
  objects?: number;
  /** R; @default the planner's rule */
  partitions?: number;
  /** Bytes per map task; @default the planner's rule */
  targetTaskBytes?: number;
  /** Caps the distinct groups of 2A (the result's rows) in the whole input and in any task. @default the measured power law, at most 16.7M */
  groups?: number;
}

/** Bytes of a uservisits row in the benchmark's data (126.8 GB / 775M rows). */
export const USERVISITS_BYTES_PER_ROW = PRESETS.uservisits!.bytesPerRow;

/**
 * Distinct SUBSTR(sourceIP, 1, 8) in n rows of datagen's uservisits: 159,485 groups in 300k rows,
 * 434,872 in 1.5M (measured): a power law of exponent 0.623, capped by the rows and by the ~16.7M
 * possible prefixes (assumed cap).
 */
export function query2aGroups(rows: number): number {
  return Math.max(1, Math.min(rows, 16.7e6, 434_872 * Math.pow(rows / 1.5e6, 0.623)));
}

/** uservisits of `inputBytes`, grouped by 2A's key. */
export function uservisitsForQuery2(inputBytes: number, o: { rows?: number; objects?: number; groups?: number } = {}): TableShape {
  const cap = o.groups;
  const rows = o.rows ?? inputBytes / USERVISITS_BYTES_PER_ROW;
  return {
    name: "uservisits",
    columns: PRESETS.uservisits!.columns,
    rows,
    bytesPerRow: inputBytes / rows,
    selectivity: 1,
    groupsIn: cap === undefined ? query2aGroups : (n) => Math.min(cap, query2aGroups(n)),
    ...(o.objects !== undefined ? { objects: o.objects } : {}),
  };
}

export async function simulateQuery2(o: Query2SimOptions): Promise<SimResult> {
  const { inputBytes, rows, objects, partitions, targetTaskBytes, groups, ...run } = o;
  const table = uservisitsForQuery2(inputBytes, { ...(rows !== undefined ? { rows } : {}), ...(objects !== undefined ? { objects } : {}), ...(groups !== undefined ? { groups } : {}) });
  return simulateSql({ query: query2Sql(8), tables: [table], ...(partitions !== undefined ? { partitions } : {}), ...(targetTaskBytes !== undefined ? { taskBytes: targetTaskBytes } : {}) }, run);
}
