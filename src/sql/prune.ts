/**
 * Partition pruning for tables in hive-style directories (splits/hive.ts): a query over ONE table
 * whose WHERE has conjuncts naming only its partition columns (`WHERE year = 2024 AND month IN
 * (1, 2)`) reads only the objects whose directories' values pass them, as DuckDB alone skips the
 * other files. Those conjuncts are the rows' own filter, so an object they reject holds no row the
 * query keeps; they must hold only constants, the partition columns and CONSISTENT functions
 * (no subquery, no `random()`, no `now()`, no macro). The plan carries them as a query over a view
 * `__hive(__n, <partition columns>)`; query/prepare.ts runs it over the listed directories.
 * Joins, CTEs and samples are not pruned (a conjunct over the null side of an outer join is not the
 * rows' own filter).
 */
import { and, baseTable, colRef, conjuncts, mapExpr, selectNode, walkExpr, type Expr, type SelectNode } from "./ast.js";
import type { SqlSession } from "./parse.js";
import type { SqlTable } from "./tables.js";

/** A table's partition filter: `sql` selects `__n` from `__hive(__n, <its partition columns>)`. */
export interface HivePruning {
  table: string;
  sql: string;
}

/** The partition filter of `node`'s one table, if it has one (see the header). */
export async function hivePruning(s: SqlSession, node: SelectNode, tables: SqlTable[]): Promise<HivePruning | undefined> {
  const from = node.from_table;
  if (node.cte_map.map.length > 0 || node.sample || from.type !== "BASE_TABLE" || from.sample) return undefined;
  const table = tables.find((t) => t.name.toLowerCase() === String(from.table_name).toLowerCase());
  if (!table?.hive?.length || conjuncts(node.where_clause).length === 0) return undefined;
  const hive = new Map(table.hive.map((c) => [c.name.toLowerCase(), c.name]));
  const qualifier = String(from.alias || from.table_name).toLowerCase();
  // DuckDB lets WHERE name a select alias: a name that is one is not taken for a partition column.
  const aliases = new Set(node.select_list.map((e) => String(e.alias ?? "").toLowerCase()).filter(Boolean));
  const consistent = await s.consistentFunctions();
  const partitionOnly = (c: Expr): boolean => {
    let ok = true;
    let names = 0;
    walkExpr(c, (e) => {
      if (!ok) return false;
      if (e.class === "COLUMN_REF") {
        const n = (e.column_names as string[]).map((x) => x.toLowerCase());
        const name = n[n.length - 1]!;
        ok = (n.length === 1 || (n.length === 2 && n[0] === qualifier)) && hive.has(name) && !aliases.has(name);
        names++;
      } else if (e.class === "FUNCTION") ok = !e.schema && consistent.has(String(e.function_name).toLowerCase()) && !e.filter && !(e.order_bys as { orders?: unknown[] } | undefined)?.orders?.length;
      else ok = ["CONSTANT", "OPERATOR", "COMPARISON", "CONJUNCTION", "CAST", "BETWEEN", "CASE"].includes(String(e.class));
      return ok;
    });
    return ok && names > 0;
  };
  const kept = conjuncts(node.where_clause).filter(partitionOnly);
  if (kept.length === 0) return undefined;
  const where = mapExpr(and(kept), (e) => (e.class === "COLUMN_REF" ? colRef(hive.get((e.column_names as string[]).at(-1)!.toLowerCase())!) : undefined));
  return { table: table.name, sql: await s.print(selectNode({ select: [colRef("__n")], from: baseTable("__hive"), where })) };
}
