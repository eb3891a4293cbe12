/**
 * `smelter explain "SELECT ..." --table NAME=URL [--table ...] [--schema NAME='col TYPE, ...' |
 * --schema NAME=bdb:uservisits|bdb:rankings]`: prints the stage plan of a query (tasks and their
 * inputs, the SQL each stage runs, shuffle keys and partition counts, the coordinator's SQL)
 * without running it. Tables are listed for their splits and bytes.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseFlags, runFlagsSchema } from "./common.js";
import { addPlanOptions, planOptions, queryFlag, sqlFlagsShape, tablesFromFlags } from "./sql-flags.js";

export const explainFlagsSchema = z.object({
  query: queryFlag("explain"),
  ...sqlFlagsShape,
  workers: runFlagsSchema.shape.workers,
  format: z.enum(["text", "json"], { message: "--format must be text or json" }).default("text"),
});
export type ExplainFlags = z.output<typeof explainFlagsSchema>;

export function register(program: Command): void {
  const cmd = program
    .command("explain")
    .description("Show how a SQL query is planned into stages of tasks (nothing runs)")
    .argument("<query>", "the SELECT statement (DuckDB's dialect)")
    .option("--workers <n>", "workers the plan is for (the floor of the derived R)", "4")
    .option("--format <format>", "text or json (the plan as data)", "text");
  addPlanOptions(cmd, "from the tables' bytes, at least --workers; none for a grouped aggregate whose partials, 1/8 of the bytes, fit 256 MiB: the coordinator runs its final aggregate")
    .action(async (query: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(explainFlagsSchema, { ...raw, query, table: raw.table ?? [] });
      process.stdout.write(`${await explain(flags)}\n`);
    });
}

/** Plans the query of `flags` and returns the plan as text or JSON. */
export async function explain(flags: ExplainFlags): Promise<string> {
  const tables = await tablesFromFlags(flags);
  const [{ planQuery }, { formatPlan }] = await Promise.all([import("../sql/plan.js"), import("../sql/explain.js")]);
  const plan = await planQuery(flags.query, tables, planOptions(flags, flags.workers));
  return flags.format === "json" ? JSON.stringify(plan, null, 2) : formatPlan(plan);
}
