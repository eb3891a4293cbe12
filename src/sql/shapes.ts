/**
 * Planning one SELECT into stages: a row stage (FROM + WHERE, see joins.ts) that either projects
 * (scans) or computes partial aggregates, a shuffle by the group keys, a final-aggregate stage
 * that also applies HAVING, the select list's expressions and a per-partition top-k, and the
 * coordinator's SELECT (ORDER BY, LIMIT, DISTINCT, output names). Select items travel as
 * `__c<i>`, extra ORDER BY expressions as `__o<m>`.
 */
import { ConfigError } from "../job/errors.js";
import { baseTable, clone, colRef, exprKey, limitModifier, mapExpr, orderModifier, selectNode, subqueryRef, walkExpr, withAlias, type Expr, type Modifier, type SelectNode, type TableRef } from "./ast.js";

/** Aggregates the notes and refusals count as splittable into partials (aggregates.ts has the full rule). */
const PARTIAL_AGGREGATES = ["count_star", "count", "sum", "min", "max", "avg"];
import { chooseAggregates, distinctItems, finalItem, keyName, overFinal, partialItems, rawFinalItems, uncombinedColumns, uncombinedInputs, type AggregatePlan } from "./aggregates.js";
import { analyzeSelect, isAggregateCall, wholeConstant, type QueryInfo } from "./analyze.js";
import type { PlanContext, StageDraft } from "./context.js";
import { analyzeFrom, refuse, Resolver } from "./from.js";
import { planSource, type Source } from "./joins.js";
import type { ColumnInfo } from "./parse.js";

export interface Planned {
  coordinator: SelectNode;
  /** The last per-partition stage, where a top-k of an outer query can be pushed. */
  finalStage?: StageDraft;
  limited: boolean;
  strategy: string;
  /** The stage whose rows are the result as they are (see SqlPlan.coordinator.resultStage). */
  resultStage?: number;
}

const c = (i: number) => `__c${i}`;
const o = (m: number) => `__o${m}`;
const STAR: Expr = { class: "STAR", type: "STAR", alias: "", relation_name: "", exclude_list: [], replace_list: [], columns: false, expr: null, qualified_exclude_list: [], rename_list: [] };

export async function planSelect(ctx: PlanContext, node: SelectNode, names: ColumnInfo[]): Promise<Planned> {
  const from = analyzeFrom(node, ctx.tables, ctx.aggregates, ctx.sql);
  if (from.derived) return planDerived(ctx, node, from.derived);
  for (const r of from.relations.filter((x) => x.kind === "subquery")) {
    r.columns = (await ctx.session.describe(await ctx.session.print(selectNode({ select: [STAR], from: r.ref })))).map((x) => x.name);
  }
  refuseWholeRows(node, from.relations, ctx.sql);
  const q = analyzeSelect(node, from, new Resolver(from.relations), ctx.aggregates, ctx.sql);
  // COLUMNS(...) inside an expression, * LIKE / SIMILAR TO, a struct's s.* or unnest(struct): DuckDB expands them when it binds.
  if (q.items.length !== names.length) throw refuse("a select list that DuckDB expands into more columns (COLUMNS(...) in an expression, * LIKE or SIMILAR TO, a struct's s.*, unnest of a STRUCT)", ctx.sql, `it is ${names.length} columns to DuckDB (${names.slice(0, 6).map((n) => n.name).join(", ")}${names.length > 6 ? ", ..." : ""}); list them, or pass --allow-single-task`);
  if (q.distinct && !q.grouped) {
    const key = (e: unknown) => exprKey(e, q.resolver.canonical);
    q.keys = q.items.filter((it, i) => q.items.findIndex((x) => key(x) === key(it)) === i);
    q.grouped = true;
  }
  const source = await planSource(ctx, q);
  return q.grouped ? planGrouped(ctx, q, names, source) : planScan(ctx, q, names, source);
}

/** ORDER BY terms over `__c`/`__o` columns. */
function orderTerms(q: QueryInfo) {
  let m = 0;
  return q.orders.map((x) => ({ type: x.type, null_order: x.nullOrder, expression: colRef(x.item !== undefined ? c(x.item) : o(m++)) }));
}

