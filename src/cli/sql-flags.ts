/**
 * Flags shared by `smelter explain` and `smelter sql`: `--table NAME=URL` (repeatable),
 * `--schema NAME='col TYPE, ...' | NAME=bdb:uservisits|bdb:rankings`, and the planner's options;
 * and the table definitions they make (objects listed, columns read from the data when no schema).
 */
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import type { PlanOptions } from "../sql/model.js";
import type { TableOptions } from "../sql/catalog.js";
import type { SqlTableInput } from "../sql/tables.js";
import type { InputListing } from "../splits/listing.js";

const pair = (flag: string) => z.string().regex(/^[A-Za-z_][\w$]*=.+$/s, `${flag} takes NAME=VALUE (e.g. ${flag} uservisits=${flag === "--table" ? "s3://bucket/uservisits/" : "bdb:uservisits"})`);

/** Fields of a zod object schema (spread them into a command's schema). */
export const sqlFlagsShape = {
  table: z.array(pair("--table")).min(1, "--table NAME=URL is required (one per table the query reads)"),
  schema: z.array(pair("--schema")).default([]),
  partitions: z.coerce.number({ message: "--partitions must be a number" }).int("--partitions must be a whole number").min(1, "--partitions must be at least 1").max(4096, "--partitions must be at most 4096").optional(),
  broadcastBytes: z.coerce.number({ message: "--broadcast-bytes must be a number" }).int().min(0, "--broadcast-bytes must be at least 0").optional(),
  join: z.enum(["auto", "broadcast", "partitioned"], { message: "--join must be auto, broadcast or partitioned" }).default("auto"),
  allowSingleTask: z.boolean().default(false),
  inputFormat: z.enum(["auto", "csv", "ndjson", "parquet"], { message: "--input-format must be auto, csv, ndjson or parquet" }).optional(),
  delimiter: z.string().optional(),
  quote: z.string().optional(),
  escape: z.string().optional(),
  header: z.enum(["auto", "yes", "no", "true", "false"], { message: "--header must be yes, no or auto" }).optional(),
  nullString: z.string().optional(),
  dateFormat: z.string().optional(),
  timestampFormat: z.string().optional(),
  wholeFiles: z.boolean().optional(),
  badRows: z.enum(["fail", "skip"], { message: "--bad-rows must be fail or skip" }).optional(),
  tableOption: z.array(z.string().regex(/^[A-Za-z_][\w$]*\.[A-Za-z_]+=[\s\S]*$/, "--table-option takes NAME.KEY=VALUE (e.g. --table-option uv.delimiter='|')")).default([]),
};

/** The options every command that plans SQL takes (explain, sql), matching {@link sqlFlagsShape}. */
export function addPlanOptions(cmd: Command, partitionsDefault: string): Command {
  return cmd
    .option("--table <name=url>", "a table: its objects' URL, prefix or glob (CSV with a header, or Parquet); repeat per table", collect)
    .option("--schema <name=columns>", "columns of a table: 'col TYPE, ...', or bdb:uservisits / bdb:rankings (needed for headerless CSV)", collect)
    .option("--partitions <r>", `R, partitions of every shuffle (default: ${partitionsDefault})`)
    .option("--broadcast-bytes <n>", "broadcast a join side up to this many bytes (default 64 MiB)")
    .option("--join <strategy>", "auto, broadcast or partitioned", "auto")
    .option("--allow-single-task", "run what cannot be distributed as one task over all inputs (exact, not parallel)")
    .option("--input-format <format>", "the tables' format: auto (by extension: .csv/.tsv/.txt/none csv, .ndjson/.jsonl/.json ndjson, .parquet; .gz/.zst stripped first), csv, ndjson or parquet")
    .option("--delimiter <c>", "CSV field delimiter (\\t or tab for a tab; default: sniffed)")
    .option("--quote <c>", "CSV quote character, '' for none (default: sniffed)")
    .option("--escape <c>", "CSV escape character inside quotes (default: sniffed; the quote doubled)")
    .option("--header <yes|no|auto>", "CSV objects start with a header line (default: sniffed)")
    .option("--null-string <s>", "CSV text read as NULL")
    .option("--date-format <f>", "CSV DATE format, strptime style (e.g. %d/%m/%Y; default: sniffed)")
    .option("--timestamp-format <f>", "CSV TIMESTAMP format, strptime style (default: sniffed)")
    .option("--whole-files", "read each CSV object whole, never cut into byte ranges (quoted fields with line breaks)")
    .option("--bad-rows <policy>", "rows that cannot be read with the table's types: fail (default) or skip (counted as badRows)")
    .option("--table-option <name.key=value>", "an input option of one table (keys: format, delimiter, quote, escape, header, null, dateformat, timestampformat, whole, badrows, hive); repeatable", collect);
}

export const queryFlag = (command: string) => z.string().trim().min(1, `the query is empty: smelter ${command} "SELECT ..." --table NAME=URL`);

type InputFlags = Pick<z.output<z.ZodObject<typeof sqlFlagsShape>>, "inputFormat" | "delimiter" | "quote" | "escape" | "header" | "nullString" | "dateFormat" | "timestampFormat" | "wholeFiles" | "badRows" | "tableOption">;
export type SqlFlags = { table: string[]; schema: string[]; partitions?: number | undefined; broadcastBytes?: number | undefined; join: "auto" | "broadcast" | "partitioned"; allowSingleTask: boolean } & Partial<InputFlags>;

