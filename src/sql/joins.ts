/**
 * Where the rows of FROM + WHERE come from: the stage that evaluates them, its tasks and inputs.
 * - One table (or a filter/projection subquery of it): one task per split.
 * - Joins, broadcast: one task per split of the biggest table, every other table read whole by
 *   each task. Exact for inner joins, and for outer joins whose preserved side is the split one.
 * - Joins, partitioned (two tables, or filter/projection subqueries or CTEs of tables): each side
 *   is scanned (its own filters pushed down for inner joins, only the columns the query reads) and
 *   shuffled by its side of the equi-join keys; one task per partition then runs the join. Exact
 *   for inner, left, right and full joins.
 * Chosen from bytes (a subquery's are its table's): broadcast when every other side is at most
 * `broadcastBytes` (64 MiB), or when they add up to at most two splits of the biggest side (and
 * at most 4x `broadcastBytes`). When a partitioned join is called for but impossible (three tables,
 * no equality), a broadcast that is exact is planned instead, and the plan's note says so.
 */
import { ConfigError } from "../job/errors.js";
import { and, baseTable, cast, colRef, conjuncts, selectNode, walkExpr, type Expr, type TableRef } from "./ast.js";
import { NUMERIC } from "./aggregates.js";
import type { QueryInfo } from "./analyze.js";
import { fmtBytes } from "./bytes.js";
import type { PlanContext } from "./context.js";
import { equiKeys, noQualifiers, refuse, type Relation } from "./from.js";
import type { PlanStage, StageInput } from "./model.js";

export interface Source {
  tasks: PlanStage["tasks"];
  inputs: StageInput[];
  /** For stage names: "scan uservisits", "broadcast join", "partitioned join". */
  label: string;
  /** The FROM the row stage runs, when not the query's own (a partitioned join reads subquery sides as stage views). */
  from?: TableRef;
}

const MiB = 1024 * 1024;

export async function planSource(ctx: PlanContext, q: QueryInfo): Promise<Source> {
  const rels = q.from.relations;
  if (rels.length === 1) {
    const t = rels[0]!.table;
    return { tasks: { kind: "splits", table: t.name }, inputs: [{ view: t.name, table: t.name, read: "split" }], label: `scan ${t.name}` };
  }
  const threshold = ctx.options.broadcastBytes ?? 64 * MiB;
  const known = rels.every((r) => r.table.bytes !== undefined);
  const big = known ? rels.reduce((b, r, i) => ((r.table.bytes ?? 0) > (rels[b]!.table.bytes ?? 0) ? i : b), 0) : 0;
  const broadcastable = (b: number) => q.from.joins.every((j) => j.joinType === "INNER" || (j.joinType === "LEFT" && j.index !== b) || (j.joinType === "RIGHT" && j.index === b && q.from.joins.length === 1));
  const small = rels.filter((_, i) => i !== big);
  const underThreshold = known && small.every((r) => (r.table.bytes ?? 0) <= threshold);
  // Also broadcast when the small sides add up to at most two splits of the big side (and 4x the
  // threshold, for the tasks' memory). A broadcast reads them once per task (T x small); a
  // partitioned join writes and reads both sides again (~2 x big): with T = big / split, the
  // broadcast is cheaper while small <= 2 x split. BDB Q3 at 10M rows (71 MiB of rankings,
  // ~50 MiB splits of uservisits): broadcast 11.7 s, partitioned 15.2 s (bench/results/sql.jsonl).
  const bigT = rels[big]!.table;
  const perSplit = bigT.bytes !== undefined && bigT.splits ? bigT.bytes / bigT.splits : 0;
  const smallBytes = small.reduce((n, r) => n + (r.table.bytes ?? 0), 0);
  const withinSplit = known && smallBytes <= 2 * perSplit && smallBytes <= 4 * threshold;
  const mode = ctx.options.join ?? "auto";
  let why: string;
  if (mode === "broadcast" || (mode === "auto" && (underThreshold || withinSplit))) {
    const reason = mode === "broadcast" ? "broadcast join forced" : underThreshold ? `${small.map((r) => r.table.name).join(", ")} at most ${fmtBytes(threshold)}` : `${small.map((r) => r.table.name).join(", ")} (${fmtBytes(smallBytes)}) at most two splits of ${bigT.name} (${fmtBytes(perSplit)} each)`;
    if (broadcastable(big)) return broadcast(ctx, rels, big, reason);
    why = `the preserved side of an outer join cannot be broadcast`;
    if (mode === "broadcast") throw refuse(`a broadcast of ${small.map((r) => r.name).join(", ")} (${why})`, ctx.sql, "use --join partitioned");
  } else why = mode === "partitioned" ? "partitioned join forced" : known ? `${small.map((r) => `${r.table.name} (${fmtBytes(r.table.bytes ?? 0)})`).join(", ")} above the broadcast threshold ${fmtBytes(threshold)}` : "table sizes unknown";
  const partitioned = await tryPartitioned(ctx, q, why);
  if ("source" in partitioned) return partitioned.source;
  // Said in the plan's notes (and so by `smelter explain`): the user asked for, or the sizes call for, a partitioned join.
  if (mode !== "partitioned" && broadcastable(big)) return broadcast(ctx, rels, big, `NOT partitioned although ${why}: ${partitioned.cannot}`);
  if (mode === "partitioned" && broadcastable(big)) throw refuse("this join, partitioned (--join partitioned)", ctx.sql, `${partitioned.cannot}; without --join partitioned it is broadcast, or pass --allow-single-task to run it as one task`);
  throw refuse("this join", ctx.sql, `${partitioned.cannot}, and a broadcast join needs the split side preserved; pass --allow-single-task to run it as one task`);
}

