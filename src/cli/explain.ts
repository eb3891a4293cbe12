/**
 * `smelter explain "SELECT ..." --table NAME=URL [--table ...] [--schema NAME='col TYPE, ...' |
 * --schema NAME=bdb:uservisits|bdb:rankings]`: prints the stage plan of a query (tasks and their
 * inputs, the SQL each stage runs, shuffle keys and partition counts, the coordinator's SQL)
 * without running it. Tables are listed for their splits and bytes.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseFlags } from "./common.js";

const pair = (flag: string) => z.string().regex(/^[A-Za-z_][\w$]*=.+$/s, `${flag} takes NAME=VALUE (e.g. ${flag} uservisits=${flag === "--table" ? "s3://bucket/uservisits/" : "bdb:uservisits"})`);

export const explainFlagsSchema = z.object({
  query: z.string().trim().min(1, "the query is empty: smelter explain \"SELECT ...\" --table NAME=URL"),
  table: z.array(pair("--table")).min(1, "--table NAME=URL is required (one per table the query reads)"),
  schema: z.array(pair("--schema")).default([]),
  partitions: z.coerce.number({ message: "--partitions must be a number" }).int("--partitions must be a whole number").min(1, "--partitions must be at least 1").max(4096, "--partitions must be at most 4096").optional(),
  workers: z.coerce.number({ message: "--workers must be a number" }).int("--workers must be a whole number").min(1, "--workers must be at least 1").max(1024, "--workers must be at most 1024").optional(),
  broadcastBytes: z.coerce.number({ message: "--broadcast-bytes must be a number" }).int().min(0, "--broadcast-bytes must be at least 0").optional(),
  join: z.enum(["auto", "broadcast", "partitioned"], { message: "--join must be auto, broadcast or partitioned" }).default("auto"),
  allowSingleTask: z.boolean().default(false),
  format: z.enum(["text", "json"], { message: "--format must be text or json" }).default("text"),
  endpoint: z.string().url("--endpoint must be a URL like http://127.0.0.1:4568").optional(),
});
export type ExplainFlags = z.output<typeof explainFlagsSchema>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command): void {
  program
    .command("explain")
    .description("Show how a SQL query is planned into stages of tasks (nothing runs)")
    .argument("<query>", "the SELECT statement (DuckDB's dialect)")
    .option("--table <name=url>", "a table: its objects' URL, prefix or glob (CSV with a header, or Parquet); repeat per table", collect)
    .option("--schema <name=columns>", "columns of a table: 'col TYPE, ...', or bdb:uservisits / bdb:rankings (needed for headerless CSV)", collect)
    .option("--partitions <r>", "R, partitions of every shuffle (default: from the tables' bytes, at least --workers)")
    .option("--workers <n>", "workers the plan is for (the floor of the derived R)", "4")
    .option("--broadcast-bytes <n>", "broadcast a join side up to this many bytes (default 64 MiB)")
    .option("--join <strategy>", "auto, broadcast or partitioned", "auto")
    .option("--allow-single-task", "plan what cannot be distributed as one task over all inputs")
    .option("--format <format>", "text or json (the plan as data)", "text")
    .option("--endpoint <url>", "S3 endpoint (else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)")
    .action(async (query: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(explainFlagsSchema, { ...raw, query, table: raw.table ?? [] });
      process.stdout.write(`${await explain(flags)}\n`);
    });
}

/** Plans the query of `flags` and returns the plan as text or JSON. */
export async function explain(flags: ExplainFlags): Promise<string> {
  if (flags.endpoint) process.env.AWS_ENDPOINT_URL_S3 = flags.endpoint;
  const split = (s: string) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)] as const;
  const { parseSchema } = await import("../sql/tables.js");
  const schemas = new Map(flags.schema.map((s) => [split(s)[0].toLowerCase(), parseSchema(split(s)[1])]));
  const names = new Set(flags.table.map((t) => split(t)[0].toLowerCase()));
  for (const n of schemas.keys()) if (!names.has(n)) throw new ConfigError(`bad flags: --schema ${n}=... names no --table (tables: ${[...names].join(", ")})`);
  // DuckDB loads only here: it takes ~0.3 s.
  const [{ resolveTables }, { planQuery }, { formatPlan }] = await Promise.all([import("../sql/catalog.js"), import("../sql/plan.js"), import("../sql/explain.js")]);
  const tables = await resolveTables(flags.table.map((t) => {
    const [name, url] = split(t);
    const columns = schemas.get(name.toLowerCase());
    return { name, url, ...(columns ? { columns } : {}) };
  }));
  const plan = await planQuery(flags.query, tables, {
    ...(flags.partitions ? { partitions: flags.partitions } : {}),
    ...(flags.workers ? { workers: flags.workers } : {}),
    ...(flags.broadcastBytes !== undefined ? { broadcastBytes: flags.broadcastBytes } : {}),
    join: flags.join,
    allowSingleTask: flags.allowSingleTask,
  });
  return flags.format === "json" ? JSON.stringify(plan, null, 2) : formatPlan(plan);
}
