/**
 * Table definitions the planner plans against: a name, where the files are, their format and
 * columns (DuckDB types), and optionally their total size (to choose join strategies).
 */
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import { BDB_COLUMNS } from "../datagen/schema.js";
import type { DiscoverOptions } from "../splits/discover.js";
import { csvDialectSchema, dialectSplittable, sniffedFromSchema } from "../splits/dialect.js";
import { isTypeName, typeProblem } from "../duckdb/type-names.js";

export const sqlTableSchema = z.object({
  /** The name queries use (case-insensitive, as in DuckDB). */
  name: z.string().min(1).regex(/^(?!__)/, "table names starting with __ are reserved for smelter's stage inputs"),
  /** A URL, prefix or glob of the table's objects. */
  url: z.string().min(1),
  format: z.enum(["csv", "ndjson", "parquet"]),
  /** Columns in file order, with DuckDB types (validated type names: they become SQL text). */
  columns: z.array(z.object({ name: z.string().min(1), type: z.string().min(1).refine(isTypeName, { message: "is not a type name (e.g. VARCHAR, BIGINT, DECIMAL(10, 2))" }) })).min(1),
  /** CSV with a header: the header name of each column, in `columns`' order (the sampled object's header, or a --schema's names found in it: catalog.ts headerNamesFor); every object's header is matched to them by name. */
  headerNames: z.array(z.string()).optional(),
  /** CSV: the dialect (delimiter, quote, escape, header, null string, date formats, whole objects). */
  ...csvDialectSchema.shape,
  /** Rows that cannot be read: `fail` (the default) or `skip` (counted as badRows). */
  badRows: z.enum(["fail", "skip"]).default("fail"),
  /** CSV columns sniffed at planning from these objects: every other object is sniffed by the task reading its first records (splits/dialect.ts). */
  sniffedFrom: sniffedFromSchema.optional(),
  /** Hive partition columns (`year=2024/` directories, as DuckDB alone reads them: splits/hive.ts): the last of `columns`; each task adds them from its objects' paths. */
  hive: z.array(z.object({ name: z.string().min(1), type: z.string().min(1).refine(isTypeName, { message: "is not a type name" }) })).optional(),
  /** Columns a query may not read, and why (the catalog found them read otherwise than DuckDB alone reads them: two date formats among the objects, NDJSON timestamps with offsets); a query naming one is refused with the reason. */
  unreadable: z.array(z.object({ columns: z.array(z.string().min(1)).min(1), reason: z.string().min(1) })).optional(),
  /** How the dialect was found: which options were given, which sniffed (for explain). */
  detected: z.array(z.string()).optional(),
  /** Total bytes of the table's objects, when known (listing). */
  bytes: z.number().int().min(0).optional(),
  /** Number of splits (tasks of a leaf stage) when known. */
  splits: z.number().int().min(0).optional(),
});
export type SqlTable = z.output<typeof sqlTableSchema>;
export type SqlTableInput = z.input<typeof sqlTableSchema>;

/** What a task needs of a table to read it (format, columns, dialect). */
/** What a task needs of a table (the table spec of mapreduce/table-source.ts): all but its name, URL, sizes and how it was detected. */
export function tableSpecOf(t: SqlTable): Omit<SqlTable, "name" | "url" | "bytes" | "splits" | "detected" | "unreadable"> {
  const { name: _n, url: _u, bytes: _b, splits: _s, detected: _d, unreadable: _r, ...spec } = t;
  // The files hold the columns before the hive ones; tasks add those from the paths.
  return t.hive ? { ...spec, columns: t.columns.slice(0, t.columns.length - t.hive.length) } : spec;
}

/** Discovery options for a table's objects: its format, and whole objects when the dialect cannot be cut. */
export function discoveryOptionsOf(t: Pick<SqlTable, "format" | "quote" | "escape" | "whole">): Pick<DiscoverOptions, "format" | "whole"> {
  return { format: t.format, whole: t.format === "csv" && !dialectSplittable(t) };
}

export function parseTables(tables: SqlTableInput[]): SqlTable[] {
  const out = tables.map((t) => parseOrThrow(sqlTableSchema, t, `table ${t.name}`));
  const seen = new Set<string>();
  for (const t of out) {
    const key = t.name.toLowerCase();
    if (seen.has(key)) throw new ConfigError(`[smelter] [sql] table ${t.name} is defined twice: give each --table a different name`);
    seen.add(key);
  }
  return out;
}

/** The Big Data Benchmark's tables, columns in file order. */
export const BDB_SCHEMAS: Record<string, { name: string; type: string }[]> = BDB_COLUMNS;

/**
 * Parses a schema: `bdb:uservisits`, `bdb:rankings`, or `col TYPE, col TYPE, ...` (types may hold
 * parentheses and commas, e.g. `DECIMAL(10, 2)`).
 */
export function parseSchema(text: string): { name: string; type: string }[] {
  const bdb = /^bdb:(\w+)$/i.exec(text.trim());
  if (bdb) {
    const s = BDB_SCHEMAS[bdb[1]!.toLowerCase()];
    if (!s) throw new ConfigError(`[smelter] [sql] unknown schema ${text}: use bdb:uservisits or bdb:rankings, or list the columns ('name TYPE, ...')`);
    return s;
  }
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => {
    const m = /^\s*("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+(\S[\s\S]*?)\s*$/.exec(p);
    if (!m) throw new ConfigError(`[smelter] [sql] cannot read column "${p.trim()}" in schema "${text}": write columns as 'name TYPE, name TYPE' (e.g. 'pageURL VARCHAR, pageRank INTEGER')`);
    const name = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!;
    const problem = typeProblem(name, m[2]!);
    if (problem) throw new ConfigError(`[smelter] [sql] cannot read schema "${text}": ${problem}`);
    return { name, type: m[2]! };
  });
}