/** Commander's collector for a repeatable flag. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Table definitions from --table and --schema: each table's objects listed (once: the listings go to execution), columns from --schema or the data. */
export async function tablesFromFlags(flags: Pick<SqlFlags, "table" | "schema"> & Partial<InputFlags>): Promise<{ tables: SqlTableInput[]; listings: Map<string, InputListing> }> {
  const split = (s: string) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)] as const;
  const { parseSchema } = await import("../sql/tables.js");
  const schemas = new Map(flags.schema.map((s) => [split(s)[0].toLowerCase(), parseSchema(split(s)[1])]));
  const names = new Set(flags.table.map((t) => split(t)[0].toLowerCase()));
  for (const n of schemas.keys()) if (!names.has(n)) throw new ConfigError(`bad flags: --schema ${n}=... names no --table (tables: ${[...names].join(", ")})`);
  const common = inputOptions(flags);
  const perTable = new Map<string, TableOptions>();
  for (const o of flags.tableOption ?? []) {
    const dot = o.indexOf(".");
    const eq = o.indexOf("=");
    const name = o.slice(0, dot).toLowerCase();
    if (!names.has(name)) throw new ConfigError(`bad flags: --table-option ${o} names no --table (tables: ${[...names].join(", ")})`);
    perTable.set(name, { ...perTable.get(name), ...tableOption(o.slice(dot + 1, eq).toLowerCase(), o.slice(eq + 1)) });
  }
  // DuckDB loads only here: it takes ~0.3 s.
  const { resolveCatalog } = await import("../sql/catalog.js");
  return resolveCatalog(
    flags.table.map((t) => {
      const [name, url] = split(t);
      const columns = schemas.get(name.toLowerCase());
      const options = { ...common, ...perTable.get(name.toLowerCase()) };
      return { name, url, ...(columns ? { columns } : {}), options };
    }),
  );
}

/** A one-character option: `\t` / `tab` is a tab; '' (quote, escape) is none. */
function oneChar(flag: string, value: string, emptyOk: boolean): string {
  const v = value === "\\t" || value.toLowerCase() === "tab" ? "\t" : value;
  if (v.length > 1 || (v === "" && !emptyOk)) throw new ConfigError(`bad flags: ${flag} takes one character${emptyOk ? " (or '' for none)" : ""}, not ${JSON.stringify(value)}`);
  return v;
}

function yesNo(flag: string, value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (["yes", "true", "1"].includes(v)) return true;
  if (["no", "false", "0"].includes(v)) return false;
  if (v === "auto") return undefined;
  throw new ConfigError(`bad flags: ${flag} takes yes, no or auto, not ${JSON.stringify(value)}`);
}

/** The tables' input options from the global flags. */
function inputOptions(f: Partial<InputFlags>): TableOptions {
  const o: TableOptions = {};
  if (f.inputFormat) o.format = f.inputFormat;
  if (f.delimiter !== undefined) o.delimiter = oneChar("--delimiter", f.delimiter, false);
  if (f.quote !== undefined) o.quote = oneChar("--quote", f.quote, true);
  if (f.escape !== undefined) o.escape = oneChar("--escape", f.escape, true);
  if (f.header !== undefined) {
    const h = yesNo("--header", f.header);
    if (h !== undefined) o.header = h;
  }
  if (f.nullString !== undefined) o.nullString = f.nullString;
  if (f.dateFormat) o.dateFormat = f.dateFormat;
  if (f.timestampFormat) o.timestampFormat = f.timestampFormat;
  if (f.wholeFiles) o.whole = true;
  if (f.badRows) o.badRows = f.badRows;
  return o;
}

const TABLE_OPTION_KEYS = ["format", "delimiter", "quote", "escape", "header", "null", "dateformat", "timestampformat", "whole", "badrows", "hive"] as const;

/** One `--table-option NAME.KEY=VALUE`. */
function tableOption(key: string, value: string): TableOptions {
  const flag = `--table-option ...${key}`;
  switch (key) {
    case "format": {
      const f = z.enum(["auto", "csv", "ndjson", "parquet"]).safeParse(value.toLowerCase());
      if (!f.success) throw new ConfigError(`bad flags: ${flag} takes auto, csv, ndjson or parquet, not ${JSON.stringify(value)}`);
      return { format: f.data };
    }
    case "delimiter":
      return { delimiter: oneChar(flag, value, false) };
    case "quote":
      return { quote: oneChar(flag, value, true) };
    case "escape":
      return { escape: oneChar(flag, value, true) };
    case "header": {
      const h = yesNo(flag, value);
      return h === undefined ? {} : { header: h };
    }
    case "null":
      return { nullString: value };
    case "dateformat":
      return { dateFormat: value };
    case "timestampformat":
      return { timestampFormat: value };
    case "badrows": {
      if (value !== "fail" && value !== "skip") throw new ConfigError(`bad flags: ${flag} takes fail or skip, not ${JSON.stringify(value)}`);
      return { badRows: value };
    }
    case "hive": {
      const h = yesNo(flag, value);
      return h === undefined ? {} : { hive: h };
    }
    case "whole": {
      const w = yesNo(flag, value);
      return w ? { whole: true } : {};
    }
    default:
      throw new ConfigError(`bad flags: --table-option key ${JSON.stringify(key)} is unknown: use one of ${TABLE_OPTION_KEYS.join(", ")}`);
  }
}

/** The planner's options from the flags. */
export function planOptions(flags: SqlFlags, workers: number | undefined): PlanOptions {
  return {
    ...(flags.partitions ? { partitions: flags.partitions } : {}),
    ...(workers ? { workers } : {}),
    ...(flags.broadcastBytes !== undefined ? { broadcastBytes: flags.broadcastBytes } : {}),
    join: flags.join,
    allowSingleTask: flags.allowSingleTask,
  };
}
