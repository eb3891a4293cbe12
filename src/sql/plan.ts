/**
 * The SQL planner: a query and table definitions -> a stage plan as plain data (model.ts).
 *
 *   parse (DuckDB's parser) -> bind (DESCRIBE over empty tables: unknown columns and type errors
 *   are DuckDB's own messages) -> inline CTEs -> plan (shapes.ts, joins.ts, aggregates.ts) ->
 *   print every stage's tree back to SQL -> bind every stage's SQL over empty inputs (each stage's
 *   output columns; a planner bug fails here, not in a task).
 *
 * What cannot be distributed exactly is refused with a ConfigError naming the construct, or,
 * with `allowSingleTask`, planned as one task that runs the query over all inputs at once.
 */
import { sqlIdentifier } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import { instantCall, sessionCall } from "./analyze.js";
import { namesRead } from "./columns-read.js";
import { inlineCtes, resolveWhereAliases } from "./from.js";
import { PlanContext, type StageDraft } from "./context.js";
import type { PlanOptions, PlanStage, SqlPlan } from "./model.js";
import { bindError, excerpt, SqlSession, type ColumnInfo } from "./parse.js";
import { walkExpr, type QueryNode } from "./ast.js";
import { hivePruning } from "./prune.js";
import { planSelect, type Planned } from "./shapes.js";
import { checkReads } from "./reads.js";
import { parseTables, type SqlTable, type SqlTableInput } from "./tables.js";

export type { PlanOptions, SqlPlan } from "./model.js";

