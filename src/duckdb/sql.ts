/** SQL quoting, without loading DuckDB. */

/** Quotes a string as a SQL literal (`'it''s'`). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quotes an identifier (`"my col"`). */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
