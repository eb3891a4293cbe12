/**
 * Which of a table's columns a stage's SQL reads, so that a Parquet table's tasks fetch only
 * those column chunks. Conservative: every column reference by its last name (whatever table
 * it names), USING columns, and all columns as soon as the SQL holds a `*`, COLUMNS(...) or a
 * positional reference. A column left out is never read as garbage: the task's view holds only
 * the listed columns, so DuckDB would refuse to bind the stage instead.
 */
import { walkExpr } from "./ast.js";
import type { SqlSession } from "./parse.js";

/** What a session already worked out, by the SQL and the table's column names (a warm coordinator runs the same stages again). */
const known = new WeakMap<SqlSession, Map<string, string[] | null>>();

/** Columns of `columns` that `sql` may read (in table order), or null for all. At least one. */
export async function columnsRead(session: SqlSession, sql: string, columns: { name: string }[]): Promise<string[] | null> {
  const key = JSON.stringify([sql, columns.map((c) => c.name)]);
  const memo = known.get(session) ?? new Map<string, string[] | null>();
  known.set(session, memo);
  if (!memo.has(key)) {
    if (memo.size >= 256) memo.clear();
    memo.set(key, await readBy(session, sql, columns));
  }
  const read = memo.get(key)!;
  return read && [...read];
}

async function readBy(session: SqlSession, sql: string, columns: { name: string }[]): Promise<string[] | null> {
  const { names, all } = namesRead(await session.parse(sql));
  if (all) return null;
  const read = columns.filter((c) => names.has(c.name.toLowerCase())).map((c) => c.name);
  return read.length > 0 ? read : [columns[0]!.name];
}

/**
 * The column names a parse tree may read, lower case: every part of every column reference (`t.col.field`,
 * a struct field, names the column as its first or second part) and the USING columns; `all` when it
 * holds a `*`, COLUMNS(...) or a positional reference.
 */
export function namesRead(tree: unknown): { names: Set<string>; all: boolean } {
  const names = new Set<string>();
  let all = false;
  walkExpr(tree, (e) => {
    if (e.class === "STAR" || e.class === "POSITIONAL_REFERENCE" || e.type === "COLUMNS") all = true;
    if (e.class === "COLUMN_REF") for (const p of e.column_names as string[]) names.add(p.toLowerCase());
  });
  collectUsing(tree, names);
  return { names, all };
}

function collectUsing(x: unknown, names: Set<string>): void {
  if (Array.isArray(x)) {
    for (const v of x) collectUsing(v, names);
    return;
  }
  if (typeof x !== "object" || x === null) return;
  for (const [k, v] of Object.entries(x)) {
    if (k === "using_columns" && Array.isArray(v)) for (const c of v) names.add(String(c).toLowerCase());
    else collectUsing(v, names);
  }
}
