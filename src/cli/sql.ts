/**
 * `smelter sql "SELECT ..." --table NAME=URL [--table ...] [--schema NAME=...]`: plans the query
 * (src/sql/plan.ts), prepares its tasks from the catalog's one listing of each table
 * (src/query/prepare.ts) and runs them on local workers (src/query/execute.ts). The result goes to stdout
 * (table / json / csv); progress and stats to stderr; `--output FILE.duckdb` keeps tables `result`
 * and `attempts`; `--output s3://bucket/key.csv|.parquet` (or a path) writes the result as one
 * object with the parallel upload.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { DuckDb } from "../duckdb/index.js";
import type { SqlSession } from "../sql/parse.js";
import { formatStageTotals } from "../report/job-stats.js";
import { Manager } from "../scheduler/manager.js";
import { addOutputOption, addResultOptions, addRunFlags, backendFromFlags, BUILTIN_ENTRY, checkLocalOutputs, JobWatch, removeFailedDuckDbFile, outputFlag, outputTarget, parseFlags, reportObject, resultFlagsShape, runFlagsSchema } from "./common.js";
import { interrupts } from "./interrupts.js";
import { formatTable, streamResult, topRows } from "./results.js";
import { addPlanOptions, planOptions, queryFlag, sqlFlagsShape, tablesFromFlags } from "./sql-flags.js";

export const sqlFlagsSchema = runFlagsSchema.extend({
  query: queryFlag("sql"),
  ...sqlFlagsShape,
  output: outputFlag(["csv", "parquet"]),
  ...resultFlagsShape,
});
export type SqlCliFlags = z.output<typeof sqlFlagsSchema>;

export function register(program: Command): void {
  const cmd = program
    .command("sql")
    .description("Run a SQL query (DuckDB's dialect) over files in object storage, fanned out over workers")
    .argument("<query>", "the SELECT statement");
  addPlanOptions(cmd, "from the tables' bytes, at least one per worker; none for a grouped aggregate whose partials, 1/8 of the bytes, fit 256 MiB: the coordinator runs its final aggregate");
  addOutputOption(cmd, ["csv", "parquet"], "one object, uploaded in parallel by the tasks or the coordinator");
  addResultOptions(cmd, { work: "the first table's bucket under _smelter/, or a temp dir", taskBytes: "leaf task (default: at least two tasks per worker, 4-64 MiB each; objects not cut when there are at least two per worker and none is over 1 GiB local or 128 MiB remote, packed about two tasks per worker (remote: at most 256 MiB a task))" });
  addRunFlags(cmd).action(async (query: string, raw: Record<string, unknown>) => {
    const flags = parseFlags(sqlFlagsSchema, { ...raw, query, table: raw.table ?? [] });
    const { db, rows, totals, badRows } = await runSqlCli(flags);
    try {
      // Said even with --quiet: rows left out of the answer are never silent.
      if (badRows) process.stderr.write(`[smelter] --bad-rows skip: skipped ${badRows.count.toLocaleString("en-US")} bad row${badRows.count === 1 ? "" : "s"} of table${badRows.tables.length === 1 ? "" : "s"} ${badRows.tables.join(", ")} (rows that could not be read with the table's types; the result leaves them out)\n`);
      await printResult(db, flags, rows);
      if (!flags.quiet && totals) process.stderr.write(`${totals}\n`);
    } finally {
      db.close();
    }
  });
}

/** Plans and runs the query with progress, Ctrl-C and --events; the result is table `result` in the returned db. */
export async function runSqlCli(flags: SqlCliFlags): Promise<{ db: DuckDb; rows: number; totals: string; badRows?: { count: number; tables: string[] } }> {
  interrupts.arm();
  await checkLocalOutputs(flags);
  const catalog = await tablesFromFlags(flags);
  interrupts.throwIfInterrupted();
  const manager = new Manager({ backend: await backendFromFlags(flags, BUILTIN_ENTRY) });
  interrupts.stopWith(() => manager.close());
  let db: DuckDb | undefined;
  let session: SqlSession | undefined;
  const watch = new JobWatch(flags);
  try {
    const [{ planQuery }, { prepareQuery }, { executePrepared }, { openDuckDb }, { SqlSession }] = await Promise.all([import("../sql/plan.js"), import("../query/prepare.js"), import("../query/execute.js"), import("../duckdb/index.js"), import("../sql/parse.js")]);
    const workers = manager.maxConcurrentTasks;
    // One planning DuckDB for the planner and the executor (which reads the stages' columns from it).
    session = await SqlSession.open();
    const plan = await planQuery(flags.query, catalog.tables, planOptions(flags, workers), session);
    // The tasks, packed from the catalog's one listing of each table: what `smelter explain` shows.
    const prepared = await prepareQuery(plan, catalog.listings, { workers, ...(flags.taskBytes ? { taskBytes: flags.taskBytes } : {}) });
    if (!flags.quiet) process.stderr.write(`[smelter] plan: ${plan.strategy}; ${plan.stages.length} stage${plan.stages.length === 1 ? "" : "s"} (smelter explain shows them)\n`);
    const { duckdbFile, object } = outputTarget(flags.output);
    db = await openDuckDb(duckdbFile ? { path: duckdbFile } : {});
    const result = await executePrepared(
      manager,
      db,
      prepared,
      {
        ...(flags.work ? { work: flags.work } : {}),
        threadsPerTask: flags.threadsPerTask,
        ...(object ? { output: object, overwrite: flags.overwrite } : {}),
        signal: interrupts.signal,
        session,
      },
      { onJob: watch.onJob },
    );
    await watch.finish(db, duckdbFile);
    interrupts.throwIfInterrupted();
    if (result.object) reportObject(flags, result.object.url, result.object, result.object.writtenBy === "tasks" ? `the tasks of stage ${plan.coordinator.resultStage}` : "the coordinator");
    const skipping = catalog.tables.filter((t) => t.badRows === "skip").map((t) => t.name);
    const skipped = (watch.stats?.totals() ?? []).reduce((n, s) => n + (s.counters.badRows ?? 0), 0);
    return { db, rows: result.rows, totals: watch.stats ? formatStageTotals(watch.stats.totals()) : "", ...(skipping.length ? { badRows: { count: skipped, tables: skipping } } : {}) };
  } catch (err) {
    db?.close();
    await removeFailedDuckDbFile(outputTarget(flags.output).duckdbFile);
    throw err;
  } finally {
    session?.close();
    await watch.stop();
    await manager.close();
  }
}

async function printResult(db: DuckDb, flags: Pick<SqlCliFlags, "format" | "limit">, total: number): Promise<void> {
  if (flags.format !== "table") return streamResult(db, "result", flags.format);
  const { names, rows } = await topRows(db, "result", flags.limit);
  process.stdout.write(`${formatTable(rows, names)}\n`);
  process.stdout.write(`${total.toLocaleString("en-US")} row${total === 1 ? "" : "s"}${total > rows.length ? ` (first ${rows.length} shown; --limit N, or --format csv or json for all)` : ""}\n`);
}
