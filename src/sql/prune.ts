/**
 * Partition pruning for tables in hive-style directories (splits/hive.ts): a table of the query's
 * FROM whose rows the WHERE filters (alone, or joined: not on the null side of an outer join) and
 * which the query reads once, with WHERE conjuncts naming only its partition columns (`WHERE
 * e.year = 2024 AND e.month IN (1, 2)`), reads only the objects whose directories' values pass
 * them, as DuckDB alone skips the other files. Those conjuncts are the rows' own filter, so an
 * object they reject holds no row the query keeps; they must hold only constants, the partition
 * columns and CONSISTENT functions (no subquery, no `random()`, no `now()`, no macro). The plan
 * carries them as a query over a view `__hive(__n, <partition columns>)`; query/prepare.ts runs it
 * over the listed directories. Each SELECT of the query (the query itself, its CTEs, its
 * subqueries in FROM) prunes the tables of its own FROM by its own WHERE: a subquery's WHERE
 * filters its own rows however the outer query uses them. Samples are not pruned, nor tables in
 * expression subqueries (planned as one task, which prunes nothing).
 */
import { and, baseTable, colRef, conjuncts, mapExpr, selectNode, walkExpr, type Expr, type SelectNode } from "./ast.js";
import { asciiLower } from "../splits/hive.js";
import type { SqlSession } from "./parse.js";
import type { SqlTable } from "./tables.js";

/** A table's partition filter: `sql` selects `__n` from `__hive(__n, <its partition columns>)`. */
export interface HivePruning {
  table: string;
  sql: string;
}

/** A table in FROM whose rows the WHERE filters: it is not on the null side of an outer join. */
interface Relation {
  table: SqlTable | undefined;
  qualifier: string;
  preserved: boolean;
}

/**
 * The tables in FROM with whether the WHERE's conjuncts are their rows' own filter: both sides of
 * an INNER or CROSS join, the kept side of a LEFT or RIGHT join, neither side of a FULL join, nor
 * the right of a SEMI or ANTI join; POSITIONAL and ASOF joins pair rows by position or nearest
 * match, so neither side is pruned. A subquery or table function is a relation of unknown columns.
 */
function relations(ref: Record<string, unknown>, preserved: boolean, tables: SqlTable[], out: Relation[]): Relation[] {
  // A column alias list (`t AS x(a)`) renames columns by position: its names are not the table's (the planner refuses it; kept unknown here too).
  if (ref.type === "BASE_TABLE" && !ref.sample && !ref.schema_name && !ref.catalog_name && !(ref.column_name_alias as unknown[] | undefined)?.length) {
    const table = tables.find((t) => asciiLower(t.name) === asciiLower(String(ref.table_name)));
    out.push({ table, qualifier: asciiLower(String(ref.alias || ref.table_name)), preserved: preserved && table !== undefined });
  } else if (ref.type === "JOIN") {
    const regular = ref.ref_type === "REGULAR" || ref.ref_type === "CROSS";
    const kind = String(ref.join_type);
    relations(ref.left as Record<string, unknown>, preserved && regular && ["INNER", "LEFT", "SEMI", "ANTI"].includes(kind), tables, out);
    relations(ref.right as Record<string, unknown>, preserved && regular && ["INNER", "RIGHT"].includes(kind), tables, out);
  } else out.push({ table: undefined, qualifier: asciiLower(String(ref.alias ?? "")), preserved: false });
  return out;
}

/** How many times the query reads table `name`, in FROM, joins, subqueries and CTEs. */
function reads(tree: unknown, name: string): number {
  if (Array.isArray(tree)) return tree.reduce((n: number, x) => n + reads(x, name), 0);
  if (typeof tree !== "object" || tree === null) return 0;
  const o = tree as Record<string, unknown>;
  const self = o.type === "BASE_TABLE" && asciiLower(String(o.table_name)) === name ? 1 : 0;
  return self + Object.values(o).reduce((n: number, v) => n + reads(v, name), 0);
}

