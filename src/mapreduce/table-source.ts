/**
 * A table as the tasks read it (format, columns, CSV dialect) and the DuckDB table function over a
 * task's local files (materialize.ts). CSV files are read with the dialect's options, no sniffing
 * (`auto_detect = false`), the record limit of dialect.ts, and, per group of files with the same
 * header, the file's columns matched to the table's by name (DuckDB's `union_by_name` matching; a
 * file whose header is not the table's columns in some order is refused, named).
 */
import { z } from "zod";
import { csvDialectArgs, sqlIdentifier as q, sqlString } from "../duckdb/sql.js";
import { isTypeName } from "../duckdb/type-names.js";
import { NonRetryableError } from "../job/errors.js";
import { csvDialectSchema, MAX_RECORD_BYTES, sniffedFromSchema } from "../splits/dialect.js";
import { hiveValuesSql } from "../splits/hive.js";

export const columnSchema = z.object({ name: z.string().min(1), type: z.string().min(1) });
/** A column whose type becomes SQL text in a task (casts): a checked type name. */
const typedColumnSchema = columnSchema.extend({ type: z.string().min(1).refine(isTypeName, { message: "is not a type name" }) });

export const tableSchema = z.object({
  format: z.enum(["csv", "parquet", "ndjson"]),
  /** Columns in file order, with DuckDB types (type names checked: a task casts to them in SQL text). */
  columns: z.array(typedColumnSchema).min(1),
  /** CSV with a header: the header name of each column (matched to `columns` by position); every object's header is matched by name to these. */
  headerNames: z.array(z.string()).optional(),
  ...csvDialectSchema.shape,
  /** Rows DuckDB cannot read with the table's types and dialect: `fail` the task, or `skip` them (DuckDB's ignore_errors; CSV rejects counted). @default fail */
  badRows: z.enum(["fail", "skip"]).default("fail"),
  /** Hive partition columns, after `columns`: each file gets its object's directory values (splits/hive.ts). */
  hive: z.array(typedColumnSchema).optional(),
  /** CSV columns sniffed at planning from these objects: every other object is sniffed by the task reading its first records (splits/dialect.ts). */
  sniffedFrom: sniffedFromSchema.optional(),
});
/** A table spec as given (dialect fields default). */
export type TableSpec = z.input<typeof tableSchema>;
type Table = z.output<typeof tableSchema>;

/** A local file of a CSV table: whether it starts with a header line, and its object's header names. */
export interface CsvFile {
  path: string;
  /** The file's first line is its header (a whole object read in place, or a zstd object). */
  headerLine: boolean;
  /** The object's header names (tables with a header). */
  names?: string[];
  /** The object, for messages. */
  object?: string;
  /** The line ending of the file's first record (splits/line-end.ts), when known: DuckDB is told it. */
  newLine?: "\r\n" | "\n";
}

/**
 * A DuckDB table function (or subquery) reading `files` of `table`. A plain path stands for a whole
 * object as written (with its header line when the table has one). `fileColumns`: with hive
 * columns, the files' columns to read (Parquet: those the query reads; a sparse copy holds no
 * others). @default every column
 */
