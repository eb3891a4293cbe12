/**
 * What a SELECT asks for, in the planner's terms: its select items (stars expanded), group keys
 * (ordinals and aliases resolved), the distinct aggregate calls, ORDER BY terms (pointing at
 * select items where they can), LIMIT/OFFSET; and refusals of what cannot be distributed.
 */
import { ConfigError } from "../job/errors.js";
import { colRef, exprKey, walkExpr, type Expr, type OrderTerm, type SelectNode, type TableRef } from "./ast.js";
import { refuse, type FromInfo, type Relation, type Resolver } from "./from.js";
import { markedBigInt } from "./parse.js";

export interface Order {
  expr: Expr;
  type: string;
  nullOrder: string;
  /** The select item it sorts by, when it names one (ordinal, alias, same expression). */
  item?: number;
}

export interface QueryInfo {
  node: SelectNode;
  from: FromInfo;
  resolver: Resolver;
  items: Expr[];
  keys: Expr[];
  aggregates: Expr[];
  grouped: boolean;
  distinct: boolean;
  orders: Order[];
  limit: number | null;
  offset: number | null;
}

export function isAggregateCall(e: Expr, aggregates: Set<string>): boolean {
  return e.class === "FUNCTION" && aggregates.has(String(e.function_name).toLowerCase());
}

