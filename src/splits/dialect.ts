/**
 * The CSV dialect every reader of a CSV split shares (SQL stages, Query 2, the functions API):
 * delimiter, quote, escape, header, null string, date/timestamp formats, and the record limits.
 * One schema, one place that says how a split's bytes are cut and what DuckDB is told.
 *
 * Record boundaries: a CSV object is cut into byte ranges at newlines (csv-range.ts). That is exact
 * when no quoted field holds a newline; with RFC 4180 quoting (escape = quote, or no escape) a
 * quoted newline exists iff some physical line holds an odd number of quote characters, which the
 * range reader checks on every range that is part of an object (a native search for the quote
 * byte per chunk; lines are looked at only in chunks that hold a quote). Such an object is
 * refused with its name and the way out (read objects whole: `whole = true`). With another escape
 * character (`\"`), parity says nothing: objects are then read whole (never cut).
 */
import { z } from "zod";

/** Longest record (line) any reader accepts, in bytes. DuckDB is told the same, and its read buffer is twice that. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const char = (what: string) => z.string().max(1, `${what} is one character (or empty for none)`);

export const csvDialectSchema = z.strictObject({
  /** Field delimiter. @default "," */
  delimiter: z.string().length(1, "the delimiter is one character").default(","),
  /** Quote character; "" turns quoting off. @default '"' */
  quote: char("the quote").default('"'),
  /** Escape character inside quotes; "" or the quote itself is RFC 4180's doubled quote. @default '"' */
  escape: char("the escape").default('"'),
  /** The first line of each object names the columns. @default false */
  header: z.boolean().default(false),
  /** A field with this text is NULL (besides an empty unquoted field). */
  nullString: z.string().optional(),
  /** strptime format of DATE columns (DuckDB's dateformat). */
  dateFormat: z.string().min(1).optional(),
  /** strptime format of TIMESTAMP columns (DuckDB's timestampformat). */
  timestampFormat: z.string().min(1).optional(),
  /** Read each object whole (never cut into byte ranges): needed for quoted fields that hold newlines. @default false */
  whole: z.boolean().default(false),
});
export type CsvDialect = z.output<typeof csvDialectSchema>;
export type CsvDialectInput = z.input<typeof csvDialectSchema>;

/**
 * A CSV table whose columns were sniffed (not given): the objects sniffed at planning (keys; the
 * first 10, as DuckDB alone sniffs a glob's `files_to_sniff`), and the options the user gave.
 * The task that reads any other object's first records sniffs them as DuckDB alone sniffs each
 * further file of a glob, told those options, and refuses the object when its dialect or a
 * column's type differs from the table's (builtin-workers/csv-object-check.ts).
 */
export const sniffedFromSchema = z.strictObject({
  objects: z.array(z.string().min(1)).max(64),
  given: z.strictObject({
    delimiter: z.string().length(1).optional(),
    quote: z.string().max(1).optional(),
    escape: z.string().max(1).optional(),
    dateFormat: z.string().min(1).optional(),
    timestampFormat: z.string().min(1).optional(),
  }),
});
export type SniffedFrom = z.output<typeof sniffedFromSchema>;

/** Whether objects of this dialect may be cut into byte ranges at newlines (see the file's header). */
export function dialectSplittable(d: Pick<CsvDialect, "quote" | "escape" | "whole">): boolean {
  return !d.whole && (d.quote === "" || d.escape === "" || d.escape === d.quote);
}

/** The quote byte the range reader checks for parity, when quoting is on. */
export function parityQuote(d: Pick<CsvDialect, "quote">): string | undefined {
  return d.quote === "" ? undefined : d.quote;
}

/** A short description for `smelter explain`. */
export function describeDialect(d: CsvDialect): string {
  const parts = [d.header ? "header" : "no header", `delimiter ${JSON.stringify(d.delimiter)}`, d.quote === "" ? "no quoting" : `quote ${JSON.stringify(d.quote)}`];
  // escape "" is the quote doubled (RFC 4180), as escape = quote: nothing to say.
  if (d.quote !== "" && d.escape !== "" && d.escape !== d.quote) parts.push(`escape ${JSON.stringify(d.escape)}`);
  if (d.nullString !== undefined) parts.push(`null ${JSON.stringify(d.nullString)}`);
  if (d.dateFormat) parts.push(`dates ${JSON.stringify(d.dateFormat)}`);
  if (d.timestampFormat) parts.push(`timestamps ${JSON.stringify(d.timestampFormat)}`);
  if (!dialectSplittable(d)) parts.push("objects read whole");
  return parts.join(", ");
}