/** The row stage's or final stage's top-k: LIMIT (limit + offset), with the ORDER BY if any. */
function topK(q: QueryInfo): Modifier[] {
  if (q.limit === null || q.distinct) return [];
  return [...(q.orders.length ? [orderModifier(orderTerms(q))] : []), limitModifier(q.limit + (q.offset ?? 0), null)];
}

/** True when the coordinator has nothing left to apply but names (no DISTINCT, ORDER BY, LIMIT, OFFSET). */
const onlyRenames = (q: QueryInfo) => !q.distinct && q.orders.length === 0 && q.limit === null && q.offset === null;

function coordinatorNode(q: QueryInfo, names: ColumnInfo[], from: SelectNode["from_table"]): SelectNode {
  const modifiers: Modifier[] = [];
  if (q.distinct) modifiers.push({ type: "DISTINCT_MODIFIER", distinct_on_targets: [] });
  if (q.orders.length) modifiers.push(orderModifier(orderTerms(q)));
  if (q.limit !== null || q.offset !== null) modifiers.push(limitModifier(q.limit, q.offset));
  return selectNode({ select: q.items.map((_, i) => withAlias(colRef(c(i)), names[i]!.name)), from, modifiers });
}

function planScan(ctx: PlanContext, q: QueryInfo, names: ColumnInfo[], source: Source): Planned {
  const helpers = q.orders.filter((x) => x.item === undefined).map((x, m) => withAlias(x.expr, o(m)));
  const row: SelectNode = { ...clone(q.node), ...(source.from ? { from_table: source.from } : {}), select_list: [...q.items.map((e, i) => withAlias(e, c(i))), ...helpers], modifiers: topK(q) };
  const stage = ctx.add({ name: `${source.label}: filter + project${row.modifiers.length ? ` + top ${q.limit! + (q.offset ?? 0)}` : ""}`, tasks: source.tasks, inputs: source.inputs, node: row, output: { kind: "gather" } });
  const pushed = row.modifiers.length ? `; each task keeps its first ${q.limit! + (q.offset ?? 0)} rows${q.orders.length ? " in ORDER BY order" : ""}` : "";
  return { coordinator: coordinatorNode(q, names, baseTable(`__s${stage.id}`)), strategy: `${source.label}, rows concatenated on the coordinator${pushed}`, limited: q.limit !== null, ...(onlyRenames(q) ? { resultStage: stage.id } : {}) };
}

