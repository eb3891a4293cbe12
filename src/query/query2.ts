/**
 * Query 2 of the Big Data Benchmark as a fixed SQL plan:
 *   SELECT substr(sourceIP, 1, X) AS prefix, sum(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 * planned by the SQL planner (src/sql/plan.ts) over the headerless uservisits table and run by the
 * same executor and stage workers as `smelter sql` (execute.ts, `smelter.sql.stage`): one set of
 * partial/final aggregate SQL, one segment writer, one sizing rule (src/shuffle/sizing.ts). With
 * `partitions` R: splits compute partial sums, shuffled by hash of the prefix into R final tasks
 * (shown as stages "map" and "reduce"). Without it, when the partials are small (1/8 of the input
 * at most one reducer's 256 MiB), the splits' partials are gathered and the coordinator's DuckDB
 * finishes the sums (one stage, "map"); else R is derived from the input's bytes. The input is
 * listed once; that listing sizes the job and gives its tasks.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { BDB_COLUMNS } from "../datagen/schema.js";
import type { DuckDb } from "../duckdb/index.js";
import { ConfigError } from "../job/errors.js";
import { parseOrThrow, type StagePolicyInput } from "../job/policy.js";
import type { StagesRun } from "../mapreduce/stages.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import { listInput } from "../splits/listing.js";
import { SqlSession } from "../sql/parse.js";
import { planQuery } from "../sql/plan.js";
import type { SqlPlan } from "../sql/model.js";
import { openStore } from "../storage/url.js";
import { executePlan, type ResultObject } from "./execute.js";

export const USERVISITS_COLUMNS = BDB_COLUMNS.uservisits;

export const query2OptionsSchema = z.object({
  /** Where the uservisits objects are: a prefix or a glob, in any store. */
  input: z.string().min(1),
  /** X in SUBSTR(sourceIP, 1, X): 8 (2A), 10 (2B), 12 (2C). */
  prefixLen: z.number().int().min(1).max(15),
  /** `csv` (headerless, as the benchmark publishes it) or `parquet`; `auto` goes by extension. @default auto */
  format: z.enum(["auto", "csv", "parquet"]).default("auto"),
  /** R. @default none when the partials are small (the coordinator finishes the sums), else derived from the input's bytes (at least one per worker) */
  partitions: z.number().int().min(1).max(4096).optional(),
  /** Where intermediate data goes (a store URL). @default the input's store, under `_smelter/jobs/`; a temp dir for local inputs */
  work: z.string().min(1).optional(),
  /** Bytes of input per map task. @default enough tasks to give every worker at least two (between 4 and 64 MiB each) */
  targetTaskBytes: z.number().int().min(1024).optional(),
  /** DuckDB threads inside each task. @default 1 */
  threadsPerTask: z.number().int().min(1).default(1),
  /** Also write the result as ONE CSV object at this URL (uploaded in parallel by the reduce tasks, or by the coordinator). */
  csvOutput: z.string().min(1).optional(),
  /** Replace an existing `csvOutput` object. @default false: refused before the job starts */
  overwrite: z.boolean().default(false),
  /** The map tasks' combine (partial sums): `auto` skips it when a task's prefixes are nearly all distinct (2B, 2C), `always`, `skip`. @default auto */
  combine: z.enum(["auto", "always", "skip"]).default("auto"),
});
export type Query2Options = z.input<typeof query2OptionsSchema>;

export interface Query2Result {
  run: StagesRun<number>;
  /** The plan that ran (`smelter explain` prints the same for the query). */
  plan: SqlPlan;
  /** Groups in the result. */
  rows: number;
  /** Tasks per stage: [map] or [map, reduce]. */
  tasks: number[];
  /** The CSV object written with `csvOutput`. */
  csv?: ResultObject;
  /** Input bytes listed. */
  inputBytes: number;
  /** R; 0 when the coordinator finished the sums itself (no reduce stage). */
  partitions: number;
}

let planner: Promise<SqlSession> | undefined;
let planning: Promise<unknown> = Promise.resolve();
/** Plans made in this process, by everything they are made from (the query, the table as listed, the workers, R): a warm coordinator plans a repeated query once. */
const plans = new Map<string, SqlPlan>();
const PLANS_KEPT = 64;