function broadcast(ctx: PlanContext, rels: Relation[], big: number, why: string): Source {
  const t = rels[big]!.table;
  const others = rels.filter((_, i) => i !== big).map((r) => r.table.name);
  ctx.notes.push(`broadcast join: each task reads one split of ${t.name} and all of ${others.join(", ")} (${why})`);
  return {
    tasks: { kind: "splits", table: t.name },
    inputs: [{ view: t.name, table: t.name, read: "split" }, ...others.map((name) => ({ view: name, table: name, read: "whole" as const }))],
    label: `broadcast join ${others.join(", ")} into ${t.name}`,
  };
}

/**
 * Each side (a table, or a filter/projection subquery or CTE of one) is scanned by a stage of its
 * own and shuffled by its join keys; the join stage reads the task's partition of both. A
 * subquery side is evaluated in its scan stage and read in the join stage as that stage's rows
 * (`__s<N> AS alias`), so the join's FROM names it by the stage's view.
 */
async function tryPartitioned(ctx: PlanContext, q: QueryInfo, why: string): Promise<{ source: Source } | { cannot: string }> {
  const rels = q.from.relations;
  const join = q.from.joins[0];
  if (rels.length !== 2 || !join) return { cannot: `a partitioned join reads two tables or filtered subqueries of tables, this join reads ${rels.length}` };
  const inner = join.joinType === "INNER";
  const conds = [join.condition, ...(inner ? [q.node.where_clause] : [])].filter((c): c is Expr => c !== null);
  const keys = equiKeys(conds, q.resolver, new Set([0]), new Set([1]));
  for (const u of join.using) keys.push({ left: colRef(rels[0]!.name, u), right: colRef(rels[1]!.name, u) });
  if (keys.length === 0) return { cannot: "a partitioned join needs an equality between the two sides (a = b) to partition by" };
  const sides = [keys.map((k) => k.left), keys.map((k) => k.right)];
  const types = await ctx.typesOf(keys.flatMap((k) => [k.left, k.right]), q.node.from_table);
  // Numbers of two types are hashed as the type DuckDB compares them in (its common type: INTEGER and FLOAT compare as FLOAT, so 16777217 = 16777216.0); as DOUBLE, keys equal in FLOAT hashed apart (once a wrong answer: 1-3 rows of 4).
  // The cast's type as DuckDB's parser writes it (DECIMAL(12,2) is id DECIMAL with its width and scale in type_info).
  const castTo: (Expr["cast_type"] | undefined)[] = await Promise.all(
    keys.map(async (_, i) => {
      const [l, r] = [types[2 * i]!, types[2 * i + 1]!];
      if (l === r) return undefined;
      if (NUMERIC.test(l) && NUMERIC.test(r)) {
        const common = (await ctx.session.describe(`SELECT [CAST(NULL AS ${l}), CAST(NULL AS ${r})] AS k`))[0]!.type.replace(/\[\]$/, "");
        return ((await ctx.session.parse(`SELECT CAST(NULL AS ${common})`)) as { select_list: Expr[] }).select_list[0]!.cast_type;
      }
      throw new ConfigError(`[smelter] [sql] join keys of different types (${l} and ${r}) cannot be hash-partitioned: CAST one side to the other's type (${ctx.sql.slice(0, 120)})`);
    }),
  );
  // The join stage's FROM keeps USING (k): both sides must carry k even when nothing else names it.
  const used = new Set<string>(join.using.map((u) => u.toLowerCase()));
  walkExpr([q.items, q.node.where_clause, q.node.from_table, q.keys, q.node.having, q.orders.map((o) => o.expr)], (e) => {
    if (e.class === "COLUMN_REF") used.add(String((e.column_names as string[]).at(-1)).toLowerCase());
  });
  // Stages are added in side order (not as the async key printing finishes): plans are deterministic.
  const keyTexts = await Promise.all(rels.map((_, side) => Promise.all(sides[side]!.map((k, i) => ctx.exprSql(castTo[i] ? { ...cast(noQualifiers(k), ""), cast_type: castTo[i] } : noQualifiers(k))))));
  const scans = rels.map((r, side) => {
    const local = inner ? conjuncts(q.node.where_clause).filter((c) => { const rs = q.resolver.relationsIn(c); return rs.size === 1 && rs.has(side); }) : [];
    const cols = r.columns.filter((c) => used.has(c.toLowerCase()));
    const node = selectNode({ select: (cols.length ? cols : r.columns.slice(0, 1)).map((c) => colRef(c)), from: r.ref, where: and(local) });
    const keys = keyTexts[side]!;
    const partitionBy = `hash(${keys.join(", ")}) % ${ctx.partitions}`;
    return ctx.add({
      name: `scan ${r.kind === "subquery" ? `subquery ${r.name} of ${r.table.name}` : r.table.name} for the join`,
      tasks: { kind: "splits", table: r.table.name },
      inputs: [{ view: r.table.name, table: r.table.name, read: "split" }],
      node,
      output: { kind: "shuffle", partitions: ctx.partitions, keys, partitionBy },
    });
  });
  const views = rels.map((r, i) => (r.kind === "subquery" ? `__s${scans[i]!.id}` : r.table.name));
  const from = replaceRelations(q.node.from_table, (ref) => {
    const i = rels.findIndex((r) => r.kind === "subquery" && r.ref === ref);
    return i < 0 ? undefined : baseTable(views[i]!, rels[i]!.name);
  });
  ctx.notes.push(`partitioned join: both sides shuffled by the join keys into ${ctx.partitions} partitions (${why})`);
  return {
    source: {
      tasks: { kind: "partitions", count: ctx.partitions },
      inputs: scans.map((s, i) => ({ view: views[i]!, stage: s.id, read: "partition" as const })),
      label: `partitioned join ${rels.map((r) => r.table.name).join(" + ")}`,
      from,
    },
  };
}

/** `from` with the relations `f` replaces (joins walked; the rest kept). */
function replaceRelations(from: TableRef, f: (ref: TableRef) => TableRef | undefined): TableRef {
  if (from.type === "JOIN") return { ...from, left: replaceRelations(from.left as TableRef, f), right: replaceRelations(from.right as TableRef, f) };
  return f(from) ?? from;
}
