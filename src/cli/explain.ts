/**
 * `smelter explain "SELECT ..." --table NAME=URL [--table ...] [--schema NAME='col TYPE, ...' |
 * --schema NAME=bdb:uservisits|bdb:rankings]`: prints the stage plan of a query (tasks and their
 * inputs, the SQL each stage runs, shuffle keys and partition counts, the coordinator's SQL)
 * without running it. Tables are listed once, and the tasks are packed from that listing exactly
 * as `smelter sql` packs them for the same --workers and --task-bytes: the task counts and splits
 * shown are the ones that run.
 */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { parseFlags, resultFlagsShape, runFlagsSchema } from "./common.js";
import { addPlanOptions, planOptions, queryFlag, sqlFlagsShape, tablesFromFlags } from "./sql-flags.js";

export const explainFlagsSchema = z.object({
  query: queryFlag("explain"),
  ...sqlFlagsShape,
  workers: runFlagsSchema.shape.workers,
  taskBytes: resultFlagsShape.taskBytes,
  format: z.enum(["text", "json"], { message: "--format must be text or json" }).default("text"),
});
export type ExplainFlags = z.output<typeof explainFlagsSchema>;

export function register(program: Command): void {
  const cmd = program
    .command("explain")
    .description("Show how a SQL query is planned into stages of tasks (nothing runs)")
    .argument("<query>", "the SELECT statement (DuckDB's dialect)")
    .option("--workers <n>", "workers the plan is for (the floor of the derived R; at least two leaf tasks each) (default: CPU count, as smelter sql)")
    .option("--task-bytes <n>", "input bytes per leaf task (default: at least two tasks per worker, 4-64 MiB each; objects not cut when there are at least two per worker and none is over 1 GiB local or 128 MiB remote, packed about two tasks per worker (remote: at most 256 MiB a task))")
    .option("--format <format>", "text or json (the plan as data)", "text");
  addPlanOptions(cmd, "from the tables' bytes, at least --workers; none for a grouped aggregate whose partials, 1/8 of the bytes, fit 256 MiB: the coordinator runs its final aggregate")
    .action(async (query: string, raw: Record<string, unknown>) => {
      const flags = parseFlags(explainFlagsSchema, { ...raw, query, table: raw.table ?? [] });
      process.stdout.write(`${await explain(flags)}\n`);
    });
}

/** Plans the query of `flags` and returns the plan as text or JSON. */
export async function explain(flags: ExplainFlags): Promise<string> {
  const catalog = await tablesFromFlags(flags);
  const [{ planQuery }, { prepareQuery, preparedJson }, { formatPlan }] = await Promise.all([import("../sql/plan.js"), import("../query/prepare.js"), import("../query/explain.js")]);
  const workers = flags.workers ?? availableParallelism();
  const plan = await planQuery(flags.query, catalog.tables, planOptions(flags, workers));
  const prepared = await prepareQuery(plan, catalog.listings, { workers, ...(flags.taskBytes ? { taskBytes: flags.taskBytes } : {}) });
  return flags.format === "json" ? JSON.stringify(preparedJson(prepared), null, 2) : formatPlan(prepared);
}
