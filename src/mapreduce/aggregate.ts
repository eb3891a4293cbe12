/**
 * A table's files as DuckDB reads them inside a task: the table as plain data (format, columns,
 * CSV dialect) and the table function over a task's local files. The aggregate SQL itself is the
 * SQL planner's (src/sql/aggregates.ts), for `smelter sql` and `smelter query2` alike.
 */
import { z } from "zod";
import { sqlString } from "../duckdb/sql.js";
import { isTypeName } from "../duckdb/type-names.js";

export const columnSchema = z.object({ name: z.string().min(1), type: z.string().min(1) });

export const tableSchema = z.object({
  format: z.enum(["csv", "parquet", "ndjson"]),
  /** Columns in file order, with DuckDB types (type names checked: a task casts to them in SQL text). */
  columns: z.array(columnSchema.extend({ type: z.string().min(1).refine(isTypeName, { message: "is not a type name" }) })).min(1),
  /** CSV: field delimiter. @default "," */
  delimiter: z.string().length(1).default(","),
  /** CSV: first line is a header. @default false */
  header: z.boolean().default(false),
});
export type TableSpec = z.output<typeof tableSchema>;

/** A DuckDB table function reading `files` of `table`. */
export function sourceSql(table: TableSpec, files: string[]): string {
  const list = `[${files.map(sqlString).join(", ")}]`;
  if (table.format === "parquet") return `read_parquet(${list})`;
  const cols = `{${table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(", ")}}`;
  if (table.format === "ndjson") return `read_json(${list}, columns = ${cols}, format = 'newline_delimited')`;
  return `read_csv(${list}, columns = ${cols}, header = ${table.header}, delim = ${sqlString(table.delimiter)}, quote = '', escape = '', auto_detect = false)`;
}
