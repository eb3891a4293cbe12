/**
 * Two results compared as the suite requires: same column names and types, same rows (in order
 * only when ORDER BY fixes it); floating-point values within a relative 1e-9 (an absolute 1e-9
 * near zero), every other value exactly, as DuckDB's text. Returns the first difference, or
 * undefined when equal.
 */
import type { TestResult } from "../helpers/local-plan.js";

type Row = unknown[];

const text = (v: unknown) => (typeof v === "bigint" ? v.toString() : JSON.stringify(v));
const sortKey = (r: Row) => r.map((v) => (typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(6) : text(v))).join("\u0001");
const sorted = (rows: Row[]) => rows.map((r) => [sortKey(r), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);

export function floatsClose(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) <= 1e-9;
}

export function firstDifference(got: TestResult, want: TestResult, ordered: boolean): string | undefined {
  if (text(got.names) !== text(want.names)) return `column names ${text(got.names)}, DuckDB alone ${text(want.names)}`;
  if (text(got.types) !== text(want.types)) return `column types ${text(got.types)}, DuckDB alone ${text(want.types)}`;
  if (got.rows.length !== want.rows.length) return `${got.rows.length} rows, DuckDB alone ${want.rows.length}${rowSample(got.rows, want.rows)}`;
  const g = ordered ? got.rows : sorted(got.rows);
  const w = ordered ? want.rows : sorted(want.rows);
  for (let i = 0; i < w.length; i++) {
    for (let j = 0; j < w[i]!.length; j++) {
      const x = g[i]![j];
      const y = w[i]![j];
      const same = typeof x === "number" && typeof y === "number" ? floatsClose(x, y) : text(x) === text(y);
      if (!same) return `row ${i}${ordered ? "" : " (sorted)"} column ${want.names[j]}: ${text(x)}, DuckDB alone ${text(y)}; row ${text(g[i])} vs ${text(w[i])}`;
    }
  }
  return undefined;
}

/** A row one side has and the other lacks (rows compared as text), to show with a count mismatch. */
function rowSample(got: Row[], want: Row[]): string {
  const key = (r: Row) => r.map((v) => (typeof v === "number" ? v.toPrecision(9) : text(v))).join("\u0001");
  const g = new Map<string, number>();
  for (const r of got) g.set(key(r), (g.get(key(r)) ?? 0) + 1);
  for (const r of want) {
    const n = g.get(key(r)) ?? 0;
    if (n === 0) return `; e.g. missing ${text(r)}`;
    g.set(key(r), n - 1);
  }
  for (const [k, n] of g) if (n > 0) return `; e.g. extra ${text(k.split("\u0001"))}`;
  return "";
}
