/** SQL quoting, without loading DuckDB. */

/** Quotes a string as a SQL literal (`'it''s'`). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quotes an identifier (`"my col"`). */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * read_csv's options for a CSV dialect: delimiter, quote, escape, and the null string and date
 * formats when set. An escape of "" with a quote is RFC 4180's doubled quote (as csv-parse reads
 * it), told to DuckDB as escape = quote: its escape '' would refuse a "" inside quotes.
 */
export function csvDialectArgs(d: { delimiter: string; quote: string; escape: string; nullString?: string | undefined; dateFormat?: string | undefined; timestampFormat?: string | undefined }): string[] {
  const args = [`delim = ${sqlString(d.delimiter)}`, `quote = ${sqlString(d.quote)}`, `escape = ${sqlString(d.quote === "" ? "" : d.escape === "" ? d.quote : d.escape)}`];
  if (d.nullString !== undefined) args.push(`nullstr = ${sqlString(d.nullString)}`);
  if (d.dateFormat) args.push(`dateformat = ${sqlString(d.dateFormat)}`);
  if (d.timestampFormat) args.push(`timestampformat = ${sqlString(d.timestampFormat)}`);
  return args;
}
