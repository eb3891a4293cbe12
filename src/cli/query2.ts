/**
 * `smelter query2`: Query 2 of the Big Data Benchmark as a map-reduce on local workers.
 *   SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 */
import type { Command } from "commander";
import { z } from "zod";
import type { DuckDb } from "../duckdb/index.js";
import type { Query2Result } from "../query/query2.js";
import { formatStageTotals, type StageTotals } from "../report/job-stats.js";
import { Manager } from "../scheduler/manager.js";
import { addOutputOption, addResultOptions, addRunFlags, backendFromFlags, BUILTIN_ENTRY, checkLocalOutputs, JobWatch, removeFailedDuckDbFile, outputFlag, outputTarget, parseFlags, reportObject, resultFlagsShape, runFlagsSchema } from "./common.js";
import { interrupts } from "./interrupts.js";
import { formatTable, streamResult } from "./results.js";

export const query2FlagsSchema = runFlagsSchema.extend({
  input: z.string({ message: "--input is required: the URL or glob of the uservisits files" }).min(1),
  prefixLen: z.coerce.number().int().min(1, "--prefix-len must be 1 to 15 (8, 10, 12 for 2A, 2B, 2C)").max(15, "--prefix-len must be 1 to 15 (8, 10, 12 for 2A, 2B, 2C)").default(8),
  partitions: z.coerce.number({ message: "--partitions must be a number" }).int("--partitions must be a whole number").min(1, "--partitions must be 1 to 4096").max(4096, "--partitions must be 1 to 4096").optional(),
  output: outputFlag(["csv"]),
  ...resultFlagsShape,
});
export type Query2Flags = z.output<typeof query2FlagsSchema>;

export function register(program: Command): void {
  const cmd = program
    .command("query2")
    .description("Big Data Benchmark Query 2: SUM(adRevenue) GROUP BY SUBSTR(sourceIP, 1, X), as a map-reduce")
    .option("--input <url>", "uservisits objects: a prefix or glob (s3://bucket/uservisits/, data/part-*)")
    .option("--prefix-len <x>", "X: 8 (2A), 10 (2B) or 12 (2C)", "8")
    .option("--partitions <r>", "reduce tasks (default: none when the partials, 1/8 of the input's bytes, fit 256 MiB: the coordinator merges the map outputs; else from the bytes, at least one per worker)");
  addOutputOption(cmd, ["csv"], "one object, uploaded in parallel by the reduce tasks");
  addResultOptions(cmd, { work: "the input's bucket under _smelter/, or a temp dir", taskBytes: "map task (default: objects not cut when there are at least two per worker and none is over 1 GiB local or 128 MiB remote, packed about two tasks per worker (remote: at most 256 MiB a task); else 4-64 MiB)" });
  addRunFlags(cmd).action(async (raw: unknown) => {
    const flags = parseFlags(query2FlagsSchema, raw);
    const { db, result, totals } = await runQuery2Cli(flags);
    try {
      await printQuery2(db, flags, result);
      if (!flags.quiet) process.stderr.write(`${formatStageTotals(totals)}\n`);
    } finally {
      db.close();
    }
  });
}

/** Runs Query 2 with progress, Ctrl-C and --events; the result is table `result` in the returned db. */
export async function runQuery2Cli(flags: Query2Flags): Promise<{ db: DuckDb; result: Query2Result; totals: StageTotals[]; duckdbFile?: string }> {
  interrupts.arm();
  await checkLocalOutputs(flags);
  const { duckdbFile, object: csvOutput } = outputTarget(flags.output);
  const backend = await backendFromFlags(flags, BUILTIN_ENTRY);
  backend.prestart?.(); // the workers start while this process loads DuckDB, lists the input and plans
  const manager = new Manager({ backend });
  interrupts.stopWith(() => manager.close());
  const watch = new JobWatch(flags);
  let db: DuckDb | undefined;
  try {
    // Loaded only when a query runs, after the workers were started: DuckDB takes ~0.3 s to load.
    const [{ openDuckDb }, { runQuery2 }] = await Promise.all([import("../duckdb/index.js"), import("../query/query2.js")]);
    db = await openDuckDb(duckdbFile ? { path: duckdbFile } : {});
    const result = await runQuery2(
      manager,
      db,
      {
        input: flags.input,
        prefixLen: flags.prefixLen,
        ...(flags.partitions ? { partitions: flags.partitions } : {}),
        ...(flags.work ? { work: flags.work } : {}),
        ...(flags.taskBytes ? { targetTaskBytes: flags.taskBytes } : {}),
        ...(csvOutput ? { csvOutput, overwrite: flags.overwrite } : {}),
        threadsPerTask: flags.threadsPerTask,
      },
      { onJob: watch.onJob, signal: interrupts.signal },
    );
    await watch.finish(db, duckdbFile);
    interrupts.throwIfInterrupted();
    if (result.csv) reportObject(flags, result.csv.url, result.csv, result.csv.writtenBy === "tasks" ? "the reduce tasks" : "the coordinator");
    return { db, result, totals: watch.stats?.totals() ?? [], ...(duckdbFile ? { duckdbFile } : {}) };
  } catch (err) {
    db?.close();
    await removeFailedDuckDbFile(duckdbFile);
    throw err;
  } finally {
    await watch.stop();
    await manager.close();
  }
}

export async function printQuery2(db: DuckDb, flags: Pick<Query2Flags, "format" | "limit">, result: Query2Result): Promise<void> {
  if (flags.format !== "table") return streamResult(db, "result", flags.format);
  const rows = await db.all(`SELECT prefix, adRevenue FROM result ORDER BY adRevenue DESC, prefix LIMIT ${flags.limit}`);
  const groups = result.rows;
  process.stdout.write(`${formatTable(rows, ["prefix", "adRevenue"])}\n`);
  process.stdout.write(`${groups.toLocaleString("en-US")} groups${groups > rows.length ? ` (top ${rows.length} by adRevenue shown; --format csv or json for all)` : ""}\n`);
}