async function planGrouped(ctx: PlanContext, q: QueryInfo, names: ColumnInfo[], source: Source): Promise<Planned> {
  const key = (e: unknown) => exprKey(e, q.resolver.canonical);
  const avgArgs = q.aggregates.filter((a) => ["avg", "mean"].includes(String(a.function_name).toLowerCase())).flatMap((a) => (a.children as Expr[]).slice(0, 1));
  const avgTypes = await ctx.typesOf(avgArgs, q.node.from_table);
  const argType = (e: Expr) => avgTypes[avgArgs.findIndex((x) => key(x) === key(e))];
  const agg = q.aggregates.length ? chooseAggregates(q.aggregates, key, argType) : ({ strategy: "partial", kinds: [], rawColumns: [] } satisfies AggregatePlan);
  const global = q.keys.length === 0;
  if (agg.strategy === "raw" && global && !ctx.options.allowSingleTask) {
    // Name what forces it: the aggregates that have no partials, or a DISTINCT one beside others (alone it is planned in two levels).
    const hard = q.aggregates.filter((a) => !PARTIAL_AGGREGATES.includes(String(a.function_name)) || a.distinct || (a.order_bys as { orders: unknown[] }).orders.length > 0);
    const label = (a: Expr) => `${String(a.function_name)}(${a.distinct ? "DISTINCT ..." : ""})`;
    const distinctBeside = hard.length > 0 && hard.every((a) => a.distinct) && q.aggregates.length > hard.length;
    if (distinctBeside) throw refuse(`${hard.map(label).join(", ")} beside other aggregates without GROUP BY`, ctx.sql, "a DISTINCT aggregate without GROUP BY is planned alone: run it as its own query, or pass --allow-single-task to aggregate every row on the coordinator");
    throw refuse(`the aggregates ${(hard.length ? hard : q.aggregates).map(label).join(", ")} without GROUP BY`, ctx.sql, "they cannot be split into partial aggregates and there are no group keys to spread them over; pass --allow-single-task to aggregate every row on the coordinator");
  }
  const keyCols = q.keys.map((_, i) => keyName(i));
  const keyItems = q.keys.map((k, i) => withAlias(k, keyName(i)));
  const rowBase = { ...clone(q.node), ...(source.from ? { from_table: source.from } : {}), having: null, modifiers: [], aggregate_handling: "STANDARD_HANDLING", qualify: null };
  let row: SelectNode;
  let rowShuffle: string[];
  let what: string;
  let uncombined: StageDraft["uncombined"];
  if (agg.strategy === "partial") {
    row = { ...rowBase, select_list: [...keyItems, ...q.aggregates.flatMap((a, j) => partialItems(a, agg.kinds[j]!, j))], group_expressions: q.keys, group_sets: q.keys.length ? [q.keys.map((_, i) => i)] : [] };
    rowShuffle = keyCols;
    what = "partial aggregate";
    if (!global) {
      uncombined = {
        node: { ...rowBase, select_list: [...keyItems, ...q.aggregates.flatMap((a, j) => uncombinedInputs(a, j))], group_expressions: [], group_sets: [] },
        keys: keyCols,
        columns: [...keyCols.map((k) => ({ name: k, sql: k })), ...q.aggregates.flatMap((a, j) => uncombinedColumns(a, agg.kinds[j]!, j))],
      };
    }
  } else if (agg.strategy === "distinct") {
    const groupBy = [...q.keys, agg.distinctArg!];
    row = { ...rowBase, select_list: [...keyItems, withAlias(agg.distinctArg!, "__d")], group_expressions: groupBy, group_sets: [groupBy.map((_, i) => i)] };
    rowShuffle = [...keyCols, "__d"];
    what = "distinct (keys, value) pairs";
    ctx.notes.push("DISTINCT aggregate: two levels; rows are shuffled by the group keys and the distinct value, each partition counts its values, and the counts are summed");
  } else {
    row = { ...rowBase, select_list: [...keyItems, ...agg.rawColumns.map((e, n) => withAlias(e, `__v${n}`))], group_expressions: [], group_sets: [] };
    rowShuffle = keyCols;
    what = "projected rows";
    const which = q.aggregates.filter((a) => !PARTIAL_AGGREGATES.includes(String(a.function_name)) || a.distinct || ((a.order_bys as { orders: unknown[] }).orders.length > 0));
    ctx.notes.push(`${which.map((a) => `${String(a.function_name)}()`).join(", ") || "these aggregates"} cannot be split into partials: raw rows (keys and the columns the aggregates read) are shuffled by the group keys and aggregated whole`);
  }
  // Small partials (or distinct pairs) and no R given: gathered, the coordinator finishes them (context.ts).
  const merged = rowShuffle.length > 0 && agg.strategy !== "raw" && ctx.mergeOnCoordinator !== undefined;
  if (merged) ctx.notes.push(ctx.mergeOnCoordinator!);
  const rowOut = rowShuffle.length && !merged ? ctx.shuffleBy(rowShuffle) : ({ kind: "gather" } as const);
  let src = ctx.add({ name: `${source.label}: ${what}`, tasks: source.tasks, inputs: source.inputs, node: row, output: rowOut, ...(uncombined ? { uncombined } : {}) });
  let from: TableRef = baseTable(`__s${src.id}`);
  if (agg.strategy === "distinct") {
    const n = selectNode({ select: [...keyCols.map((k) => colRef(k)), ...distinctItems(agg.kinds)], from, groupBy: keyCols.map((k) => colRef(k)) });
    if (merged) from = subqueryRef(n, "__d");
    else {
      src = ctx.add({ name: "per-partition distinct aggregates", tasks: { kind: "partitions", count: ctx.partitions }, inputs: [{ view: `__s${src.id}`, stage: src.id, read: "partition" }], node: n, output: global ? { kind: "gather" } : ctx.shuffleBy(keyCols) });
      from = baseTable(`__s${src.id}`);
    }
  }
  const finals = agg.strategy === "raw" ? rawFinalItems(q.aggregates, agg.rawColumns, key) : agg.kinds.map((k, j) => finalItem(k, j));
  const base = selectNode({ select: [...keyCols.map((k) => colRef(k)), ...finals], from, groupBy: keyCols.map((k) => colRef(k)) });
  const label = `${source.label}; ${agg.strategy === "partial" ? "partial aggregates" : agg.strategy === "distinct" ? "two-level distinct aggregates" : "raw rows"}`;
  if (global || merged) {
    const post = postNode(q, base, false);
    return { coordinator: coordinatorNode(q, names, subqueryRef(post, "__r")), strategy: `${label}, ${merged ? "gathered; " : ""}final aggregate on the coordinator`, limited: q.limit !== null || (merged && q.distinct) };
  }
  const finalNode = postNode(q, base, true);
  const final = ctx.add({ name: `final aggregate${q.node.having ? " + HAVING" : ""}${finalNode.modifiers.length ? ` + top ${q.limit! + (q.offset ?? 0)}` : ""}`, tasks: { kind: "partitions", count: ctx.partitions }, inputs: [{ view: `__s${src.id}`, stage: src.id, read: "partition" }], node: finalNode, output: { kind: "gather" } });
  return { coordinator: coordinatorNode(q, names, baseTable(`__s${final.id}`)), finalStage: final, strategy: `${label}, shuffled by the group keys into ${ctx.partitions} partitions`, limited: q.limit !== null || q.distinct, ...(onlyRenames(q) ? { resultStage: final.id } : {}) };
}

