/**
 * SQL parsing with DuckDB's own parser, and printing trees back into SQL, in an in-memory DuckDB
 * on the coordinator (src/duckdb/). No hand-written SQL parser: the dialect is DuckDB's.
 *
 * What `SELECT json_serialize_sql('<query>')` returns (learned by experiment, DuckDB 1.5):
 * - `{ error: false, statements: [{ node, named_param_map }] }`, or on a syntax error
 *   `{ error: true, error_type: "parser", error_message: "syntax error at or near \"WHERE\"", position: "12" }`.
 * - `node.type` is `SELECT_NODE` (or `SET_OPERATION_NODE` for UNION/EXCEPT/INTERSECT, with
 *   `left`/`right`); a SELECT node has `select_list`, `from_table`, `where_clause`,
 *   `group_expressions` + `group_sets` (ROLLUP/CUBE/GROUPING SETS give several sets; GROUP BY ALL
 *   gives no expressions and `aggregate_handling: "FORCE_AGGREGATES"`), `having`, `qualify`,
 *   `sample`, `cte_map.map[{ key, value: { query: { node } } }]` and `modifiers`:
 *   `ORDER_MODIFIER { orders[{ type: ASCENDING|DESCENDING|ORDER_DEFAULT, null_order, expression }] }`,
 *   `LIMIT_MODIFIER { limit, offset }` (expressions), `DISTINCT_MODIFIER { distinct_on_targets }`.
 * - FROM items (`from_table`): `BASE_TABLE { table_name, alias }`, `SUBQUERY { subquery: { node }, alias }`,
 *   `JOIN { left, right, condition, join_type: INNER|LEFT|RIGHT|FULL|SEMI|ANTI, ref_type: REGULAR|CROSS|NATURAL|ASOF,
 *   using_columns }` (`FROM a, b` is a JOIN with ref_type CROSS and no condition), `EMPTY` (no FROM),
 *   `TABLE_FUNCTION`.
 * - Expressions: `{ class, type, alias, query_location, ... }`. `COLUMN_REF { column_names: [t?, col] }`;
 *   `CONSTANT { value: { type: { id }, is_null, value } }`; `FUNCTION { function_name, children,
 *   distinct, filter, order_bys, is_operator }` (operators like `||`, `+`, `~~` (LIKE) are functions
 *   with is_operator; `count(*)` is `count_star()`; aggregates and scalars look alike, so the planner
 *   asks `duckdb_functions()` which names are aggregates); `COMPARISON { left, right }`;
 *   `CONJUNCTION { children }`; `OPERATOR { children }` (NOT, IS NULL, IN); `CASE { case_checks,
 *   else_expr }`; `CAST { child, cast_type }` (`DATE '2020-01-01'` is a cast of a string); `BETWEEN
 *   { input, lower, upper }`; `STAR { relation_name, exclude_list, replace_list, columns }` (also
 *   `ORDER BY ALL`); `WINDOW { ... }` for anything with OVER; `SUBQUERY { subquery, subquery_type }`
 *   for scalar/IN/EXISTS subqueries.
 * - `json_deserialize_sql` prints a statement back, fully parenthesized, with `count_star()`,
 *   `CAST(... AS ...)` and `main.`-qualified internal functions (`main.date_part`): DuckDB reads its
 *   own output back to the same tree.
 */
import { z } from "zod";
import { openDuckDb, type DuckDb } from "../duckdb/index.js";
import { ConfigError } from "../job/errors.js";
import type { QueryNode, SelectNode } from "./ast.js";
import { emptyTableSql } from "./stage-io.js";

const parseErrorSchema = z.looseObject({ error: z.literal(true), error_message: z.string(), position: z.string().optional() });
const exprSchema = z.looseObject({ class: z.string(), type: z.string(), alias: z.string() });
const tableRefSchema = z.looseObject({ type: z.string(), alias: z.string() });
const modifierSchema = z.looseObject({ type: z.string() });
export const selectNodeSchema = z.looseObject({
  type: z.literal("SELECT_NODE"),
  modifiers: z.array(modifierSchema),
  cte_map: z.looseObject({ map: z.array(z.looseObject({ key: z.string(), value: z.looseObject({ aliases: z.array(z.string()), query: z.looseObject({ node: z.looseObject({ type: z.string() }) }) }) })) }),
  select_list: z.array(exprSchema).min(1),
  from_table: tableRefSchema,
  where_clause: exprSchema.nullable(),
  group_expressions: z.array(exprSchema),
  group_sets: z.array(z.array(z.number())),
  aggregate_handling: z.string(),
  having: exprSchema.nullable(),
  sample: z.unknown(),
  qualify: exprSchema.nullable(),
});
const parsedSchema = z.looseObject({
  error: z.literal(false),
  statements: z.array(z.looseObject({ node: z.looseObject({ type: z.string() }) })),
});

