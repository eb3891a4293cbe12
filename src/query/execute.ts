/**
 * Runs a SQL plan (src/sql/model.ts) through the engine: every plan stage is a job stage of
 * `smelter.sql.stage` tasks (src/builtin-workers/sql-stage.ts) on the multi-stage runner
 * (src/mapreduce/stages.ts). The tasks are the prepared query's (prepare.ts: leaf stages get one
 * task per packed group of splits of their table, from the table's one listing; broadcast tables
 * are read whole by every task, a long split list travels through the work store,
 * src/sql/split-lists.ts); partitioned stages read
 * their partition of their producers as the producers' winning outputs land; gathered stages
 * write one segment per task. On the coordinator, each gathered stage's winning segments become
 * a view `__s<N>` in `db` (read in place on a local work store), the coordinator's SQL runs there
 * into table `result` (a grouped aggregate with small partials is finished here: plan.ts), and the
 * work prefix is deleted, whatever the outcome.
 *
 * `output` also writes the result as ONE object (CSV or Parquet) with the parallel upload
 * (src/outputs/): when the plan's `resultStage` holds the result as it is and the object is CSV,
 * each task of that stage uploads its own rows as one partition and the coordinator completes the
 * upload; otherwise (ORDER BY, LIMIT, an aggregate finished on the coordinator, Parquet) the
 * coordinator writes the file from `result` and uploads it in parallel parts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier as q, sqlString } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import { abortParallelUpload, beginParallelUpload, completeParallelUpload, type ParallelUploadSummary } from "../outputs/parallel-upload.js";
import { CONTENT_TYPES, openResultObject, uploadFileAsObject, type ResultObjectFormat } from "../outputs/result-object.js";
import { MAX_PARTITIONS, type ParallelUploadHandle } from "../outputs/upload-protocol.js";
import type { StagePolicyInput } from "../job/policy.js";
import { workStore } from "../mapreduce/inputs.js";
import { localFiles } from "../mapreduce/local-files.js";
import { runStages, type RunStageSpec, type StagesRun } from "../mapreduce/stages.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import { mapOutputSchema, type ShufflePlan } from "../shuffle/layout.js";
import type { InputListing } from "../splits/listing.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import { removeEmptyInternalDir } from "../storage/local.js";
import type { SqlStageInput } from "../builtin-workers/sql-stage.js";
import { columnsRead } from "../sql/columns-read.js";
import type { PlanStage, SqlPlan } from "../sql/model.js";
import { SqlSession } from "../sql/parse.js";
import { SplitListWriter } from "../sql/split-lists.js";
import { decodeSql, emptyTableSql } from "../sql/stage-io.js";
import { listTables, prepareQuery, type PreparedQuery, type PreparedStage, type PreparedTask } from "./prepare.js";
import { tableSpecOf } from "../sql/tables.js";

export interface ExecuteOptions {
  /** Where intermediate data goes (a store URL). @default the first table's store under `_smelter/jobs/`; a temp dir for local tables */
  work?: string;
  /** Input bytes per leaf task (executePlan; a prepared query has its tasks). @default every worker gets at least two tasks (4-64 MiB each) */
  targetTaskBytes?: number;
  /** The tables' listings (a catalog's), so they are not listed again (executePlan). @default each table listed once here */
  listings?: Map<string, InputListing>;
  /** DuckDB threads inside each task. @default 1 */
  threadsPerTask?: number;
  /** Policy defaults of every stage. */
  policy?: StagePolicyInput;
  /** A broadcast table's split list longer than this (bytes of JSON) is written once to the work store, not put in every payload (a task's own list: over 8x this). @default 64 KiB */
  inlineSplitListBytes?: number;
  /** The result's table in `db`. @default "result" */
  table?: string;
  /** Also write the result as one object: a URL or path ending in .csv or .parquet (checked before the job: openResultObject). */
  output?: string;
  /** Replace an existing `output` object. @default false: an existing object is refused before the job starts */
  overwrite?: boolean;
  /** A planning session to reuse (not closed here). @default one opened when a Parquet input needs it */
  session?: SqlSession;
  /** Stops the coordinator's own steps (the final merge, the output's completion or upload) once aborted; the job itself is cancelled by whoever watches it. */
  signal?: AbortSignal;
  /**
   * The split tasks' combine of partial aggregates: `auto` skips it where a sample of the task's
   * rows finds the group keys nearly all distinct (src/builtin-workers/sql-stage.ts), `always`
   * combines, `skip` never does (tests). The answer is the same either way. @default "auto"
   */
  combine?: "auto" | "always" | "skip";
}