/** Select items, HAVING and ORDER BY helpers over the final columns `__k`/`__a` of `base`. */
function postNode(q: QueryInfo, base: SelectNode, pushTopK: boolean): SelectNode {
  const key = (e: unknown) => exprKey(e, q.resolver.canonical);
  const over = <T>(x: T): T => overFinal(x, q.keys, q.aggregates, key);
  const items = q.items.map((it) => over(it));
  let having = q.node.having ? over(q.node.having) : null;
  if (having) {
    const aliased = q.items.map((it, i) => ({ alias: it.alias.toLowerCase(), expr: items[i]! }));
    having = mapExpr(having, (e) => {
      if (e.class !== "COLUMN_REF") return undefined;
      const ns = e.column_names as string[];
      const hit = ns.length === 1 && !/^__[ka]\d+$/.test(ns[0]!) ? aliased.find((a) => a.alias && a.alias === ns[0]!.toLowerCase()) : undefined;
      return hit?.expr;
    });
  }
  const helpers = q.orders.filter((x) => x.item === undefined).map((x, m) => withAlias(over(x.expr), o(m)));
  walkExpr([items, having, helpers], (e) => {
    if (e.class === "COLUMN_REF" && !/^__[ka]\d+$/.test(String((e.column_names as string[]).at(-1)))) {
      throw new ConfigError(`[smelter] [sql] column ${(e.column_names as string[]).join(".")} is neither a GROUP BY key nor inside an aggregate, so it cannot be planned: add it to GROUP BY or aggregate it`);
    }
  });
  return selectNode({ select: [...items.map((e, i) => withAlias(e, c(i))), ...helpers], from: subqueryRef(base, "__g"), where: having, modifiers: pushTopK ? topK(q) : [] });
}

/** `SELECT ... FROM (<aggregate query>) ...`: the inner query planned alone, the outer one on the coordinator. */
/**
 * A table's name used as a value (`SELECT t FROM t`, `count(DISTINCT t)`) is DuckDB's whole row of
 * it, as a STRUCT, when no column has that name. The stages read only the columns a query names,
 * so its other fields came back NULL (Parquet) or missing (a partitioned join): refused, naming it.
 */
