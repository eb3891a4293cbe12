/**
 * The FROM clause: CTEs inlined as subqueries, then flattened into relations (base tables and
 * row-local subqueries over one base table) joined left to right, and column resolution.
 */
import { ConfigError } from "../job/errors.js";
import { clone, colRef, conjuncts, mapExpr, selectNode, subqueryRef, walkExpr, type Expr, type QueryNode, type SelectNode, type TableRef } from "./ast.js";
import { excerpt, type SqlSession } from "./parse.js";
import type { SqlTable } from "./tables.js";

export interface Relation {
  /** The name the query uses for it (alias, else table name). */
  name: string;
  /** The base table whose splits or files feed it. */
  table: SqlTable;
  /** A base table itself, or a row-local subquery (filter/projection) over it. */
  kind: "table" | "subquery";
  ref: TableRef;
  /** Its column names (filled in by the planner for subqueries). */
  columns: string[];
}

export interface JoinStep {
  /** INNER, LEFT, RIGHT, FULL (OUTER in older DuckDB). The relation it brings in is `relations[index]`. */
  joinType: string;
  index: number;
  condition: Expr | null;
  using: string[];
}

export interface FromInfo {
  relations: Relation[];
  joins: JoinStep[];
  /** A single subquery that is not row-local (aggregates, DISTINCT, LIMIT...): planned on its own. */
  derived?: { node: SelectNode; alias: string };
}

/** "a" or "an" before a word in capitals (an ANTI join, a SEMI join). */
function article(word: string): string {
  return /^[AEIOU]/i.test(word) ? "an" : "a";
}

export function refuse(what: string, sql: string, hint = ""): ConfigError {
  return new ConfigError(`[smelter] [sql] ${what} cannot be distributed${hint ? `: ${hint}` : ""} (${excerpt(sql)})`);
}

/** Replaces references to CTEs in FROM (at any depth) by the CTE's query as a subquery, and names unnamed subqueries in FROM as DuckDB does. */
export function inlineCtes(node: SelectNode, sql: string, outer: Map<string, QueryNode> = new Map()): SelectNode {
  const ctes = new Map(outer);
  for (const { key, value } of node.cte_map.map) {
    const q = value.query.node;
    if (q.type === "RECURSIVE_CTE_NODE") throw refuse(`a recursive CTE (WITH RECURSIVE ${key})`, sql, "pass --allow-single-task to run it as one task");
    if (value.aliases.length) throw refuse(`a CTE with column aliases (${key}(...))`, sql, "name the columns inside the CTE's SELECT instead, or pass --allow-single-task");
    ctes.set(key.toLowerCase(), q.type === "SELECT_NODE" ? inlineCtes(q as SelectNode, sql, ctes) : q);
  }
  const fix = (ref: TableRef): TableRef => {
    if (ref.type === "BASE_TABLE") {
      const cte = ctes.get(String(ref.table_name).toLowerCase());
      return cte ? subqueryRef(cte, ref.alias || String(ref.table_name)) : ref;
    }
    if (ref.type === "JOIN") return { ...ref, left: fix(ref.left as TableRef), right: fix(ref.right as TableRef) };
    if (ref.type === "SUBQUERY") {
      // Unnamed, it takes DuckDB's name for it: unnamed_subquery, then unnamed_subquery2, ... in FROM order.
      const named = ref.alias ? ref : { ...ref, alias: `unnamed_subquery${unnamed++ === 0 ? "" : unnamed}` };
      const inner = (ref.subquery as { node: QueryNode }).node;
      return inner.type === "SELECT_NODE" ? { ...named, subquery: { ...(ref.subquery as object), node: inlineCtes(inner as SelectNode, sql, ctes) } } : named;
    }
    return ref;
  };
  let unnamed = 0;
  return { ...node, cte_map: { map: [] }, from_table: fix(node.from_table) };
}

/**
 * DuckDB lets WHERE name a select item's alias (`SELECT x + 1 AS y FROM t WHERE y > 3`) when no
 * column of the FROM clause has that name: such references become the item's expression, in this
 * SELECT and in the subqueries of its FROM (after CTEs are inlined). Whether a name is a column is
 * asked of DuckDB's binder (`SELECT name FROM <the same FROM>`), so a column always wins, as in
 * DuckDB. Subqueries inside WHERE are left alone.
 */