/** The partition filters of the query's tables (see the header): of every SELECT in it (the query, its CTEs, its subqueries in FROM), each over its own FROM. */
export async function hivePruning(s: SqlSession, root: SelectNode, tables: SqlTable[]): Promise<HivePruning[]> {
  // A CTE's name shadows a table's: such a name is no table here.
  const ctes = new Set<string>();
  const nodes: SelectNode[] = [];
  const collect = (x: unknown): void => {
    if (typeof x !== "object" || x === null) return;
    const o = x as Record<string, unknown>;
    if (o.type === "SELECT_NODE") {
      const n = o as unknown as SelectNode;
      nodes.push(n);
      for (const { key, value } of n.cte_map.map) {
        ctes.add(asciiLower(key));
        collect(value.query.node);
      }
      collect(n.from_table);
    } else if (o.type === "JOIN") {
      collect(o.left);
      collect(o.right);
    } else if (o.type === "SUBQUERY") collect((o.subquery as { node: unknown }).node);
  };
  collect(root);
  const visible = tables.filter((t) => !ctes.has(asciiLower(t.name)));
  const consistent = await s.consistentFunctions();
  const out: HivePruning[] = [];
  for (const node of nodes) out.push(...(await pruneSelect(s, node, root, visible, consistent)));
  return out;
}

/** The partition filters one SELECT's WHERE gives the tables of its own FROM. */
async function pruneSelect(s: SqlSession, node: SelectNode, root: SelectNode, tables: SqlTable[], consistent: Set<string>): Promise<HivePruning[]> {
  if (node.sample || conjuncts(node.where_clause).length === 0) return [];
  const from = relations(node.from_table, true, tables, []);
  const candidates = from.filter((r) => r.preserved && r.table?.hive?.length && reads(root, asciiLower(r.table.name)) === 1);
  if (candidates.length === 0) return [];
  // DuckDB lets WHERE name a select alias: a name that is one is not taken for a partition column.
  const aliases = new Set(node.select_list.map((e) => String(e.alias ?? "").toLowerCase()).filter(Boolean));
  const out: HivePruning[] = [];
  for (const r of candidates) {
    const table = r.table!;
    const hive = new Map(table.hive!.map((c) => [asciiLower(c.name), c.name]));
    const others = from.filter((x) => x !== r);
    // An unqualified name is this table's only if no other relation may have it (a subquery's columns are not known here).
    const elsewhere = (name: string) => others.some((x) => !x.table || x.table.columns.some((c) => asciiLower(c.name) === name));
    const partitionOnly = (c: Expr): boolean => {
      let ok = true;
      let names = 0;
      walkExpr(c, (e) => {
        if (!ok) return false;
        if (e.class === "COLUMN_REF") {
          const n = (e.column_names as string[]).map(asciiLower);
          const name = n[n.length - 1]!;
          const mine = n.length === 2 ? n[0] === r.qualifier && !others.some((x) => x.qualifier === r.qualifier) : n.length === 1 && !elsewhere(name);
          ok = mine && hive.has(name) && !aliases.has(name);
          names++;
        } else if (e.class === "FUNCTION") ok = !e.schema && consistent.has(String(e.function_name).toLowerCase()) && !e.filter && !(e.order_bys as { orders?: unknown[] } | undefined)?.orders?.length;
        else ok = ["CONSTANT", "OPERATOR", "COMPARISON", "CONJUNCTION", "CAST", "BETWEEN", "CASE"].includes(String(e.class));
        return ok;
      });
      return ok && names > 0;
    };
    const kept = conjuncts(node.where_clause).filter(partitionOnly);
    if (kept.length === 0) continue;
    const where = mapExpr(and(kept), (e) => (e.class === "COLUMN_REF" ? colRef(hive.get(asciiLower((e.column_names as string[]).at(-1)!))!) : undefined));
    out.push({ table: table.name, sql: await s.print(selectNode({ select: [colRef("__n")], from: baseTable("__hive"), where })) });
  }
  return out;
}