/** The object written with `output`. */
export interface ResultObject extends ParallelUploadSummary {
  url: string;
  format: ResultObjectFormat;
  /** Who uploaded the bytes: the tasks of the result stage (one partition each), or the coordinator. */
  writtenBy: "tasks" | "coordinator";
}

export interface ExecuteResult {
  run: StagesRun<number>;
  /** Rows of the result table. */
  rows: number;
  /** Tasks per stage. */
  tasks: number[];
  /** The object written with `output`. */
  object?: ResultObject;
}

/** How a caller names and runs stages (Query 2 shows its stages as "map" and "reduce"; tests swap a worker). */
export interface ExecuteHooks {
  onJob?: (job: Job) => void;
  /** A stage's name in progress and events. @default `s<id> <plan stage name>` */
  stageName?: (stage: PlanStage) => string;
  /** A stage's registered worker. @default smelter.sql.stage */
  worker?: (stage: PlanStage) => string;
}

/**
 * Runs `plan` and leaves its result in `db` as table `result` (columns named as DuckDB alone names
 * them): its tables listed once (or `options.listings`), its tasks prepared for the manager's
 * workers, then {@link executePrepared}.
 */
export async function executePlan(manager: Manager, db: DuckDb, plan: SqlPlan, options: ExecuteOptions = {}, hooks: ExecuteHooks = {}): Promise<ExecuteResult> {
  const listings = options.listings ?? (await listTables(plan.tables));
  const prepared = await prepareQuery(plan, listings, { workers: manager.maxConcurrentTasks, ...(options.targetTaskBytes ? { taskBytes: options.targetTaskBytes } : {}) });
  return executePrepared(manager, db, prepared, options, hooks);
}

/** Runs a prepared query (its tasks as `smelter explain` shows them) and leaves its result in `db`. */
export async function executePrepared(manager: Manager, db: DuckDb, prepared: PreparedQuery, options: ExecuteOptions = {}, hooks: ExecuteHooks = {}): Promise<ExecuteResult> {
  const plan = prepared.plan;
  const first = prepared.listings.get(plan.tables[0]?.name ?? "");
  if (!first) throw new ConfigError("[smelter] [sql] the plan reads no table");
  options.signal?.throwIfAborted();
  const target = options.output ? await openResultObject(options.output, ["csv", "parquet"], { overwrite: options.overwrite ?? false }) : undefined;
  try {
    return await runPrepared(manager, db, prepared, options, hooks, target);
  } finally {
    // A local result leaves nothing beside it: the store's emptied .smelter/ (temp files, multipart parts) goes.
    if (target) await removeEmptyInternalDir(target.store);
  }
}