/** A stage's rows travel as Parquet, which has no UNION type, nor a cast from its text back to one. */
function refuseUnionColumns(columns: ColumnInfo[], sql: string): void {
  const u = columns.find((c) => /\bUNION\s*\(/i.test(c.type));
  if (u) throw new ConfigError(`[smelter] [sql] column ${u.name} is a UNION (${u.type}), which cannot pass between tasks (Parquet has no UNION type): extract a member (union_extract) or cast it to VARCHAR (${excerpt(sql)})`);
}

/** Plans `sql` over `tables`. Pass a `session` to reuse one DuckDB across many plans. */
export async function planQuery(sql: string, tableInputs: SqlTableInput[], options: PlanOptions = {}, session?: SqlSession): Promise<SqlPlan> {
  const own = session ? undefined : await SqlSession.open();
  const s = session ?? own!;
  try {
    const tables = parseTables(tableInputs);
    await resetTables(s);
    await s.createTables(tables);
    const parsed = await s.parse(sql);
    // Before anything binds: the query reads only the tables given (no table functions, no file paths).
    checkReads(parsed, tables.map((t) => t.name), sql);
    refuseTableColumnAliases(parsed, sql);
    const bind = async () => {
      const bound = await s.describe(sql).catch((err: unknown) => {
        throw bindError(err, sql);
      });
      refuseUnionColumns(bound, sql);
      return uniqueNames(s, parsed, bound);
    };
    if (parsed.type === "SET_OPERATION_NODE" && options.allowSingleTask) return singleTask(sql, tables, await bind(), "set operations (UNION, EXCEPT, INTERSECT) cannot be distributed yet");
    const instant = instantCall(parsed, new Set(tables.flatMap((t) => t.columns.map((c) => c.name.toLowerCase()))));
    if (instant) {
      const why = `${instant} cannot be distributed: each task would take its own time, where DuckDB alone takes the query's one instant`;
      if (options.allowSingleTask) return singleTask(sql, tables, await bind(), why);
      throw new ConfigError(`[smelter] [sql] ${why}; write the time into the query as a literal (TIMESTAMPTZ '2026-01-01 00:00:00+00'), or pass --allow-single-task (${excerpt(sql)})`);
    }
    refuseUnreadable(parsed, tables, sql);
    const session = sessionCall(parsed);
    if (session) {
      const why = `${session.call} cannot be distributed: each task runs in a session of its own (its own random seed, settings, transaction and SQL), where DuckDB alone has the query's one`;
      if (!session.singleTask) throw new ConfigError(`[smelter] [sql] ${why}, and a task's settings and SQL are Smelter's own even as one task: leave it out (${excerpt(sql)})`);
      if (options.allowSingleTask) return singleTask(sql, tables, await bind(), why);
      throw new ConfigError(`[smelter] [sql] ${why}; pass --allow-single-task (${excerpt(sql)})`);
    }
    const node = s.selectNode(parsed, sql);
    const columns = await bind();
    refuseReservedNames(parsed, columns, sql);
    const ctx = new PlanContext(s, tables, options, sql, await s.aggregateNames());
    let planned: Planned;
    try {
      planned = await planSelect(ctx, await resolveWhereAliases(s, inlineCtes(node, sql)), columns);
    } catch (err) {
      if (!(err instanceof ConfigError) || !options.allowSingleTask || !/cannot be distributed/.test(err.message)) throw err;
      return singleTask(sql, tables, columns, err.message);
    }
    const orSingleTask = (refused: ConfigError): SqlPlan => {
      if (!options.allowSingleTask) throw refused;
      return singleTask(sql, tables, columns, refused.message);
    };
    const stages: PlanStage[] = [];
    for (const d of ctx.stages) {
      const stageSql = await s.print(d.node);
      for (const input of d.inputs) {
        if (!("stage" in input)) continue;
        const refused = await stageTables(s, [{ name: input.view, columns: stages[input.stage - 1]!.columns }], sql);
        if (refused) return orSingleTask(refused);
      }
      const stageColumns = await s.describe(stageSql).catch((err: unknown) => {
        // DuckDB lets WHERE name a select item's alias; the stages do not carry the alias there.
        const missing = /Referenced column "([^"]+)" not found/.exec((err as Error).message)?.[1];
        const alias = missing === undefined ? undefined : node.select_list.find((e) => String(e.alias).toLowerCase() === missing.toLowerCase());
        if (alias) throw new ConfigError(`[smelter] [sql] WHERE names the select alias ${missing}, which Smelter's planner does not resolve there yet: repeat its expression instead (${excerpt(sql)})`, { cause: err });
        throw new ConfigError(`[smelter] [sql] internal planner error: stage ${d.id} (${d.name}) does not bind: ${(err as Error).message}. Please report it with the query: ${excerpt(sql)}`, { cause: err });
      });
      refuseUnionColumns(stageColumns, sql);
      const uncombined = d.uncombined ? await uncombinedStage(s, d.uncombined, stageColumns) : undefined;
      stages.push({ id: d.id, name: d.name, tasks: d.tasks, inputs: d.inputs, sql: stageSql, columns: stageColumns, output: d.output, ...(uncombined ? { uncombined } : {}) });
    }
    const gathered = stages.filter((x) => x.output.kind === "gather");
    const refused = await stageTables(s, gathered.map((g) => ({ name: `__s${g.id}`, columns: g.columns })), sql);
    if (refused) return orSingleTask(refused);
    const coordinatorSql = await s.print(planned.coordinator);
    const result = await s.describe(coordinatorSql).catch((err: unknown) => {
      throw new ConfigError(`[smelter] [sql] internal planner error: the coordinator's SQL does not bind: ${(err as Error).message}. Please report it with the query: ${excerpt(sql)}`, { cause: err });
    });
    if (result.length !== columns.length) throw new ConfigError(`[smelter] [sql] internal planner error: the plan returns ${result.length} columns, DuckDB alone ${columns.length}: ${excerpt(sql)}`);
    const pruning = await hivePruning(s, node, tables);
    return {
      query: sql,
      strategy: planned.strategy,
      tables,
      stages,
      coordinator: { inputs: gathered.map((g) => ({ view: `__s${g.id}`, stage: g.id })), sql: coordinatorSql, resultStage: planned.resultStage ?? null },
      columns,
      notes: ctx.notes,
      ...(pruning.length ? { pruning } : {}),
    };
  } finally {
    own?.close();
  }
}