export async function resolveWhereAliases(s: SqlSession, node: SelectNode): Promise<SelectNode> {
  const fix = async (ref: TableRef): Promise<TableRef> => {
    if (ref.type === "JOIN") return { ...ref, left: await fix(ref.left as TableRef), right: await fix(ref.right as TableRef) };
    if (ref.type === "SUBQUERY") {
      const inner = (ref.subquery as { node: QueryNode }).node;
      return inner.type === "SELECT_NODE" ? { ...ref, subquery: { ...(ref.subquery as object), node: await resolveWhereAliases(s, inner as SelectNode) } } : ref;
    }
    return ref;
  };
  const out = { ...node, from_table: await fix(node.from_table) };
  if (!out.where_clause) return out;
  const aliases = new Map(out.select_list.filter((e) => e.alias).map((e) => [e.alias.toLowerCase(), e]));
  const names = new Set<string>();
  walkExpr(out.where_clause, (e) => {
    if (e.class === "SUBQUERY") return false;
    const n = e.class === "COLUMN_REF" ? (e.column_names as string[]) : [];
    if (n.length === 1 && aliases.has(n[0]!.toLowerCase())) names.add(n[0]!.toLowerCase());
  });
  const resolved = new Map<string, Expr>();
  for (const name of names) {
    const probe = await s.print(selectNode({ select: [colRef(name)], from: out.from_table }));
    const column = await s.describe(probe).then(() => true, () => false);
    if (!column) resolved.set(name, { ...clone(aliases.get(name)!), alias: "" });
  }
  if (resolved.size === 0) return out;
  const replace = (e: Expr): Expr | undefined => {
    if (e.class === "SUBQUERY") return e;
    const n = e.class === "COLUMN_REF" ? (e.column_names as string[]) : [];
    return n.length === 1 ? resolved.get(n[0]!.toLowerCase()) : undefined;
  };
  return { ...out, where_clause: mapExpr(out.where_clause, replace) };
}

/** True when `node` is a filter/projection (no aggregates, DISTINCT, LIMIT, windows...) of one base table or such a subquery. */
export function isRowLocal(node: QueryNode, aggregates: Set<string>): boolean {
  if (node.type !== "SELECT_NODE") return false;
  const s = node as SelectNode;
  if (s.modifiers.length || s.group_expressions.length || s.having || s.qualify || s.sample || s.aggregate_handling !== "STANDARD_HANDLING") return false;
  let local = true;
  walkExpr([s.select_list, s.where_clause], (e) => {
    if (e.class === "WINDOW" || e.class === "SUBQUERY" || (e.class === "FUNCTION" && aggregates.has(String(e.function_name).toLowerCase()))) local = false;
  });
  if (!local) return false;
  const f = s.from_table;
  if (f.type === "BASE_TABLE") return true;
  return f.type === "SUBQUERY" && isRowLocal((f.subquery as { node: QueryNode }).node, aggregates);
}

function baseOf(ref: TableRef): string {
  if (ref.type === "BASE_TABLE") return String(ref.table_name);
  return baseOf(((ref.subquery as { node: SelectNode }).node).from_table);
}

/** Flattens FROM into relations and joins; refuses what cannot be planned. */
export function analyzeFrom(node: SelectNode, tables: SqlTable[], aggregates: Set<string>, sql: string): FromInfo {
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  const table = (name: string): SqlTable => {
    const t = byName.get(name.toLowerCase());
    if (!t) throw new ConfigError(`[smelter] [sql] table ${name} is not defined: pass --table ${name}=URL (defined: ${tables.map((x) => x.name).join(", ") || "none"})`);
    return t;
  };
  const top = node.from_table;
  if (top.type === "EMPTY") throw refuse("a query without FROM", sql, "there is nothing to distribute; run it in DuckDB directly");
  if (top.type === "SUBQUERY" && !isRowLocal((top.subquery as { node: QueryNode }).node, aggregates)) {
    const inner = (top.subquery as { node: QueryNode }).node;
    if (inner.type !== "SELECT_NODE") throw refuse(`a ${inner.type === "SET_OPERATION_NODE" ? "set operation (UNION, EXCEPT, INTERSECT)" : inner.type} in FROM`, sql, "run each SELECT on its own, or pass --allow-single-task");
    return { relations: [], joins: [], derived: { node: inner as SelectNode, alias: top.alias } };
  }
  const relations: Relation[] = [];
  const joins: JoinStep[] = [];
  const visit = (ref: TableRef): void => {
    switch (ref.type) {
      case "BASE_TABLE": {
        if (ref.schema_name || ref.catalog_name) throw refuse(`a schema-qualified table (${String(ref.schema_name || ref.catalog_name)}.${String(ref.table_name)})`, sql, "tables are named by --table only");
        const t = table(String(ref.table_name));
        relations.push({ name: ref.alias || String(ref.table_name), table: t, kind: "table", ref, columns: t.columns.map((c) => c.name) });
        return;
      }
      case "SUBQUERY": {
        const inner = (ref.subquery as { node: QueryNode }).node;
        if (!isRowLocal(inner, aggregates)) throw refuse("a subquery joined with other tables that is not a filter or projection of one table (aggregates, DISTINCT, LIMIT, windows, VALUES, or subqueries of its own)", sql, "only filters/projections of a table can be joined; aggregate in a query of its own, or pass --allow-single-task");
        if (!ref.alias) throw refuse("a subquery in FROM without an alias", sql, "name it: FROM (SELECT ...) AS t");
        relations.push({ name: ref.alias, table: table(baseOf(ref)), kind: "subquery", ref, columns: [] });
        return;
      }
      case "JOIN": {
        const joinType = String(ref.join_type);
        if (ref.ref_type !== "REGULAR" && ref.ref_type !== "CROSS") throw refuse(`${article(String(ref.ref_type))} ${String(ref.ref_type)} join`, sql, "write the join condition with ON");
        if (!["INNER", "LEFT", "RIGHT", "FULL", "OUTER"].includes(joinType)) throw refuse(`${article(joinType)} ${joinType} join`, sql, "use INNER, LEFT, RIGHT or FULL joins");
        visit(ref.left as TableRef);
        const right = ref.right as TableRef;
        if (right.type === "JOIN") throw refuse("a join nested on the right-hand side", sql, "write joins left to right");
        visit(right);
        joins.push({ joinType, index: relations.length - 1, condition: (ref.condition as Expr | null) ?? null, using: (ref.using_columns as string[]) ?? [] });
        return;
      }
      default: {
        const pivot = ref.type === "PIVOT" ? ((ref.unpivot_names as unknown[] | undefined)?.length ? "UNPIVOT" : "PIVOT") : undefined;
        const fn = ref.type === "TABLE_FUNCTION" ? String((ref.function as { function_name?: unknown } | undefined)?.function_name ?? "").toLowerCase() : "";
        if (fn === "unnest") throw refuse("unnest(...) in FROM (a lateral join)", sql, "unnest in the select list instead (SELECT t.id, unnest(t.l) AS x FROM t), or pass --allow-single-task");
        const what = pivot ?? ({ EXPRESSION_LIST: "a VALUES list", TABLE_FUNCTION: "a table function", COLUMN_DATA: "a VALUES list" } as Record<string, string>)[ref.type] ?? `a ${ref.type}`;
        throw refuse(`${what} in FROM`, sql, pivot ? "pass --allow-single-task to run it as one task" : "read tables defined with --table, or pass --allow-single-task");
      }
    }
  };
  visit(top);
  const names = new Set<string>();
  for (const r of relations) {
    const k = r.name.toLowerCase();
    if (names.has(k)) throw refuse(`the same name used twice in FROM (${r.name})`, sql, "give each table an alias");
    names.add(k);
  }
  const baseNames = new Set<string>();
  for (const r of relations) {
    const k = r.table.name.toLowerCase();
    if (baseNames.has(k)) throw refuse(`a self-join (${r.table.name} read twice)`, sql, `define the table a second time under another name (--table ${r.table.name}2=<the same URL>) and join the two, or pass --allow-single-task`);
    baseNames.add(k);
  }
  return { relations, joins };
}

