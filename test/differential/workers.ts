/**
 * The differential suite's worker entry: every built-in worker (sql stages, Query 2's aggregate
 * workers, uploads) and the `defineMapReduce` jobs the functions path runs. Each job computes, per
 * key k: rows, COUNT(x), SUM(x) (exact, BigInt), COUNT(y), SUM(y) - what DuckDB alone computes
 * with `SELECT k, count(*), count(x), sum(x), count(y), sum(y) FROM t GROUP BY k`.
 */
import "../../src/builtin-workers/builtin.js";
import { defineMapReduce } from "../../src/mapreduce/functions.js";
import type { RecordFormat } from "../../src/mapreduce/records.js";

/** Per key: [rows, x values, sum x (decimal text), y values, sum y]. */
type Acc = [n: number, nx: number, sx: string, ny: number, sy: number];
export interface KeyTotals {
  k: string | null;
  n: number;
  nx: number;
  sx: string | null;
  ny: number;
  sy: number | null;
}

/** A field as the reader gives it: CSV's empty field and JSON's null / a missing key are NULL. */
const field = (v: unknown): string | null => (v === null || v === undefined || v === "" ? null : typeof v === "string" ? v : String(v));

function combine(_k: string | null, values: Acc[]): Acc {
  let [n, nx, sx, ny, sy] = [0, 0, 0n, 0, 0];
  for (const v of values) {
    n += v[0];
    nx += v[1];
    sx += BigInt(v[2]);
    ny += v[3];
    sy += v[4];
  }
  return [n, nx, sx.toString(), ny, sy];
}

function job(name: string, records: RecordFormat) {
  return defineMapReduce<Record<string, unknown>, string | null, Acc, KeyTotals>({
    name,
    records,
    map: (row, emit) => {
      const x = field(row.x);
      const y = field(row.y);
      emit(field(row.k), [1, x === null ? 0 : 1, x ?? "0", y === null ? 0 : 1, y === null ? 0 : Number(y)]);
    },
    combine,
    reduce: (k, values) => {
      const [n, nx, sx, ny, sy] = combine(k, values);
      return { k, n, nx, sx: nx === 0 ? null : sx, ny, sy: ny === 0 ? null : sy };
    },
  });
}

export const FUNCTION_JOBS = {
  csvHeader: job("diff.fn.csvHeader", { csv: { header: true } }),
  csvPlain: job("diff.fn.csvPlain", { csv: { columns: ["k", "g", "x", "y", "s", "d"] } }),
  ndjson: job("diff.fn.ndjson", "ndjson"),
  parquet: job("diff.fn.parquet", "parquet"),
};

/** The SQL DuckDB alone runs for the same totals. */
export const FUNCTION_SQL = "SELECT k, count(*) AS n, count(x) AS nx, CAST(sum(x) AS VARCHAR) AS sx, count(y) AS ny, sum(y) AS sy FROM t GROUP BY k";
