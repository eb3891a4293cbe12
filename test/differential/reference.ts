/**
 * DuckDB alone on the generated files: each table is a view over its files read by DuckDB's own
 * readers with the generator's exact column types (read_csv with RFC 4180 quoting and each file's
 * own column order, read_json, read_parquet; gzip by extension), the query run once over them,
 * its result stored as a table and read back (floats as numbers, everything else as text).
 */
import type { DuckDb } from "../../src/duckdb/index.js";
import { sqlIdentifier as q, sqlString } from "../../src/duckdb/sql.js";
import { readTable, type TestResult } from "../helpers/local-plan.js";
import type { Column, GeneratedTable } from "./generate.js";

const struct = (cols: Column[]) => `{${cols.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(", ")}}`;

/** DuckDB's reading of one file, its columns in the table's order. */
function fileSource(t: GeneratedTable, i: number): string {
  const file = sqlString(t.files[i]!);
  const cols = t.fileColumns[i]!;
  const list = t.columns.map((c) => q(c.name)).join(", ");
  switch (t.flags.format) {
    case "parquet":
      return `SELECT ${list} FROM read_parquet(${file})`;
    case "ndjson":
      return `SELECT ${list} FROM read_json(${file}, format = 'newline_delimited', columns = ${struct(cols)})`;
    case "csv":
      // The line ending is given: DuckDB's detection takes the first line break for the file's line ending, even a quoted one (a quoted \n in a CRLF file, a quoted \r\n in an LF file), and then refuses the file.
      return `SELECT ${list} FROM read_csv(${file}, header = ${t.flags.header}, auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '${t.flags.crlf ? "\\r\\n" : "\\n"}', columns = ${struct(cols)})`;
  }
}

/** The table as one SQL subquery over all its files. */
export function referenceSql(t: GeneratedTable): string {
  return t.files.map((_, i) => fileSource(t, i)).join(" UNION ALL ");
}

/**
 * For a table whose columns the path under test reads from the data too: NDJSON columns in the
 * order and with the types DuckDB's own JSON reader detects over all the files (keys as first
 * seen; e.g. HUGEINT for integers beyond 2^53), the generator's types when DuckDB cannot infer
 * them; headered CSV columns in the first file's order (read_csv's union_by_name). CSV and
 * Parquet keep the generator's types, which are what DuckDB infers for the values it writes.
 */
async function inferredTypes(db: DuckDb, t: GeneratedTable): Promise<GeneratedTable> {
  // Headered CSV: DuckDB's read_csv(union_by_name = true) lists the columns in the first file's order.
  if (t.flags.format === "csv" && t.flags.header) return { ...t, columns: t.fileColumns[0] ?? t.columns };
  if (t.flags.format !== "ndjson" || t.files.length === 0) return t;
  try {
    const found = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_json([${t.files.map(sqlString).join(", ")}], format = 'newline_delimited')`);
    const typeOf = (c: Column) => found.find((f) => f.column_name === c.name)?.column_type ?? c.type;
    // Columns in read_json's order (keys as first seen over the files), typed as it types them.
    const rank = (c: Column) => { const i = found.findIndex((f) => f.column_name === c.name); return i < 0 ? found.length : i; };
    const columns = [...t.columns].sort((a, b) => rank(a) - rank(b)).map((c) => ({ ...c, type: typeOf(c) }));
    return { ...t, columns, fileColumns: t.fileColumns.map((cols) => cols.map((c) => ({ ...c, type: typeOf(c) }))) };
  } catch {
    return t;
  }
}

/**
 * Runs `sql` over views of `tables` in `db`; the result as a {@link TestResult}. Throws what DuckDB
 * throws. `inferTypes`: the path under test reads the columns' types from the data (no schema given).
 */
export async function runReference(db: DuckDb, sql: string, tables: GeneratedTable[], o: { inferTypes?: boolean } = {}): Promise<TestResult> {
  for (const table of tables) {
    const t = o.inferTypes ? await inferredTypes(db, table) : table;
    await db.run(`CREATE OR REPLACE TEMP VIEW ${q(t.name)} AS ${referenceSql(t)}`);
  }
  try {
    await db.run(`CREATE OR REPLACE TEMP TABLE __reference AS ${sql}`);
    return await readTable(db, "__reference");
  } finally {
    await db.run("DROP TABLE IF EXISTS __reference");
    for (const t of tables) await db.run(`DROP VIEW IF EXISTS ${q(t.name)}`);
  }
}