async function runPrepared(manager: Manager, db: DuckDb, prepared: PreparedQuery, options: ExecuteOptions, hooks: ExecuteHooks, target: Awaited<ReturnType<typeof openResultObject>> | undefined): Promise<ExecuteResult> {
  const plan = prepared.plan;
  const first = prepared.listings.get(plan.tables[0]?.name ?? "")!;
  const work = await workStore(options.work, (await openStore(first.storeUrl, { context: manager.context })).store, manager.context);
  const threads = options.threadsPerTask ?? 1;
  // A parser for the columns a Parquet input's stage reads; opened only when one needs it (a DuckDB costs ~0.1 s), or the caller's.
  let own: SqlSession | undefined;
  const session = async () => options.session ?? (own ??= await SqlSession.open());
  const specs: StageSpec[] = [];
  const lists = new SplitListWriter(work.store, options.inlineSplitListBytes);
  try {
    for (const s of plan.stages) specs.push(await stageSpec(plan, s, prepared.stages[s.id - 1]!, prepared.listings, session, { threads, lists, hooks, combine: options.combine ?? "auto" }));
  } finally {
    own?.close();
  }
  // A CSV object of the result stage's rows as they are: each of its tasks uploads one partition.
  const resultStage = plan.coordinator.resultStage === null ? undefined : specs[plan.coordinator.resultStage - 1];
  let upload: { target: NonNullable<typeof target>; stage: StageSpec; handle: ParallelUploadHandle } | undefined;
  if (target?.format === "csv" && resultStage && resultStage.count >= 1 && resultStage.count <= MAX_PARTITIONS) {
    upload = { target, stage: resultStage, handle: await beginParallelUpload(target.store, target.key, { partitions: resultStage.count, contentType: CONTENT_TYPES.csv }) };
    resultStage.upload = { storeUrl: target.store.url, handle: upload.handle, names: plan.columns.map((c) => c.name) };
  }
  const table = options.table ?? "result";
  let object: ResultObject | undefined;
  let run: StagesRun<number>;
  try {
    run = await runStages(
      manager,
      { name: "sql", stages: specs.map((s) => s.spec), work: { store: work.store, url: work.store.url, prefix: work.prefix }, format: "parquet", ...(options.policy ? { policy: options.policy } : {}) },
      {
        ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
        finalize: async (results, shuffles) => {
          options.signal?.throwIfAborted();
          const rows = await coordinate(db, plan, work.store, results.map((r) => r.map((x) => x.output)), shuffles, table);
          if (upload) {
            const parts = (results[specs.indexOf(upload.stage)] ?? []).map((r) => (r.output as { upload?: unknown }).upload);
            options.signal?.throwIfAborted();
            object = { ...(await completeParallelUpload(upload.target.store, upload.handle, parts, options.signal ? { signal: options.signal } : {})), url: upload.target.url, format: "csv", writtenBy: "tasks" };
          }
          return rows;
        },
      },
    );
  } catch (err) {
    if (upload && !object) await abortParallelUpload(upload.target.store, upload.handle).catch(() => undefined);
    throw err;
  }
  options.signal?.throwIfAborted();
  if (target && !upload) object = { ...(await writeResultObject(db, table, target, plan, options.signal)), url: target.url, format: target.format, writtenBy: "coordinator" };
  return { run, rows: run.finalized, tasks: run.results.map((r) => r.length), ...(object ? { object } : {}) };
}

/**
 * The coordinator's side of `output`: `table` written to a temp file, uploaded in parallel parts.
 * Parquet has no 128-bit integer: HUGEINT columns (SUM of integers) are written as DECIMAL(38,0),
 * which keeps every digit (DuckDB's own COPY would write DOUBLE).
 */