/** Resolves column references to relations by name. */
export class Resolver {
  constructor(readonly relations: Relation[]) {}

  /** The relation index of a column reference, or -1 (unknown: an alias, a struct field...). */
  relationOf(names: string[]): number {
    if (names.length >= 2) {
      const i = this.relations.findIndex((r) => r.name.toLowerCase() === names[0]!.toLowerCase());
      if (i >= 0) return i;
    }
    const col = names[0]!.toLowerCase();
    const hits = this.relations.flatMap((r, i) => (r.columns.some((c) => c.toLowerCase() === col) ? [i] : []));
    return hits.length === 1 ? hits[0]! : -1;
  }

  /** A canonical name for exprKey: `<relation>.<column>` when resolvable. */
  canonical = (names: string[]): string => {
    const i = this.relationOf(names);
    const col = (names.length >= 2 && i >= 0 && this.relations[i]!.name.toLowerCase() === names[0]!.toLowerCase() ? names[1]! : names[0]!).toLowerCase();
    return i >= 0 ? `${i}.${col}` : names.join(".").toLowerCase();
  };

  /** True when `names` names a column of some relation (not a select alias). */
  isColumn(names: string[]): boolean {
    return this.relationOf(names) >= 0;
  }

  /** Relations an expression reads. */
  relationsIn(e: unknown): Set<number> {
    const out = new Set<number>();
    walkExpr(e, (x) => {
      if (x.class === "COLUMN_REF") out.add(this.relationOf(x.column_names as string[]));
    });
    return out;
  }
}

/** Equality conjuncts `l = r` with l reading only relation set A and r only B (either way round). */
export function equiKeys(conds: Expr[], resolver: Resolver, left: Set<number>, right: Set<number>): { left: Expr; right: Expr }[] {
  const out: { left: Expr; right: Expr }[] = [];
  const within = (e: Expr, side: Set<number>) => {
    const rs = resolver.relationsIn(e);
    return rs.size > 0 && [...rs].every((r) => side.has(r));
  };
  for (const c of conds.flatMap(conjuncts)) {
    if (c.class !== "COMPARISON" || c.type !== "COMPARE_EQUAL") continue;
    const l = c.left as Expr;
    const r = c.right as Expr;
    if (within(l, left) && within(r, right)) out.push({ left: l, right: r });
    else if (within(r, left) && within(l, right)) out.push({ left: r, right: l });
  }
  return out;
}

export const noQualifiers = (e: Expr): Expr => mapExpr(e, (x) => (x.class === "COLUMN_REF" ? { ...x, column_names: (x.column_names as string[]).slice(-1) } : undefined));
