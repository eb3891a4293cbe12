/**
 * How a stage's rows are written to Parquet and read back with their exact types, in tasks and on
 * the coordinator. Parquet keeps most DuckDB types, but not all: HUGEINT (what SUM of integers
 * returns) comes back as DOUBLE, losing digits beyond 2^53. Such columns are written as VARCHAR
 * and cast back; every column is read back cast to the type the planner bound for it.
 */
import { sqlIdentifier as q, sqlString } from "../duckdb/sql.js";

export interface Column {
  name: string;
  type: string;
}

/** Types Parquet does not keep exactly (nested types holding them included). */
export function lossyInParquet(type: string): boolean {
  // INTERVAL: Parquet's keeps milliseconds (once a wrong answer: 00:00:00.000001 read back as 00:00:00); its text keeps every field.
  return /\b(U?HUGEINT|INT128|UINT128|VARINT|BIGNUM|BIT|BITSTRING|TIME WITH TIME ZONE|TIMETZ|UNION|INTERVAL)\b/i.test(type);
}

/** The select list that writes `columns` to Parquet losslessly. */
export function encodeList(columns: Column[]): string {
  return columns.map((c) => (lossyInParquet(c.type) ? `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}` : q(c.name))).join(", ");
}

/** A query reading Parquet `files` written with {@link encodeList} back into `columns`' types. */
export function decodeSql(columns: Column[], files: string[]): string {
  const list = columns.map((c) => `CAST(${q(c.name)} AS ${c.type}) AS ${q(c.name)}`).join(", ");
  return `SELECT ${list} FROM read_parquet([${files.map(sqlString).join(", ")}])`;
}

/** An empty table with these columns (a view of no rows, typed). */
export function emptyTableSql(name: string, columns: Column[], temp = true): string {
  return `CREATE OR REPLACE ${temp ? "TEMP " : ""}TABLE ${q(name)} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(", ")})`;
}
