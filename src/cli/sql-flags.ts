/**
 * Flags shared by `smelter explain` and `smelter sql`: `--table NAME=URL` (repeatable),
 * `--schema NAME='col TYPE, ...' | NAME=bdb:uservisits|bdb:rankings`, and the planner's options;
 * and the table definitions they make (objects listed, columns read from the data when no schema).
 */
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import type { PlanOptions } from "../sql/model.js";
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
};

/** The options every command that plans SQL takes (explain, sql), matching {@link sqlFlagsShape}. */
export function addPlanOptions(cmd: Command, partitionsDefault: string): Command {
  return cmd
    .option("--table <name=url>", "a table: its objects' URL, prefix or glob (CSV with a header, or Parquet); repeat per table", collect)
    .option("--schema <name=columns>", "columns of a table: 'col TYPE, ...', or bdb:uservisits / bdb:rankings (needed for headerless CSV)", collect)
    .option("--partitions <r>", `R, partitions of every shuffle (default: ${partitionsDefault})`)
    .option("--broadcast-bytes <n>", "broadcast a join side up to this many bytes (default 64 MiB)")
    .option("--join <strategy>", "auto, broadcast or partitioned", "auto")
    .option("--allow-single-task", "run what cannot be distributed as one task over all inputs (exact, not parallel)");
}

export const queryFlag = (command: string) => z.string().trim().min(1, `the query is empty: smelter ${command} "SELECT ..." --table NAME=URL`);

export type SqlFlags = { table: string[]; schema: string[]; partitions?: number | undefined; broadcastBytes?: number | undefined; join: "auto" | "broadcast" | "partitioned"; allowSingleTask: boolean };

/** Commander's collector for a repeatable flag. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Table definitions from --table and --schema: each table's objects listed (once: the listings go to execution), columns from --schema or the data. */
export async function tablesFromFlags(flags: Pick<SqlFlags, "table" | "schema">): Promise<{ tables: SqlTableInput[]; listings: Map<string, InputListing> }> {
  const split = (s: string) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)] as const;
  const { parseSchema } = await import("../sql/tables.js");
  const schemas = new Map(flags.schema.map((s) => [split(s)[0].toLowerCase(), parseSchema(split(s)[1])]));
  const names = new Set(flags.table.map((t) => split(t)[0].toLowerCase()));
  for (const n of schemas.keys()) if (!names.has(n)) throw new ConfigError(`bad flags: --schema ${n}=... names no --table (tables: ${[...names].join(", ")})`);
  // DuckDB loads only here: it takes ~0.3 s.
  const { resolveCatalog } = await import("../sql/catalog.js");
  return resolveCatalog(
    flags.table.map((t) => {
      const [name, url] = split(t);
      const columns = schemas.get(name.toLowerCase());
      return { name, url, ...(columns ? { columns } : {}) };
    }),
  );
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
