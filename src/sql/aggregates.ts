/**
 * Splitting aggregates across stages. Three ways, chosen per query:
 * - `partial`: every aggregate is COUNT(*), COUNT(x), SUM, MIN, MAX or AVG (numeric), optionally
 *   with FILTER: each split computes partials (AVG as a sum and a count), the final stage combines
 *   them (counts and sums summed, MIN of MINs, sum / count), NULL-correct.
 * - `distinct`: every aggregate is COUNT(DISTINCT x), SUM(DISTINCT x), MIN(x) or MAX(x) of the
 *   same x: splits keep distinct (keys, x) pairs, a shuffle by (keys, x) puts every x of a group in
 *   one partition, which computes per-partition partials, combined like `partial` (two levels).
 * - `raw`: anything else (median, string_agg, COUNT(DISTINCT) next to SUM...): splits project the
 *   group keys and the columns the aggregates read; the final stage runs the aggregates as written
 *   over all rows of each group (a shuffle by the group keys puts a group in one partition).
 * Final columns are named `__k<i>` (group keys) and `__a<j>` (aggregates).
 */
import { cast, colRef, fn, intConst, mapExpr, walkExpr, withAlias, type Expr } from "./ast.js";

export type Strategy = "partial" | "distinct" | "raw";
type Kind = "count" | "sum" | "min" | "max" | "avg";

export const keyName = (i: number) => `__k${i}`;
export const aggName = (j: number) => `__a${j}`;

/** DuckDB's numeric types, as DESCRIBE names them. */
export const NUMERIC = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|REAL|DECIMAL(\(.*\))?)$/i;

const fname = (e: Expr) => String(e.function_name).toLowerCase();
const args = (e: Expr) => (e.children as Expr[]) ?? [];
const hasOrder = (e: Expr) => ((e.order_bys as { orders?: unknown[] } | undefined)?.orders ?? []).length > 0;

function partialKind(e: Expr, argType: (e: Expr) => string | undefined): Kind | undefined {
  if (hasOrder(e)) return undefined;
  const n = fname(e);
  if ((n === "min" || n === "max") && args(e).length === 1) return n;
  if (e.distinct) return undefined;
  if (n === "count_star" || (n === "count" && args(e).length <= 1)) return "count";
  if (n === "sum" && args(e).length === 1) return "sum";
  if ((n === "avg" || n === "mean") && args(e).length === 1 && NUMERIC.test(argType(args(e)[0]!) ?? "")) return "avg";
  return undefined;
}

function distinctKind(e: Expr): Kind | undefined {
  if (hasOrder(e) || e.filter || args(e).length !== 1) return undefined;
  const n = fname(e);
  if (n === "min" || n === "max") return n;
  if (e.distinct && (n === "count" || n === "sum")) return n;
  return undefined;
}

export interface AggregatePlan {
  strategy: Strategy;
  /** Per aggregate, how its final value is combined (partial and distinct). */
  kinds: Kind[];
  /** The single argument of the `distinct` strategy. */
  distinctArg?: Expr;
  /** `raw`: column references the aggregates read, projected as `__v<n>`. */
  rawColumns: Expr[];
}

export function chooseAggregates(calls: Expr[], key: (e: unknown) => string, argType: (e: Expr) => string | undefined): AggregatePlan {
  const partial = calls.map((c) => partialKind(c, argType));
  if (partial.every((k) => k !== undefined)) return { strategy: "partial", kinds: partial as Kind[], rawColumns: [] };
  const distinct = calls.map(distinctKind);
  const arg0 = args(calls[0]!)[0];
  if (arg0 && distinct.every((k) => k !== undefined) && calls.some((c) => c.distinct) && calls.every((c) => key(args(c)[0]) === key(arg0))) {
    return { strategy: "distinct", kinds: distinct as Kind[], distinctArg: arg0, rawColumns: [] };
  }
  const cols: Expr[] = [];
  walkExpr(calls, (e) => {
    if (e.class === "COLUMN_REF" && !cols.some((c) => key(c) === key(e))) cols.push(e);
  });
  return { strategy: "raw", kinds: [], rawColumns: cols };
}

/** Split-side partial aggregates of call `c` (aliased), for `partial`. */
export function partialItems(c: Expr, kind: Kind, j: number): Expr[] {
  const name = aggName(j);
  if (kind === "avg") {
    const extra = { filter: (c.filter as Expr | null) ?? null };
    return [withAlias(fn("sum", args(c), extra), `${name}_s`), withAlias(fn("count", args(c), extra), `${name}_c`)];
  }
  return [withAlias({ ...c, function_name: fname(c) === "mean" ? "avg" : c.function_name, distinct: false }, name)];
}