/** Runs `f` with the process's planning session, one caller at a time (a plan resets the session's tables). */
function withPlanner<T>(f: (session: SqlSession) => Promise<T>): Promise<T> {
  const run = planning.then(async () => {
    planner ??= SqlSession.open();
    planner.catch(() => (planner = undefined));
    return f(await planner);
  });
  planning = run.catch(() => undefined);
  return run;
}

/** Query 2's SQL for prefix length X. */
export function query2Sql(prefixLen: number): string {
  return `SELECT substr(sourceIP, 1, ${prefixLen}) AS prefix, sum(adRevenue) AS adRevenue FROM uservisits GROUP BY 1`;
}

/**
 * Runs Query 2 and loads the result into `db` as table `table` (prefix VARCHAR, adRevenue DOUBLE).
 * Returns once the result is in `db`; the work prefix is deleted by then. `mapWorker` replaces the
 * first stage's worker (tests wrap `smelter.sql.stage` to misbehave).
 */
export async function runQuery2(manager: Manager, db: DuckDb, options: Query2Options, hooks: { onJob?: (job: Job) => void; table?: string; policy?: StagePolicyInput; mapWorker?: string; signal?: AbortSignal } = {}): Promise<Query2Result> {
  const o = parseOrThrow(query2OptionsSchema, options, "query2 options");
  const { store, key } = await openStore(o.input, { context: manager.context });
  const listing = await listInput(store, key, { ...(o.format === "auto" ? {} : { format: o.format }), ...(hooks.signal ? { signal: hooks.signal } : {}) });
  if (listing.bytes === 0) throw new ConfigError(`no uservisits data at ${o.input}: check the URL (a prefix like s3://bucket/uservisits/ or a glob like data/part-*)`);
  const parquet = listing.splits.filter((s) => s.format === "parquet").length;
  if (parquet > 0 && parquet < listing.splits.length) throw new ConfigError(`${o.input} mixes Parquet and CSV objects: narrow it with a glob (*.parquet, or part-* for the CSV)`);
  const table = { name: "uservisits", url: o.input, format: parquet > 0 ? ("parquet" as const) : ("csv" as const), columns: USERVISITS_COLUMNS, header: false, bytes: listing.bytes, splits: listing.objects };
  // One planning DuckDB per process, reused run after run (a warm coordinator): planning then costs milliseconds.
  const planOptions = { workers: manager.maxConcurrentTasks, ...(o.partitions ? { partitions: o.partitions } : {}) };
  const { plan, read } = await withPlanner(async (session) => {
    // A digest, not the JSON itself: a listing of many objects would make each kept key as large as the listing.
    const key = createHash("sha256").update(JSON.stringify([query2Sql(o.prefixLen), table, planOptions])).digest("base64");
    let plan = plans.get(key);
    if (!plan) {
      plan = await planQuery(query2Sql(o.prefixLen), [table], planOptions, session);
      if (plans.size >= PLANS_KEPT) plans.delete(plans.keys().next().value!);
      plans.set(key, plan);
    }
    return { plan: structuredClone(plan), read: table.format === "parquet" ? session : undefined };
  });
  const result = await executePlan(
    manager,
    db,
    plan,
    {
      ...(read ? { session: read } : {}),
      listings: new Map([[table.name, listing]]),
      threadsPerTask: o.threadsPerTask,
      combine: o.combine,
      ...(o.work ? { work: o.work } : {}),
      ...(o.targetTaskBytes ? { targetTaskBytes: o.targetTaskBytes } : {}),
      ...(o.csvOutput ? { output: o.csvOutput, overwrite: o.overwrite } : {}),
      ...(hooks.table ? { table: hooks.table } : {}),
      ...(hooks.policy ? { policy: hooks.policy } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    },
    {
      ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
      stageName: (s) => (s.tasks.kind === "splits" ? "map" : "reduce"),
      ...(hooks.mapWorker ? { worker: (s) => (s.tasks.kind === "splits" ? hooks.mapWorker! : "smelter.sql.stage") } : {}),
    },
  );
  const reduce = plan.stages.find((s) => s.tasks.kind === "partitions");
  return { run: result.run, plan, rows: result.rows, tasks: result.tasks, inputBytes: listing.bytes, partitions: reduce?.tasks.kind === "partitions" ? reduce.tasks.count : 0, ...(result.object ? { csv: result.object } : {}) };
}
