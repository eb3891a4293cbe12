/**
 * DuckDB's parse tree as plain JSON (what `json_serialize_sql` returns), and the few helpers the
 * planner needs: builders for new nodes, a generic walk/map over expressions, and a structural
 * key that compares expressions ignoring source positions and aliases. See parse.ts for what the
 * tree looks like.
 */

/** An expression node: `{ class, type, alias, ... }` (class COLUMN_REF, FUNCTION, CONSTANT, ...). */
export interface Expr {
  class: string;
  type: string;
  alias: string;
  [field: string]: unknown;
}

/** A FROM item: `{ type: BASE_TABLE | JOIN | SUBQUERY | EMPTY | TABLE_FUNCTION ..., alias, ... }`. */
export interface TableRef {
  type: string;
  alias: string;
  [field: string]: unknown;
}

export interface OrderTerm {
  /** ASCENDING | DESCENDING | ORDER_DEFAULT */
  type: string;
  /** NULLS_FIRST | NULLS_LAST | ORDER_DEFAULT */
  null_order: string;
  expression: Expr;
}

export interface Modifier {
  /** ORDER_MODIFIER | LIMIT_MODIFIER | DISTINCT_MODIFIER | LIMIT_PERCENT_MODIFIER */
  type: string;
  orders?: OrderTerm[];
  limit?: Expr | null;
  offset?: Expr | null;
  distinct_on_targets?: Expr[];
  [field: string]: unknown;
}

export interface SelectNode {
  type: "SELECT_NODE";
  modifiers: Modifier[];
  cte_map: { map: { key: string; value: { aliases: string[]; query: { node: QueryNode }; [f: string]: unknown } }[] };
  select_list: Expr[];
  from_table: TableRef;
  where_clause: Expr | null;
  group_expressions: Expr[];
  group_sets: number[][];
  aggregate_handling: string;
  having: Expr | null;
  sample: unknown;
  qualify: Expr | null;
  [field: string]: unknown;
}

/** A query node: a SELECT, or something the planner refuses (SET_OPERATION_NODE, ...). */
export type QueryNode = SelectNode | { type: string; [field: string]: unknown };

export const clone = <T>(x: T): T => structuredClone(x);

export const isExpr = (x: unknown): x is Expr => typeof x === "object" && x !== null && typeof (x as { class?: unknown }).class === "string";

const FUNCTION_FIELDS = { schema: "", catalog: "", filter: null, order_bys: { type: "ORDER_MODIFIER", orders: [] }, distinct: false, is_operator: false, export_state: false };

export function colRef(...names: string[]): Expr {
  return { class: "COLUMN_REF", type: "COLUMN_REF", alias: "", column_names: names };
}

export function fn(name: string, args: Expr[], extra: { distinct?: boolean; filter?: Expr | null } = {}): Expr {
  return { class: "FUNCTION", type: "FUNCTION", alias: "", function_name: name, children: args, ...FUNCTION_FIELDS, ...extra };
}

export function op(name: string, args: Expr[]): Expr {
  return { ...fn(name, args), is_operator: true };
}

export function cast(child: Expr, typeId: string): Expr {
  return { class: "CAST", type: "OPERATOR_CAST", alias: "", child, cast_type: { id: typeId, type_info: null }, try_cast: false };
}

export function intConst(value: number): Expr {
  return { class: "CONSTANT", type: "VALUE_CONSTANT", alias: "", value: { type: { id: "BIGINT", type_info: null }, is_null: false, value } };
}

export function and(terms: Expr[]): Expr | null {
  if (terms.length === 0) return null;
  if (terms.length === 1) return terms[0] ?? null;
  return { class: "CONJUNCTION", type: "CONJUNCTION_AND", alias: "", children: terms };
}

/** The conjuncts of `e` (flattening nested ANDs). */
export function conjuncts(e: Expr | null): Expr[] {
  if (!e) return [];
  if (e.class === "CONJUNCTION" && e.type === "CONJUNCTION_AND") return (e.children as Expr[]).flatMap(conjuncts);
  return [e];
}

export function withAlias(e: Expr, alias: string): Expr {
  return { ...e, alias };
}

export function baseTable(name: string, alias = ""): TableRef {
  return { type: "BASE_TABLE", alias, sample: null, schema_name: "", table_name: name, column_name_alias: [], catalog_name: "", at_clause: null };
}

export function subqueryRef(node: QueryNode, alias: string): TableRef {
  return { type: "SUBQUERY", alias, sample: null, subquery: { node, named_param_map: [] }, column_name_alias: [] };
}

/** A fresh SELECT node. */
export function selectNode(parts: { select: Expr[]; from: TableRef; where?: Expr | null; groupBy?: Expr[]; having?: Expr | null; modifiers?: Modifier[] }): SelectNode {
  const groupBy = parts.groupBy ?? [];
  return {
    type: "SELECT_NODE",
    modifiers: parts.modifiers ?? [],
    cte_map: { map: [] },
    select_list: parts.select,
    from_table: parts.from,
    where_clause: parts.where ?? null,
    group_expressions: groupBy,
    group_sets: groupBy.length ? [groupBy.map((_, i) => i)] : [],
    aggregate_handling: "STANDARD_HANDLING",
    having: parts.having ?? null,
    sample: null,
    qualify: null,
  };
}

export function orderModifier(orders: OrderTerm[]): Modifier {
  return { type: "ORDER_MODIFIER", orders };
}

export function limitModifier(limit: number | null, offset: number | null): Modifier {
  return { type: "LIMIT_MODIFIER", limit: limit === null ? null : intConst(limit), offset: offset === null ? null : intConst(offset) };
}

/**
 * Maps every expression in `x` top-down: `f` returns a replacement (not descended into; it takes
 * the replaced node's alias when it has none) or undefined (keep the node, map its children).
 * Returns a new tree; `x` is not changed.
 */
export function mapExpr<T>(x: T, f: (e: Expr) => Expr | undefined): T {
  const go = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(go);
    if (typeof v !== "object" || v === null) return v;
    if (isExpr(v)) {
      const r = f(v);
      // A replaced node keeps its alias: a struct literal's fields are its children's aliases ({'s': count(*)} stays STRUCT(s ...), not __a0).
      if (r !== undefined) return v.alias && !r.alias ? { ...r, alias: v.alias } : r;
    }
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[k] = go(val);
    return out;
  };
  return go(x) as T;
}

/** Calls `f` on every expression in `x` (pre-order); return false to skip a node's children. */
export function walkExpr(x: unknown, f: (e: Expr) => boolean | void): void {
  if (Array.isArray(x)) {
    for (const v of x) walkExpr(v, f);
    return;
  }
  if (typeof x !== "object" || x === null) return;
  if (isExpr(x) && f(x) === false) return;
  for (const v of Object.values(x)) walkExpr(v, f);
}

/**
 * A key equal for structurally equal expressions: source positions and aliases are ignored,
 * and column references go through `column` (so `uv.sourceIP` and `sourceIP` can compare equal).
 */
export function exprKey(e: unknown, column: (names: string[]) => string = (n) => n.join(".").toLowerCase()): string {
  return JSON.stringify(e, (k, v: unknown) => {
    if (k === "query_location" || k === "alias") return undefined;
    if (isExpr(v) && v.class === "COLUMN_REF") return `col:${column(v.column_names as string[])}`;
    return v;
  });
}