/**
 * A split that skips its combine (keys nearly all distinct: src/builtin-workers/sql-stage.ts)
 * projects, per row, what aggregate `j`'s partials read: its argument as `__u<j>_x` and its
 * FILTER as `__u<j>_f` ({@link uncombinedColumns} turns them into the partial columns).
 */
export function uncombinedInputs(c: Expr, j: number): Expr[] {
  const out: Expr[] = [];
  const x = fname(c) === "count_star" ? undefined : args(c)[0];
  if (x) out.push(withAlias(x, `__u${j}_x`));
  if (c.filter) out.push(withAlias(c.filter as Expr, `__u${j}_f`));
  return out;
}

/**
 * SQL text of aggregate `j`'s partial columns computed from ONE row (over {@link uncombinedInputs}),
 * what its partial aggregate gives for a group of that row alone: COUNT 1 or 0 (NULL argument,
 * FILTER not true), SUM/MIN/MAX the value (NULL when filtered out), AVG both. The caller casts each
 * to the partial's type, so the final aggregate reads the same columns either way.
 */
export function uncombinedColumns(c: Expr, kind: Kind, j: number): { name: string; sql: string }[] {
  const x = fname(c) === "count_star" || args(c).length === 0 ? undefined : `__u${j}_x`;
  const f = c.filter ? `__u${j}_f` : undefined;
  const value = f ? `CASE WHEN ${f} THEN ${x} END` : x!;
  const counted = [x ? `${x} IS NOT NULL` : undefined, f].filter((t) => t !== undefined);
  const count = counted.length ? `CASE WHEN ${counted.join(" AND ")} THEN 1 ELSE 0 END` : "1";
  const name = aggName(j);
  switch (kind) {
    case "count":
      return [{ name, sql: count }];
    case "sum":
    case "min":
    case "max":
      return [{ name, sql: value }];
    case "avg":
      return [
        { name: `${name}_s`, sql: value },
        { name: `${name}_c`, sql: count },
      ];
  }
}

/** Per-partition partials of the `distinct` strategy, over column `__d`. */
export function distinctItems(kinds: Kind[]): Expr[] {
  return kinds.map((k, j) => withAlias(fn(k, [colRef("__d")], { distinct: k === "count" || k === "sum" }), aggName(j)));
}

/** The final value of aggregate `j` from its partial columns. */
export function finalItem(kind: Kind, j: number): Expr {
  const p = colRef(aggName(j));
  switch (kind) {
    case "count":
      return withAlias(cast({ class: "OPERATOR", type: "OPERATOR_COALESCE", alias: "", children: [fn("sum", [p]), intConst(0)] }, "BIGINT"), aggName(j));
    case "sum":
      return withAlias(fn("sum", [p]), aggName(j));
    case "min":
    case "max":
      return withAlias(fn(kind, [p]), aggName(j));
    case "avg":
      return withAlias({ ...fn("/", [cast(fn("sum", [colRef(`${aggName(j)}_s`)]), "DOUBLE"), fn("sum", [colRef(`${aggName(j)}_c`)])]), is_operator: true }, aggName(j));
  }
}

/** `raw`: the aggregate calls over the projected columns `__v<n>`. */
export function rawFinalItems(calls: Expr[], rawColumns: Expr[], key: (e: unknown) => string): Expr[] {
  const keys = rawColumns.map(key);
  return calls.map((c, j) =>
    withAlias(
      mapExpr(c, (e) => {
        if (e.class !== "COLUMN_REF") return undefined;
        const n = keys.indexOf(key(e));
        return n >= 0 ? colRef(`__v${n}`) : undefined;
      }),
      aggName(j),
    ),
  );
}

/** Replaces group keys by `__k<i>` and aggregate calls by `__a<j>` in `x`. */
export function overFinal<T>(x: T, keys: Expr[], calls: Expr[], key: (e: unknown) => string): T {
  const kk = keys.map(key);
  const ck = calls.map(key);
  return mapExpr(x, (e) => {
    const k = key(e);
    const i = kk.indexOf(k);
    if (i >= 0) return colRef(keyName(i));
    const j = ck.indexOf(k);
    if (j >= 0) return colRef(aggName(j));
    return undefined;
  });
}