/**
 * The tables a stage's output is read as. A row value (`(a, b)`, an unnamed STRUCT) cannot be a
 * table's column in DuckDB (nor a Parquet segment's), so a stage holding one is refused, named
 * (was DuckDB's parser error on Smelter's own CREATE TABLE): the refusal is returned.
 */
async function stageTables(s: SqlSession, tables: { name: string; columns: ColumnInfo[] }[], sql: string): Promise<ConfigError | undefined> {
  try {
    await s.createTables(tables);
    return undefined;
  } catch (err) {
    // DuckDB's parser refuses STRUCT(VARCHAR, BOOLEAN) as a column's type (a syntax error at its ","); anything else is not this.
    const struct = tables.flatMap((t) => t.columns).find((c) => /STRUCT\(/i.test(c.type));
    if (!struct || !/syntax error|unnamed struct/i.test((err as Error).message)) throw err;
    return new ConfigError(`[smelter] [sql] a row value such as (a, b) (an unnamed STRUCT: ${struct.type}) cannot be distributed: it cannot pass between tasks; name its fields ({'a': a, 'b': b}), or pass --allow-single-task (${excerpt(sql)})`, { cause: err });
  }
}

/**
 * Names starting with `__` are the plan's own (`__c0`, `__k0`, `__s1`...): a select alias or a
 * column of that name was taken for one of them (`SELECT -id AS __c1, id ... ORDER BY id` came back
 * ordered by -id). Refused, naming it.
 */
function refuseReservedNames(parsed: QueryNode, columns: ColumnInfo[], sql: string): void {
  const names = columns.map((c) => c.name);
  walkExpr(parsed, (e) => {
    if (e.alias) names.push(e.alias);
    if (e.class === "COLUMN_REF") names.push(...(e.column_names as string[]));
  });
  const reserved = names.find((n) => n.startsWith("__"));
  if (reserved !== undefined) throw new ConfigError(`[smelter] [sql] the name ${reserved} starts with __, which Smelter keeps for its plan's columns: rename it (AS another name, or --schema for a table's column) (${excerpt(sql)})`);
}

/**
 * A partial aggregate stage's SQL without the combine: each partial column computed from one row
 * and cast to the type the partial aggregate gives it. Kept only when it binds to exactly the
 * stage's columns (names and types); otherwise the stage always combines.
 */
async function uncombinedStage(s: SqlSession, u: NonNullable<StageDraft["uncombined"]>, columns: PlanStage["columns"]): Promise<PlanStage["uncombined"]> {
  if (u.columns.length !== columns.length || u.columns.some((c, i) => c.name !== columns[i]!.name)) return undefined;
  const items = u.columns.map((c, i) => (u.keys.includes(c.name) ? sqlIdentifier(c.name) : `CAST(${c.sql} AS ${columns[i]!.type}) AS ${sqlIdentifier(c.name)}`));
  const sql = `SELECT ${items.join(", ")} FROM (${await s.print(u.node)}) AS __u`;
  const bound = await s.describe(sql).catch(() => undefined);
  if (!bound || bound.length !== columns.length || bound.some((c, i) => c.name !== columns[i]!.name || c.type !== columns[i]!.type)) return undefined;
  return { sql, keys: u.keys };
}

function singleTask(sql: string, tables: SqlPlan["tables"], columns: SqlPlan["columns"], why: string): SqlPlan {
  return {
    query: sql,
    strategy: "one task over all inputs (--allow-single-task)",
    tables,
    stages: [{ id: 1, name: "single task", tasks: { kind: "single" }, inputs: tables.map((t) => ({ view: t.name, table: t.name, read: "whole" as const })), sql, columns, output: { kind: "gather" } }],
    coordinator: { inputs: [{ view: "__s1", stage: 1 }], sql: "SELECT * FROM __s1", resultStage: 1 },
    columns,
    notes: [`not distributed: ${why.replace(/^\[smelter\] \[sql\] /, "")}`],
  };
}

/**
 * The result's column names as DuckDB gives them when it stores the result (a table, a subquery,
 * CSV or Parquet): a repeated name becomes `x_1`, `x_2`... (DuckDB's own rule, by binding the
 * query as a subquery). `SELECT count(*), count(*)` gives `count_star()`, `count_star()_1`.
 */
async function uniqueNames(s: SqlSession, node: QueryNode, bound: ColumnInfo[]): Promise<ColumnInfo[]> {
  if (new Set(bound.map((c) => c.name.toLowerCase())).size === bound.length) return bound;
  const names = await s.describe(`SELECT * FROM (${await s.print(node)}) AS __q`);
  if (names.length !== bound.length) throw new ConfigError(`[smelter] [sql] internal planner error: the query has ${bound.length} columns but ${names.length} as a subquery: ${excerpt(names.map((c) => c.name).join(", "))}`);
  return bound.map((c, i) => ({ name: names[i]!.name, type: c.type }));
}

/** Drops every table of the session (a fresh catalog for the next plan). */
async function resetTables(s: SqlSession): Promise<void> {
  const rows = await s.db.all<{ name: string }>("SELECT table_name AS name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'");
  for (const r of rows) await s.db.run(`DROP TABLE IF EXISTS ${sqlIdentifier(r.name)}`);
}

/**
 * Refuses a query that reads a column the catalog found unreadable (tables.ts `unreadable`: two
 * date formats among a CSV table's objects, NDJSON timestamps DuckDB reads otherwise when told
 * their type), with the catalog's reason: by name anywhere in the query (a USING column too), or
 * through a `*`, COLUMNS(...) or a position. Queries that do not read it are answered.
 */
/**
 * `FROM t AS x(a, b)` renames t's first columns by position. The tasks read a table's columns by
 * the names the query uses (Parquet: only those), so `x.a` would read t's column named a, not its
 * first column: refused, named (found by a sweep: `sum(x.v)` over `t AS x(v)` summed v, where
 * DuckDB alone sums the first column). A subquery's alias list (`(SELECT ...) AS s(a, b)`) is fine.
 */
function refuseTableColumnAliases(parsed: unknown, sql: string): void {
  let found: Record<string, unknown> | undefined;
  const walk = (x: unknown): void => {
    if (found || typeof x !== "object" || x === null) return;
    if (Array.isArray(x)) return x.forEach(walk);
    const o = x as Record<string, unknown>;
    if (o.type === "BASE_TABLE" && Array.isArray(o.column_name_alias) && o.column_name_alias.length > 0) found = o;
    else Object.values(o).forEach(walk);
  };
  walk(parsed);
  if (!found) return;
  const names = (found.column_name_alias as string[]).join(", ");
  throw new ConfigError(`[smelter] [sql] a column alias list on table ${String(found.table_name)} (${String(found.alias || found.table_name)}(${names})) renames its columns by position, which Smelter's tasks do not follow (they read columns by name): alias the columns in the select list, or in a subquery (FROM (SELECT col AS ${(found.column_name_alias as string[])[0]}, ... FROM ${String(found.table_name)}) AS ${String(found.alias || found.table_name)}) (${excerpt(sql)})`);
}

function refuseUnreadable(parsed: unknown, tables: SqlTable[], sql: string): void {
  const marked = tables.flatMap((t) => t.unreadable ?? []);
  if (marked.length === 0) return;
  // The same reading of names as a Parquet task's columns (columns-read.ts): references, USING columns, `*`.
  const { names, all } = namesRead(parsed);
  const hit = marked.find((m) => all || m.columns.some((c) => names.has(c.toLowerCase())));
  if (hit) throw new ConfigError(`[smelter] [sql] ${hit.reason} (${excerpt(sql)})`);
}