/** Where the query came from, for messages: the query shortened to `max` characters. */
export function excerpt(sql: string, max = 120): string {
  const one = sql.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * An in-memory DuckDB for parsing, printing and binding (DESCRIBE over empty tables). One per
 * planning session; close it when done.
 */
export class SqlSession {
  private aggregates: Set<string> | undefined;
  private consistent: Set<string> | undefined;
  private constructor(readonly db: DuckDb) {}

  /**
   * The session never reads data (it binds over empty tables), so it may not touch files or the
   * network: a table function or a file path that slipped past the planner's checks still reads
   * nothing on the coordinator (`enable_external_access = false`).
   */
  static async open(): Promise<SqlSession> {
    const db = await openDuckDb({ threads: 1 });
    try {
      await db.value("SELECT json_serialize_sql('SELECT 1')"); // loads the parser's JSON functions first
      await db.run("SET enable_external_access = false");
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqlSession(db);
  }

  close(): void {
    this.db.close();
  }

  /** Parses one statement; a syntax error becomes a ConfigError with DuckDB's message. */
  async parse(sql: string): Promise<QueryNode> {
    const raw = fromJson(String(await this.db.value("SELECT json_serialize_sql($1::VARCHAR)", [sql])));
    const err = parseErrorSchema.safeParse(raw);
    // DuckDB serializes SELECT statements only: DROP, COPY, CREATE, INSERT, PRAGMA, EXPLAIN... end here.
    if (err.success && /only select statements/i.test(err.data.error_message)) {
      // DuckDB runs a PIVOT without an IN list as statements of its own (the ON columns' distinct values read first), not one SELECT.
      const pivot = /\bpivot\b/i.test(sql) ? " (a PIVOT whose ON columns have no IN list is not one SELECT to DuckDB: list the values, ON x IN ('a', 'b'), and pass --allow-single-task)" : "";
      throw new ConfigError(`[smelter] [sql] only SELECT queries are supported${pivot}: ${excerpt(sql)}`);
    }
    if (err.success) {
      const at = err.data.position === undefined ? "" : ` (character ${Number(err.data.position) + 1}: ${JSON.stringify(excerpt(sql.slice(Number(err.data.position)), 30))})`;
      throw new ConfigError(`[smelter] [sql] ${err.data.error_message}${at}: ${excerpt(sql)}`);
    }
    const parsed = parsedSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`[smelter] [sql] DuckDB's parser returned a tree this version of smelter does not understand (${parsed.error.issues[0]?.message}): ${excerpt(sql)}`);
    const statements = parsed.data.statements;
    if (statements.length !== 1) throw new ConfigError(`[smelter] [sql] expected one SELECT statement, got ${statements.length}: ${excerpt(sql)}`);
    return statements[0]!.node as QueryNode;
  }

  /** Narrows a query node to a SELECT node, or refuses it naming what it is. */
  selectNode(node: QueryNode, sql: string): SelectNode {
    if (node.type === "SET_OPERATION_NODE") throw new ConfigError(`[smelter] [sql] set operations (UNION, EXCEPT, INTERSECT) cannot be distributed yet: run each SELECT on its own, or pass --allow-single-task to run the query as one task: ${excerpt(sql)}`);
    const r = selectNodeSchema.safeParse(node);
    if (!r.success) throw new ConfigError(`[smelter] [sql] only SELECT queries can be planned (got ${node.type}: ${r.error.issues[0]?.path.join(".")} ${r.error.issues[0]?.message}): ${excerpt(sql)}`);
    return node as SelectNode;
  }

  /** Prints a query tree back into SQL. */
  async print(node: QueryNode): Promise<string> {
    const json = toJson({ error: false, statements: [{ node, named_param_map: [] }] });
    return String(await this.db.value("SELECT json_deserialize_sql($1::JSON)", [json]));
  }

  /** Creates empty tables with these columns (so queries over them bind without data). */
  async createTables(tables: { name: string; columns: ColumnInfo[] }[]): Promise<void> {
    for (const t of tables) await this.db.run(emptyTableSql(t.name, t.columns, false));
  }

  /** The result columns of `sql` (binding it against the session's tables). */
  async describe(sql: string): Promise<ColumnInfo[]> {
    const rows = await this.db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  }

  /** Names of DuckDB's functions (lower case) whose every overload is CONSISTENT: the same result for the same arguments, anywhere (not random(), now(), nextval(), error(), a macro). */
  async consistentFunctions(): Promise<Set<string>> {
    this.consistent ??= new Set(
      (await this.db.all<{ name: string }>("SELECT lower(function_name) AS name FROM duckdb_functions() GROUP BY 1 HAVING bool_and(coalesce(stability = 'CONSISTENT', false)) AND bool_and(function_type = 'scalar')")).map((r) => r.name),
    );
    return this.consistent;
  }

  /**
   * Names of DuckDB's aggregate functions (lower case), and of its macros that call one (at any
   * depth): `geomean(x)` is `exp(avg(ln(x)))`, `weighted_avg`, `json_group_array`... are macros, and
   * planned as plain expressions they ran once per task (one row per task for a global aggregate).
   */
  async aggregateNames(): Promise<Set<string>> {
    if (!this.aggregates) {
      const rows = await this.db.all<{ name: string; type: string; definition: string | null }>("SELECT DISTINCT function_name AS name, function_type AS type, macro_definition AS definition FROM duckdb_functions() WHERE function_type IN ('aggregate', 'macro')");
      const aggregates = new Set(rows.filter((r) => r.type === "aggregate").map((r) => r.name.toLowerCase()));
      const macros = rows.filter((r) => r.type === "macro" && r.definition).map((r) => ({ name: r.name.toLowerCase(), calls: new Set([...r.definition!.toLowerCase().matchAll(/([a-z_][a-z0-9_]*)"?\s*\(/g)].map((m) => m[1]!)) }));
      for (let added = true; added; ) {
        added = false;
        for (const m of macros) {
          if (aggregates.has(m.name) || ![...m.calls].some((c) => aggregates.has(c))) continue;
          aggregates.add(m.name);
          added = true;
        }
      }
      this.aggregates = aggregates;
    }
    return this.aggregates;
  }
}

const BIG = "~smelter-int~";

/** An integer of 16 digits or more as {@link fromJson} keeps it (a marked string), or undefined. */
export function markedBigInt(value: unknown): bigint | undefined {
  return typeof value === "string" && value.startsWith(BIG) ? BigInt(value.slice(BIG.length)) : undefined;
}
const DOUBLE = "~smelter-double~";

/**
 * JSON from DuckDB, keeping integers beyond 2^53 exact (BIGINT constants, the halves of HUGEINT
 * and DECIMAL constants) as marked strings, and dropping `query_location` (source positions; the
 * "no position" value does not survive a round trip through a JS number).
 */
export function fromJson(text: string): unknown {
  const marked = text.replace(/(":|[[,])(-?\d{16,})(?=\s*[,}\]])/g, `$1"${BIG}$2"`);
  return JSON.parse(marked, (k, v: unknown) => (k === "query_location" ? undefined : v));
}

/**
 * JSON for DuckDB, with marked integers written back as numbers, and every DOUBLE (or FLOAT)
 * constant as a cast of its shortest text (`CAST('1000' AS DOUBLE)`): json_deserialize_sql prints
 * such a constant as a bare number, which DuckDB reads back as another type or value (`1e3` as
 * `1000.0`, a DECIMAL; `-0e0` as `-0.0`, which is 0), and its JSON reader refuses an integer token
 * where the tree says double. The cast of the text is the same double.
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => {
    const c = v as { class?: unknown; value?: { type?: { id?: unknown; type_info?: unknown }; is_null?: unknown; value?: unknown } } | null;
    // A DOUBLE value outside an expression (TABLESAMPLE 10%'s sample_size): a whole number is written with ".0", which DuckDB's reader takes for a double (10 is an integer to it).
    const bare = v as { class?: unknown; type?: { id?: unknown }; is_null?: unknown; value?: unknown } | null;
    if (bare !== null && typeof bare === "object" && bare.class === undefined && bare.is_null === false && (bare.type?.id === "DOUBLE" || bare.type?.id === "FLOAT") && Number.isInteger(bare.value)) return { ...bare, value: `${DOUBLE}${String(bare.value)}` };
    if (c === null || typeof c !== "object" || c.class !== "CONSTANT" || c.value?.is_null !== false || typeof c.value.value !== "number") return v;
    const id = c.value.type?.id;
    if (id !== "DOUBLE" && id !== "FLOAT") return v;
    const digits = Object.is(c.value.value, -0) ? "-0.0" : String(c.value.value);
    const constant = { class: "CONSTANT", type: "VALUE_CONSTANT", alias: "", value: { type: { id: "VARCHAR", type_info: null }, is_null: false, value: digits } };
    return { class: "CAST", type: "OPERATOR_CAST", alias: (v as { alias: string }).alias, child: constant, cast_type: { id, type_info: c.value.type?.type_info ?? null }, try_cast: false };
  });
  return text.replace(new RegExp(`"${BIG}(-?\\d+)"`, "g"), "$1").replace(new RegExp(`"${DOUBLE}(-?\\d+)"`, "g"), "$1.0");
}

/** A DuckDB binder/catalog error restated for the user. */
export function bindError(err: unknown, sql: string): ConfigError {
  const message = (err as Error).message.replace(/^\[smelter\] DuckDB: /, "").replace(/\n\s+in SQL:[\s\S]*$/, "").replace(/\n[\s\S]*$/, "");
  return new ConfigError(`[smelter] [sql] ${message}: ${excerpt(sql)}`, { cause: err });
}