export function sourceSql(spec: TableSpec, files: (string | CsvFile)[], fileColumns?: string[]): string {
  const table = tableSchema.parse(spec);
  const hive = table.hive;
  if (hive?.length) {
    // Each group's columns by name: a group's read_parquet takes its first file's column order, and UNION ALL matches by position.
    const names = (fileColumns ?? table.columns.map((c) => c.name)).map(q);
    // Files of the same directory values read together, each group with its values added as constants.
    const groups = new Map<string, { values: string[]; files: (string | CsvFile)[] }>();
    for (const f of files) {
      const object = typeof f === "string" ? undefined : f.object;
      if (object === undefined) throw new Error(`[smelter] internal: a file of a table with hive partition columns came without its object (${typeof f === "string" ? f : f.path})`);
      const values = hiveValuesSql(hive, object);
      const key = values.join("\u0000");
      const g = groups.get(key) ?? { values, files: [] };
      g.files.push(f);
      groups.set(key, g);
    }
    const own = { ...spec, hive: undefined };
    const reads = [...groups.values()].map((g) => `(SELECT ${[...names, ...g.values.map((v, i) => `${v} AS ${q(hive[i]!.name)}`)].join(", ")} FROM ${sourceSql(own, g.files)})`);
    return reads.length === 1 ? reads[0]! : `(${reads.map((r) => `SELECT * FROM ${r}`).join(" UNION ALL ")})`;
  }
  const paths = files.map((f) => (typeof f === "string" ? f : f.path));
  const list = (ps: string[]) => `[${ps.map(sqlString).join(", ")}]`;
  // A file read in place keeps its directories (year=2024/): DuckDB would add them as columns; hive columns are added above, from the listing's objects.
  if (table.format === "parquet") return `read_parquet(${list(paths)}, hive_partitioning = false)`;
  const cols = (cs: { name: string; type: string }[]) => `{${cs.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(", ")}}`;
  if (table.format === "ndjson") return `read_json(${list(paths)}, columns = ${cols(table.columns)}, format = 'newline_delimited', maximum_object_size = ${MAX_RECORD_BYTES}, hive_partitioning = false${table.badRows === "skip" ? ", ignore_errors = true" : ""})`;
  const groups = new Map<string, { headerLine: boolean; order: number[] | undefined; newLine: string | undefined; paths: string[] }>();
  for (const f of files) {
    const file: CsvFile = typeof f === "string" ? { path: f, headerLine: table.header } : f;
    const order = file.names && table.header ? columnOrder(table, file) : undefined;
    // DuckDB takes the line ending from the file's first line break, even a quoted one: each file is told its own (splits/line-end.ts).
    const newLine = file.newLine === "\r\n" ? "\\r\\n" : file.newLine === "\n" ? "\\n" : undefined;
    const key = `${file.headerLine}:${newLine ?? ""}:${order?.join(",") ?? ""}`;
    const g = groups.get(key) ?? { headerLine: file.headerLine, order, newLine, paths: [] };
    g.paths.push(file.path);
    groups.set(key, g);
  }
  const reads = [...groups.values()].map((g) => {
    const fileColumns = g.order ? g.order.map((i) => table.columns[i]!) : table.columns;
    const read = `read_csv(${list(g.paths)}, columns = ${cols(fileColumns)}, header = ${g.headerLine}, ${dialectOptions(table)}${g.newLine ? `, new_line = '${g.newLine}'` : ""})`;
    return g.order ? `(SELECT ${table.columns.map((c) => q(c.name)).join(", ")} FROM ${read})` : read;
  });
  if (reads.length === 1) return reads[0]!;
  return `(${reads.map((r) => `SELECT * FROM ${r}`).join(" UNION ALL ")})`;
}

/** read_csv's options for the table's dialect. */
function dialectOptions(t: Table): string {
  const o = csvDialectArgs(t);
  o.push(`max_line_size = ${MAX_RECORD_BYTES}`, `buffer_size = ${2 * MAX_RECORD_BYTES}`, "auto_detect = false", "hive_partitioning = false");
  if (t.badRows === "skip") o.push("ignore_errors = true", "store_rejects = true");
  return o.join(", ");
}

/**
 * For each of a file's columns in its order, the index of the table column it is: undefined when
 * the file's header is the table's (positions match), or the table's header names are unknown.
 * Names match exactly, else ignoring case.
 */
export function columnOrder(table: Pick<Table, "headerNames">, file: CsvFile): number[] | undefined {
  const names = duckdbColumnNames(file.names!);
  const want = table.headerNames;
  if (!want) return undefined; // the table's header names are unknown (columns given by hand): by position
  if (names.length === want.length && names.every((n, i) => n === want[i])) return undefined;
  const refuse = (why: string): never => {
    throw new NonRetryableError(
      `${file.object ?? file.path}: its header (${names.join(", ")}) ${why} the table's columns (${want.join(", ")}, from its first object): give every object the same columns, or define a table per set of objects`,
      { type: "InputError" },
    );
  };
  if (names.length !== want.length) refuse(`has ${names.length} columns, not the ${want.length} of`);
  const order = names.map((n) => {
    let i = want.indexOf(n);
    if (i < 0) {
      const lower = want.map((w) => w.toLowerCase());
      i = lower.indexOf(n.toLowerCase());
      if (i >= 0 && lower.indexOf(n.toLowerCase(), i + 1) >= 0) i = -1;
    }
    return i;
  });
  if (order.some((i) => i < 0) || new Set(order).size !== order.length) refuse("does not name the same columns as");
  return order.every((i, n) => i === n) ? undefined : order;
}

/**
 * A CSV header's names as DuckDB's reader names the columns: trimmed; an empty one `column<i>`
 * (its position); a name already taken (ignoring case) gets `_1`, `_2`, ... (the next number not
 * taken), so `a,a,A,` reads as a, a_1, A_2, column3. The table's names come from DuckDB's sniff,
 * so each object's header is named the same way before the two are matched.
 */
export function duckdbColumnNames(header: string[]): string[] {
  const taken = new Set<string>();
  const next = new Map<string, number>();
  return header.map((raw, i) => {
    const name = raw.trim() || `column${i}`;
    let out = name;
    if (taken.has(out.toLowerCase())) {
      let k = next.get(name.toLowerCase()) ?? 1;
      while (taken.has(`${name}_${k}`.toLowerCase())) k++;
      next.set(name.toLowerCase(), k + 1);
      out = `${name}_${k}`;
    }
    taken.add(out.toLowerCase());
    return out;
  });
}
