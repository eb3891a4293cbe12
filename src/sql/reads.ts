/**
 * What a query may read: only the tables given with `--table`. Checked on the parse tree before
 * anything binds (binding a table function or a file path would already read the file on the
 * coordinator): every FROM item anywhere in the query (CTEs, subqueries in FROM and in
 * expressions, both sides of joins) must be a table, a CTE, a join or a subquery of those, or a
 * VALUES list. Table functions (`read_csv(...)`, `glob(...)`, `query(...)`), file paths
 * (`FROM '/etc/hostname'`), schema-qualified names and anything else are refused, everywhere,
 * `--allow-single-task` included.
 */
import { ConfigError } from "../job/errors.js";
import type { QueryNode } from "./ast.js";
import { excerpt } from "./parse.js";

type Json = Record<string, unknown>;

/** Throws a ConfigError when `node` reads anything but `tables` (names, case-insensitive) and its own CTEs. */
export function checkReads(node: QueryNode, tables: string[], sql: string): void {
  const known = new Set(tables.map((t) => t.toLowerCase()));
  const ctes = new Set<string>();
  collectCtes(node, ctes);
  const only = `a query reads only the tables given with --table NAME=URL (${tables.length ? `here: ${tables.join(", ")}` : "none given"})`;
  const refuse = (what: string) => new ConfigError(`[smelter] [sql] ${what}: ${only}: ${excerpt(sql)}`);
  const checkRef = (ref: Json): void => {
    switch (ref.type) {
      case "BASE_TABLE": {
        const name = String(ref.table_name ?? "");
        if (ref.schema_name || ref.catalog_name) throw refuse(`a schema-qualified table (${String(ref.catalog_name || ref.schema_name)}.${name})`);
        if (known.has(name.toLowerCase()) || ctes.has(name.toLowerCase())) return;
        if (/[/\\.:*?]/.test(name)) throw refuse(`the query reads the file ${JSON.stringify(name)}`);
        throw refuse(`table ${name} does not exist`);
      }
      case "JOIN":
        checkRef(ref.left as Json);
        checkRef(ref.right as Json);
        return;
      case "SUBQUERY":
      case "EMPTY":
      case "EMPTY_FROM":
      case "EXPRESSION_LIST":
        return; // a subquery's own FROM items are visited by the walk
      case "PIVOT":
        // PIVOT / UNPIVOT of a table reads that table (the planner refuses it, --allow-single-task runs it).
        checkRef(ref.source as Json);
        return;
      case "TABLE_FUNCTION": {
        const fn = (ref.function as Json | undefined)?.function_name;
        // unnest(...), range(...) and generate_series(...) in FROM read no file (their arguments' subqueries are walked as any other): the planner names them, and --allow-single-task runs them.
        if (typeof fn === "string" && ["unnest", "range", "generate_series"].includes(fn.toLowerCase())) return;
        throw refuse(`table functions cannot be used${typeof fn === "string" ? ` (${fn}(...))` : ""}`);
      }
      default:
        throw refuse(`${String(ref.type)} in FROM cannot be used`);
    }
  };
  walk(node, (obj) => {
    if (obj.from_table && typeof obj.from_table === "object") checkRef(obj.from_table as Json);
  });
}

function collectCtes(node: unknown, out: Set<string>): void {
  walk(node, (obj) => {
    const map = (obj.cte_map as { map?: { key?: unknown }[] } | undefined)?.map;
    if (Array.isArray(map)) for (const e of map) if (typeof e.key === "string") out.add(e.key.toLowerCase());
  });
}

/** Calls `visit` on every object of a JSON tree. */
function walk(value: unknown, visit: (obj: Json) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(v, visit);
    return;
  }
  if (!value || typeof value !== "object") return;
  visit(value as Json);
  for (const v of Object.values(value)) walk(v, visit);
}