function refuseWholeRows(node: SelectNode, relations: { name: string; columns: string[] }[], sql: string): void {
  const columns = new Set(relations.flatMap((r) => r.columns.map((c) => c.toLowerCase())));
  const names = new Map(relations.filter((r) => !columns.has(r.name.toLowerCase())).map((r) => [r.name.toLowerCase(), r]));
  if (names.size === 0) return;
  walkExpr([node.select_list, node.where_clause, node.group_expressions, node.having, node.qualify, node.modifiers, node.from_table], (e) => {
    if (e.class === "SUBQUERY") return false;
    const n = e.class === "COLUMN_REF" ? (e.column_names as string[]) : [];
    const r = n.length === 1 ? names.get(n[0]!.toLowerCase()) : undefined;
    const field = r?.columns[0] ?? "a";
    if (r) throw refuse(`the whole row of ${r.name} used as a value (${r.name} as a STRUCT)`, sql, `name the fields you need ({'${field}': ${r.name}.${field}, ...}) or select ${r.name}.*, or pass --allow-single-task`);
  });
}

async function planDerived(ctx: PlanContext, node: SelectNode, derived: { node: SelectNode; alias: string }): Promise<Planned> {
  const innerNames = await ctx.session.describe(await ctx.session.print(derived.node));
  const inner = await planSelect(ctx, derived.node, innerNames);
  walkExpr([node.select_list, node.where_clause, node.having, node.modifiers], (e) => {
    if (e.class === "SUBQUERY") throw refuse("a subquery in an expression of a query over an aggregate subquery", ctx.sql, "join instead, or pass --allow-single-task");
  });
  const coordinator: SelectNode = { ...clone(node), from_table: subqueryRef(inner.coordinator, derived.alias || "__inner") };
  // Top-k of a plain outer query over the inner's per-partition final stage.
  const lim = node.modifiers.find((m) => m.type === "LIMIT_MODIFIER");
  const ord = node.modifiers.find((m) => m.type === "ORDER_MODIFIER");
  // QUALIFY filters after the windows, so before the LIMIT: the top k of the rows before it would be the wrong rows (once a wrong answer: 0 rows for 2).
  let plain = !node.where_clause && !node.having && !node.qualify && !node.sample && node.group_expressions.length === 0 && node.aggregate_handling === "STANDARD_HANDLING" && !node.modifiers.some((m) => m.type === "DISTINCT_MODIFIER");
  walkExpr([node.select_list, node.modifiers], (e) => {
    if (e.class === "WINDOW" || isAggregateCall(e, ctx.aggregates)) plain = false;
  });
  // Whole-number constants as DuckDB casts them (LIMIT 1.5 is 15 unscaled in the tree, and is 2).
  const limit = wholeConstant(lim?.limit);
  const offset = lim?.offset ? wholeConstant(lim.offset) : 0;
  if (plain && inner.finalStage && !inner.limited && typeof limit === "number" && typeof offset === "number") {
    // An unqualified name in ORDER BY is first an outer select item's name: `-c AS c` shadows the inner c (once a wrong answer: the top k of the inner c kept).
    const outputName = (x: Expr) => (x.alias ? String(x.alias) : x.class === "COLUMN_REF" ? String((x.column_names as string[]).at(-1)) : "").toLowerCase();
    const isInner = (x: Expr, n: string) => x.class === "COLUMN_REF" && String((x.column_names as string[]).at(-1)).toLowerCase() === n;
    const terms = (ord?.orders ?? []).map((t) => {
      const e = t.expression;
      const n = e.class === "COLUMN_REF" ? String((e.column_names as string[]).at(-1)).toLowerCase() : undefined;
      if (n !== undefined && (e.column_names as string[]).length === 1 && node.select_list.some((x) => x.class !== "STAR" && outputName(x) === n && !isInner(x, n))) return undefined;
      const i = n === undefined ? -1 : innerNames.findIndex((x) => x.name.toLowerCase() === n);
      return i < 0 ? undefined : { type: t.type, null_order: t.null_order, expression: colRef(c(i)) };
    });
    if (terms.every((t) => t !== undefined)) {
      inner.finalStage.node.modifiers = [...(terms.length ? [orderModifier(terms)] : []), limitModifier(limit + offset, null)];
      inner.finalStage.name += ` + top ${limit + offset}`;
    }
  }
  return { coordinator, strategy: `${inner.strategy}; the outer query runs on the coordinator`, limited: true };
}