async function writeResultObject(db: DuckDb, table: string, target: { store: ObjectStore; key: string; format: ResultObjectFormat }, plan: SqlPlan, signal?: AbortSignal): Promise<ParallelUploadSummary> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-result-"));
  try {
    const file = join(dir, `result.${target.format}`);
    const exact = (c: { name: string; type: string }) => (target.format === "parquet" && /^U?HUGEINT$/i.test(c.type) ? `CAST(${q(c.name)} AS DECIMAL(38,0)) AS ${q(c.name)}` : q(c.name));
    const list = plan.columns.map(exact).join(", ");
    await db.run(`COPY (SELECT ${list} FROM ${q(table)}) TO ${sqlString(file)} (${target.format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet"})`).catch((err: unknown) => {
      const wide = plan.columns.filter((c) => target.format === "parquet" && /^U?HUGEINT$/i.test(c.type)).map((c) => c.name);
      // A UHUGEINT over 10^38 does not fit (was DuckDB's cast error on Smelter's own COPY).
      if (wide.length > 0 && /Conversion Error|Could not cast/i.test((err as Error).message)) throw new ConfigError(`[smelter] [sql] the result's column${wide.length > 1 ? "s" : ""} ${wide.join(", ")} hold${wide.length > 1 ? "" : "s"} a value of more than 38 digits, which Parquet (DECIMAL(38,0), Smelter's exact writing of 128-bit integers) cannot hold: write the output as .csv, or cast ${wide.length > 1 ? "them" : "it"} to DOUBLE or VARCHAR in the query`, { cause: err });
      throw err;
    });
    signal?.throwIfAborted();
    return await uploadFileAsObject(target.store, target.key, file, { contentType: CONTENT_TYPES[target.format], ...(signal ? { signal } : {}) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A plan stage as a job stage, with its task count known up front (the tables are listed first). */
interface StageSpec {
  spec: RunStageSpec;
  count: number;
  /** Set before the job starts: the tasks upload their rows as partitions of one CSV object. */
  upload?: { storeUrl: string; handle: unknown; names: string[] };
}

/**
 * A plan stage's place in the job's stage graph: the stages it reads (0-based, in input order)
 * and the partitions it writes (1 when gathered). executePrepared runs this graph; the simulator
 * (src/simulate/sql.ts) runs the same one.
 */
export function stageShape(plan: SqlPlan, s: PlanStage): { reads: number[]; partitions: number } {
  const reads: number[] = [];
  for (const i of s.inputs) {
    if ("table" in i) continue;
    const producer = plan.stages[i.stage - 1];
    if (!producer || i.stage >= s.id) throw new ConfigError(`[smelter] [sql] internal: stage ${s.id} reads stage ${i.stage}, which does not run before it`);
    if (i.read === "partition" && (s.tasks.kind !== "partitions" || producer.output.kind !== "shuffle" || producer.output.partitions !== s.tasks.count)) {
      throw new ConfigError(`[smelter] [sql] internal: stage ${s.id} reads partitions of stage ${i.stage}, but its tasks are not one per partition of it`);
    }
    reads.push(i.stage - 1);
  }
  return { reads, partitions: s.output.kind === "shuffle" ? s.output.partitions : 1 };
}

async function stageSpec(plan: SqlPlan, s: PlanStage, prepared: PreparedStage, listings: Map<string, InputListing>, session: () => Promise<SqlSession>, o: { threads: number; lists: SplitListWriter; hooks: ExecuteHooks; combine: NonNullable<ExecuteOptions["combine"]> }): Promise<StageSpec> {
  type Input = SqlStageInput["inputs"][number];
  const inputs: ((splits: Split[], ctx: { shuffle: ShufflePlan; sources: ShufflePlan[] }) => Input | Promise<Input>)[] = [];
  const { reads, partitions } = stageShape(plan, s);
  let read = 0;
  for (const i of s.inputs) {
    if ("table" in i) {
      const l = listings.get(i.table)!;
      const t = plan.tables.find((x) => x.name === i.table)!;
      const read = t.format === "parquet" ? await columnsRead(await session(), s.sql, t.columns) : null;
      const base = { kind: "table" as const, view: i.view, storeUrl: l.storeUrl, table: tableSpecOf(t), read };
      // A long list (a broadcast table's, or many small files) is written once under the job's prefix.
      inputs.push(async (splits, ctx) => ({ ...base, splits: await (i.read === "split" ? o.lists.list(splits, ctx.shuffle.prefix, false) : o.lists.list(l.splits, ctx.shuffle.prefix, true)) }));
    } else {
      const producer = plan.stages[i.stage - 1]!;
      const n = read++;
      inputs.push((_splits, ctx) => ({ kind: "stage", view: i.view, source: ctx.sources[n]!, read: i.read, columns: producer.columns }));
    }
  }
  const tasks = prepared.tasks;
  const self: StageSpec = {
    count: tasks.length,
    spec: {
      name: o.hooks.stageName?.(s) ?? `s${s.id} ${s.name}`,
      worker: o.hooks.worker?.(s) ?? "smelter.sql.stage",
      tasks: { inputs: tasks },
      reads,
      output: { kind: "shuffle", partitions },
      // Async: runStages awaits each payload as it yields it.
      payload: async (task: unknown, ctx: { shuffle: ShufflePlan; sources: ShufflePlan[] }): Promise<SqlStageInput> => {
        const t = task as PreparedTask;
        return {
          shuffle: ctx.shuffle,
          partition: s.tasks.kind === "partitions" ? t.n : null,
          stage: { id: s.id, name: s.name },
          sql: s.sql,
          columns: s.columns,
          partitionBy: s.output.kind === "shuffle" ? s.output.partitionBy : null,
          inputs: await Promise.all(inputs.map((f) => f(t.splits, ctx))),
          threads: o.threads,
          upload: self.upload ? { ...self.upload, partition: t.n } : null,
          uncombined: s.uncombined && o.combine !== "always" ? { ...s.uncombined, skip: o.combine === "skip" ? "always" : "auto" } : null,
        };
      },
    },
  };
  return self;
}

/**
 * The coordinator: gathered stages as views `__s<N>` over their winning outputs (one Parquet
 * segment each, read in place on a local work store, else fetched; src/mapreduce/local-files.ts),
 * then its SQL into `table`. Returns the result's rows.
 */
async function coordinate(db: DuckDb, plan: SqlPlan, store: ObjectStore, outputs: unknown[][], shuffles: ShufflePlan[], table: string): Promise<number> {
  const made: string[] = [];
  const fetched: { release: () => Promise<void> }[] = [];
  try {
    for (const i of plan.coordinator.inputs) {
      const stage = plan.stages[i.stage - 1]!;
      const keys: string[] = [];
      for (const [n, raw] of (outputs[i.stage - 1] ?? []).entries()) {
        const output = mapOutputSchema.parse(raw);
        if (!output.key.startsWith(shuffles[i.stage - 1]!.prefix)) throw new ConfigError(`[smelter] [sql] stage ${i.stage} task ${n} wrote outside the job's prefix (${output.key})`);
        if (output.offsets.length !== 2) throw new ConfigError(`[smelter] [sql] internal: gathered stage ${i.stage} task ${n} wrote ${output.offsets.length - 1} segments, not one`);
        if (output.offsets[1]! > 0) keys.push(output.key);
      }
      const files = await localFiles(store, keys);
      fetched.push(files);
      if (files.paths.length === 0) {
        made.push(`DROP TABLE IF EXISTS ${q(i.view)}`);
        await db.run(emptyTableSql(i.view, stage.columns));
      } else {
        made.push(`DROP VIEW IF EXISTS ${q(i.view)}`);
        await db.run(`CREATE OR REPLACE TEMP VIEW ${q(i.view)} AS ${decodeSql(stage.columns, files.paths)}`);
      }
    }
    await db.run(`CREATE OR REPLACE TABLE ${q(table)} AS ${plan.coordinator.sql}`);
    const names = (await db.all<{ column_name: string }>(`DESCRIBE ${q(table)}`)).map((r) => r.column_name);
    const want = plan.columns.map((c) => c.name);
    if (names.join("\u0000") !== want.join("\u0000")) throw new ConfigError(`[smelter] [sql] internal: the result's columns are ${names.join(", ")}, DuckDB alone names them ${want.join(", ")}. Please report it with the query`);
    return Number(await db.value(`SELECT count(*) FROM ${q(table)}`));
  } finally {
    for (const drop of made.reverse()) await db.run(drop).catch(() => undefined);
    for (const f of fetched) await f.release();
  }
}