/** Functions of the query's own instant (DuckDB: the transaction's start), called as functions. */
const INSTANT_FUNCTIONS = new Set(["now", "today", "get_current_timestamp", "transaction_timestamp", "current_localtimestamp", "current_localtime", "get_current_time", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime"]);
/** The same, written without parentheses: DuckDB parses them as column names and binds them when no column has the name. */
const INSTANT_KEYWORDS = new Set(["current_timestamp", "current_date", "current_time", "localtimestamp", "localtime"]);

/**
 * Calls whose value is the task's own session's, not the query's: `setseed()` seeds each task's
 * generator the same, so random() repeats across tasks (found by a sweep: 2,000-3,000 distinct
 * values of 4,000); `current_setting()` reads the task's settings (threads = 1), `current_query()`
 * the stage's SQL, `txid_current()` the task's transaction.
 */
const SESSION_FUNCTIONS = new Map([["setseed", true], ["txid_current", true], ["current_setting", false], ["current_query", false]]);

/** The first call in `tree` of a {@link SESSION_FUNCTIONS} function, if any; `singleTask`: one task answers it as DuckDB alone does (not settings or the SQL, which are the task's even then). */
export function sessionCall(tree: unknown): { call: string; singleTask: boolean } | undefined {
  let found: { call: string; singleTask: boolean } | undefined;
  walkExpr(tree, (e) => {
    if (found) return false;
    const single = e.class === "FUNCTION" ? SESSION_FUNCTIONS.get(String(e.function_name).toLowerCase()) : undefined;
    if (single !== undefined) found = { call: `${String(e.function_name)}()`, singleTask: single };
  });
  return found;
}

/**
 * The first call in `tree` of the query's own time (now(), current_timestamp, current_date...), if
 * any. DuckDB alone evaluates them once, at the query's start; each task of a plan would evaluate
 * them in its own transaction, at its own time (found by a differential sweep: `count(DISTINCT
 * now())` gave 57 over 57 tasks), so a plan refuses them. `columns`: the tables' column names,
 * lower case (a column named current_date is a column).
 */
export function instantCall(tree: unknown, columns: Set<string>): string | undefined {
  let found: string | undefined;
  walkExpr(tree, (e) => {
    if (found) return false;
    if (e.class === "FUNCTION" && INSTANT_FUNCTIONS.has(String(e.function_name).toLowerCase())) found = `${String(e.function_name)}()`;
    if (e.class === "COLUMN_REF") {
      const names = e.column_names as string[];
      const name = String(names[0]).toLowerCase();
      if (names.length === 1 && INSTANT_KEYWORDS.has(name) && !columns.has(name)) found = String(names[0]);
    }
  });
  return found;
}

/** Refuses constructs that no plan handles, naming them. */
export function checkSupported(node: SelectNode, sql: string): void {
  if (node.qualify) throw refuse("QUALIFY", sql, "it filters on window functions, which need every row of a partition in one place; filter in an outer query over an aggregate subquery, or pass --allow-single-task");
  if (node.sample) throw refuse("USING SAMPLE", sql, "a sample of every split is not a sample of the table; pass --allow-single-task");
  // TABLESAMPLE on a table or subquery in FROM: each split took its own (TABLESAMPLE 5 ROWS gave 10 rows over 2 tasks).
  const sampled = (ref: TableRef): boolean => ref.sample != null || (ref.type === "JOIN" && (sampled(ref.left as TableRef) || sampled(ref.right as TableRef)));
  if (sampled(node.from_table)) throw refuse("TABLESAMPLE", sql, "a sample of every split is not a sample of the table; pass --allow-single-task");
  if (node.group_sets.length > 1) throw refuse("GROUPING SETS / ROLLUP / CUBE", sql, "run one query per grouping, or pass --allow-single-task");
  for (const m of node.modifiers) {
    if (m.type === "DISTINCT_MODIFIER" && (m.distinct_on_targets ?? []).length) throw refuse("DISTINCT ON", sql, "use GROUP BY with arg_min/arg_max, or pass --allow-single-task");
    if (!["ORDER_MODIFIER", "LIMIT_MODIFIER", "DISTINCT_MODIFIER"].includes(m.type)) throw refuse(m.type.replace(/_MODIFIER$/, "").replace(/_/g, " "), sql, "pass --allow-single-task");
  }
  walkExpr([node.select_list, node.where_clause, node.group_expressions, node.having, node.modifiers], (e) => {
    if (e.class === "WINDOW") throw refuse(`the window function ${String(e.function_name)}() OVER (...)`, sql, "window functions need every row of a partition in one place; compute it in an outer query over an aggregate subquery, which runs on the coordinator (SELECT k, s, sum(s) OVER () FROM (SELECT k, sum(x) AS s FROM t GROUP BY k) q), or pass --allow-single-task");
    if (e.class === "SUBQUERY") throw refuse(`${({ ANY: "an IN (SELECT ...) or ANY", EXISTS: "an EXISTS", NOT_EXISTS: "a NOT EXISTS", SCALAR: "a scalar" } as Record<string, string>)[String(e.subquery_type)] ?? `a ${String(e.subquery_type).toLowerCase()}`} subquery in an expression`, sql, "subqueries in expressions (IN (SELECT ...), EXISTS, scalar or correlated subqueries) are not planned; join instead, or pass --allow-single-task");
    if (e.class === "PARAMETER") throw new ConfigError(`[smelter] [sql] the query has a parameter ($1/?): write the value into the query`);
    if (e.class === "POSITIONAL_REFERENCE") throw refuse("a positional reference (#1)", sql, "name the column");
  });
  // Rows are hashed and compared by their bytes across tasks: values equal only under a collation would group, join and DISTINCT apart (once a wrong answer: 3 groups for 1). ORDER BY runs in one place.
  walkExpr([node.select_list, node.where_clause, node.group_expressions, node.having, node.from_table], (e) => {
    if (e.class === "COLLATE") throw refuse(`COLLATE ${String(e.collation)} outside ORDER BY`, sql, "compare with lower(), strip_accents() or nfc_normalize() instead, or pass --allow-single-task");
  });
}

/** A constant's value and type id, or undefined for anything else. */
function constantOf(e: Expr | null | undefined): { value?: unknown; is_null?: boolean; type?: { id?: unknown; type_info?: { scale?: unknown } } } | undefined {
  return e?.class === "CONSTANT" ? (e.value as ReturnType<typeof constantOf>) : undefined;
}

const isIntegerType = (id: unknown) => /INT/i.test(String(id));

/** An integer constant in GROUP BY or ORDER BY is a position; any other constant ('x', 1.5) is a value, as DuckDB reads it. */
function isPosition(e: Expr): boolean {
  return isIntegerType(constantOf(e)?.type?.id);
}

/**
 * A whole-number constant as DuckDB casts it for LIMIT and OFFSET: an integer (16 digits or more,
 * `LIMIT 9223372036854775807`, read as 2^53 - 1: more rows than any result has), or a DECIMAL
 * scaled and rounded half away from zero (its value is unscaled in the tree: `LIMIT 1.5` is 15
 * with scale 1, and is 2); null for NULL; undefined for anything else (an expression, a DOUBLE, a
 * string, a negative number).
 */
export function wholeConstant(e: Expr | null | undefined): number | null | undefined {
  const v = constantOf(e);
  if (!v) return undefined;
  if (v.is_null) return null;
  const big = markedBigInt(v.value);
  if (big !== undefined) return big >= 0n && isIntegerType(v.type?.id) ? Number(big > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : big) : undefined;
  if (typeof v.value !== "number" || !Number.isInteger(v.value) || v.value < 0) return undefined;
  if (v.type?.id === "DECIMAL") return Math.round(v.value / 10 ** Number(v.type.type_info?.scale ?? 0));
  return isIntegerType(v.type?.id) ? v.value : undefined;
}

function constInt(e: Expr | null | undefined, what: string, sql: string): number | null {
  if (!e) return null;
  const n = wholeConstant(e);
  if (n === undefined) throw refuse(`a ${what} that is not a whole number constant`, sql, "write the number, or pass --allow-single-task");
  return n;
}

type QualifiedName = { table?: string; column: string };

function expandStars(list: Expr[], from: FromInfo, sql: string): Expr[] {
  return list.flatMap((e) => {
    if (e.class !== "STAR") {
      // COLUMNS(...) inside an expression (max(COLUMNS(*)), COLUMNS(*)::VARCHAR) is as many items as it matches: positions after it would count wrong.
      walkExpr(e, (x) => {
        if (x.class === "STAR") throw refuse("COLUMNS(...), * LIKE or * SIMILAR TO in an expression", sql, "list the columns, or pass --allow-single-task");
      });
      return [e];
    }
    if (e.columns || e.expr) throw refuse("COLUMNS(...)", sql, "list the columns, or pass --allow-single-task");
    const rel = String(e.relation_name ?? "").toLowerCase();
    const lower = (x: string) => x.toLowerCase();
    const exclude = new Set((e.exclude_list as unknown[]).map((x) => lower(typeof x === "string" ? x : JSON.stringify(x))));
    // Qualified names (t.x) in EXCLUDE and RENAME name one table's column; unqualified, every table's.
    const matches = (k: QualifiedName, r: Relation, c: string) => lower(k.column) === lower(c) && (!k.table || lower(k.table) === lower(r.name));
    const qualifiedExclude = ((e.qualified_exclude_list as QualifiedName[] | undefined) ?? []);
    const replace = new Map((e.replace_list as { key: string; value: Expr }[]).map(({ key, value }) => [lower(key), value]));
    const rename = ((e.rename_list as { key: QualifiedName; value: string }[] | undefined) ?? []);
    const using = rel ? undefined : usingStar(from, sql);
    // * REPLACE (expr AS c) puts expr in c's place, named c; * RENAME (c AS d) names c d.
    const item = (r: Relation, c: string, ref: Expr): Expr => {
      const replaced = replace.get(lower(c));
      if (replaced) return { ...replaced, alias: c };
      const renamed = rename.find((x) => matches(x.key, r, c));
      return renamed ? { ...ref, alias: renamed.value } : ref;
    };
    return from.relations
      .filter((r) => !rel || lower(r.name) === rel)
      .flatMap((r, i) =>
        r.columns
          .filter((c) => !exclude.has(lower(c)) && !qualifiedExclude.some((k) => matches(k, r, c)))
          .flatMap((c) => {
            const place = using?.get(lower(c));
            if (place === undefined) return [item(r, c, colRef(r.name, c))];
            return place === i ? [item(r, c, colRef(c))] : [];
          }),
      );
  });
}

/**
 * Where an unqualified `*` puts each USING column, as DuckDB does: once, at the first relation that
 * has it (an unqualified reference, which DuckDB binds to the left column, or to COALESCE of both
 * sides in a RIGHT or FULL join), and not again for the relations the USING joins bring in. A
 * relation that has the column and is neither is refused (DuckDB's binder calls the name ambiguous
 * or keeps both, which an unqualified reference cannot say).
 */
function usingStar(from: FromInfo, sql: string): Map<string, number> | undefined {
  if (!from.joins.some((j) => j.using.length)) return undefined;
  const places = new Map<string, number>();
  for (const j of from.joins) {
    for (const name of j.using.map((u) => u.toLowerCase())) {
      const has = from.relations.map((r, i) => (r.columns.some((c) => c.toLowerCase() === name) ? i : -1)).filter((i) => i >= 0);
      const first = has[0];
      const joined = new Set(from.joins.filter((x) => x.using.some((u) => u.toLowerCase() === name)).map((x) => x.index));
      if (first === undefined || has.some((i) => i !== first && !joined.has(i))) throw refuse(`SELECT * over a join USING (${name}) where another table has a column ${name}`, sql, "list the columns");
      places.set(name, first);
    }
  }
  return places;
}

export function analyzeSelect(node: SelectNode, from: FromInfo, resolver: Resolver, aggregates: Set<string>, sql: string): QueryInfo {
  checkSupported(node, sql);
  const items = expandStars(node.select_list, from, sql);
  const key = (e: unknown) => exprKey(e, resolver.canonical);
  const byAlias = (names: string[]) => (names.length === 1 ? items.findIndex((it) => it.alias && it.alias.toLowerCase() === names[0]!.toLowerCase()) : -1);

  // GROUP BY: ordinals and select aliases (a column of the same name wins, as in DuckDB).
  let keys = node.group_expressions.map((g) => {
    const n = isPosition(g) ? constInt(g, "GROUP BY position", sql) : null;
    if (n !== null) {
      const it = items[n - 1];
      if (!it) throw new ConfigError(`[smelter] [sql] GROUP BY ${n} is not in the select list (it has ${items.length} items)`);
      return it;
    }
    if (g.class === "COLUMN_REF" && !resolver.isColumn(g.column_names as string[])) {
      const i = byAlias(g.column_names as string[]);
      if (i >= 0) return items[i]!;
    }
    return g;
  });
  if (node.aggregate_handling === "FORCE_AGGREGATES") {
    keys = items.filter((it) => {
      let agg = false;
      walkExpr(it, (e) => {
        if (isAggregateCall(e, aggregates)) agg = true;
      });
      return !agg;
    });
  }
  keys = keys.filter((k, i) => keys.findIndex((x) => key(x) === key(k)) === i);

  const orders: Order[] = [];
  const limitMod = node.modifiers.find((m) => m.type === "LIMIT_MODIFIER");
  for (const m of node.modifiers.filter((x) => x.type === "ORDER_MODIFIER")) {
    for (const o of m.orders as OrderTerm[]) {
      const e = o.expression;
      const base = { type: o.type, nullOrder: o.null_order };
      if (e.class === "STAR") {
        items.forEach((it, i) => orders.push({ ...base, expr: it, item: i }));
        continue;
      }
      const n = isPosition(e) ? constInt(e, "ORDER BY position", sql) : null;
      if (n !== null) {
        if (!items[n - 1]) throw new ConfigError(`[smelter] [sql] ORDER BY ${n} is not in the select list (it has ${items.length} items)`);
        orders.push({ ...base, expr: items[n - 1]!, item: n - 1 });
        continue;
      }
      let i = e.class === "COLUMN_REF" ? byAlias(e.column_names as string[]) : -1;
      if (i < 0) i = items.findIndex((it) => key(it) === key(e));
      orders.push(i >= 0 ? { ...base, expr: items[i]!, item: i } : { ...base, expr: e });
    }
  }

  const calls: Expr[] = [];
  walkExpr([items, node.having, orders.map((o) => o.expr)], (e) => {
    if (!isAggregateCall(e, aggregates)) return;
    if (!calls.some((c) => key(c) === key(e))) calls.push(e);
    return false;
  });
  walkExpr([node.where_clause, keys], (e) => {
    if (isAggregateCall(e, aggregates)) throw new ConfigError(`[smelter] [sql] aggregate ${String(e.function_name)}() in WHERE or GROUP BY: move the condition to HAVING`);
  });
  const distinct = node.modifiers.some((m) => m.type === "DISTINCT_MODIFIER");
  return {
    node,
    from,
    resolver,
    items,
    keys,
    aggregates: calls,
    grouped: keys.length > 0 || calls.length > 0 || node.having !== null || node.aggregate_handling === "FORCE_AGGREGATES",
    distinct,
    orders,
    limit: constInt(limitMod?.limit, "LIMIT", sql),
    offset: constInt(limitMod?.offset, "OFFSET", sql),
  };
}
