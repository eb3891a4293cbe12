/**
 * Runs a SQL plan (model.ts) through the engine: every plan stage is a job stage of
 * `smelter.sql.stage` tasks (src/workers/sql-stage.ts) on the multi-stage runner
 * (src/mapreduce/stages.ts). Leaf stages get one task per packed group of splits of their table
 * (broadcast tables are listed once here and read whole by every task); partitioned stages read
 * their partition of their producers as the producers' winning outputs land; gathered stages
 * write one segment per task. On the coordinator, each gathered stage's winning segments become
 * a table `__s<N>` in `db`, the coordinator's SQL runs there into table `result`, and the work
 * prefix is deleted, whatever the outcome.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier as q } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import type { StagePolicyInput } from "../job/policy.js";
import { mapTaskInputs, wholeParquetFiles } from "../mapreduce/inputs.js";
import { defaultTaskBytes, workStore } from "../mapreduce/query2.js";
import { runStages, type RunStageSpec, type StagesRun } from "../mapreduce/stages.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import { mapOutputSchema, type ShufflePlan } from "../shuffle/layout.js";
import { readSegment } from "../shuffle/segments.js";
import { listSplits } from "../splits/discover.js";
import type { Split } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import type { SqlStageInput } from "../workers/sql-stage.js";
import { columnsRead } from "./columns-read.js";
import type { PlanStage, SqlPlan } from "./model.js";
import { SqlSession } from "./parse.js";
import { decodeSql, emptyTableSql } from "./stage-io.js";
import type { SqlTable } from "./tables.js";

export interface ExecuteOptions {
  /** Where intermediate data goes (a store URL). @default the first table's store under `_smelter/jobs/`; a temp dir for local tables */
  work?: string;
  /** Input bytes per leaf task. @default every worker gets at least two tasks (4-64 MiB each) */
  targetTaskBytes?: number;
  /** DuckDB threads inside each task. @default 1 */
  threadsPerTask?: number;
  /** Policy defaults of every stage. */
  policy?: StagePolicyInput;
  /** The result's table in `db`. @default "result" */
  table?: string;
}

export interface ExecuteResult {
  run: StagesRun<number>;
  /** Rows of the result table. */
  rows: number;
  /** Tasks per stage. */
  tasks: number[];
}

interface Listed {
  table: SqlTable;
  store: ObjectStore;
  splits: Split[];
}

/** Runs `plan` and leaves its result in `db` as table `result` (columns named as DuckDB alone names them). */
export async function executePlan(manager: Manager, db: DuckDb, plan: SqlPlan, options: ExecuteOptions = {}, hooks: { onJob?: (job: Job) => void } = {}): Promise<ExecuteResult> {
  plan.stages.forEach((s, i) => {
    if (s.id !== i + 1) throw new ConfigError(`[smelter] [sql] internal: plan stage ${i + 1} has id ${s.id}; stages must be numbered 1, 2, ... in order`);
  });
  const listed = new Map<string, Listed>();
  for (const t of plan.tables) listed.set(t.name, await listTable(t));
  const first = listed.get(plan.tables[0]?.name ?? "");
  if (!first) throw new ConfigError("[smelter] [sql] the plan reads no table");
  const work = await workStore(options.work, first.store);
  const workers = manager.maxConcurrentTasks;
  const threads = options.threadsPerTask ?? 1;
  const session = await SqlSession.open();
  let stages: RunStageSpec[];
  try {
    stages = [];
    for (const s of plan.stages) stages.push(await stageSpec(plan, s, listed, session, { workers, threads, ...(options.targetTaskBytes ? { taskBytes: options.targetTaskBytes } : {}) }));
  } finally {
    session.close();
  }
  const table = options.table ?? "result";
  const run = await runStages(
    manager,
    { name: "sql", stages, work: { store: work.store, url: work.store.url, prefix: work.prefix }, format: "parquet", ...(options.policy ? { policy: options.policy } : {}) },
    { ...(hooks.onJob ? { onJob: hooks.onJob } : {}), finalize: (results, shuffles) => coordinate(db, plan, work.store, results.map((r) => r.map((x) => x.output)), shuffles, table) },
  );
  return { run, rows: run.finalized, tasks: run.results.map((r) => r.length) };
}

async function listTable(t: SqlTable): Promise<Listed> {
  const { store, key } = await openStore(t.url);
  // One split per CSV object (cut into tasks later), Parquet objects whole.
  const splits: Split[] = [];
  for await (const s of wholeParquetFiles(toAsync(await listSplits(store, key, { targetSplitBytes: Number.MAX_SAFE_INTEGER })))) splits.push(s);
  return { table: t, store, splits };
}

async function stageSpec(plan: SqlPlan, s: PlanStage, listed: Map<string, Listed>, session: SqlSession, o: { workers: number; threads: number; taskBytes?: number }): Promise<RunStageSpec> {
  const inputs: ((task: unknown, sources: ShufflePlan[]) => SqlStageInput["inputs"][number])[] = [];
  const reads: number[] = [];
  for (const i of s.inputs) {
    if ("table" in i) {
      const l = listed.get(i.table)!;
      const t = l.table;
      const read = t.format === "parquet" ? await columnsRead(session, s.sql, t.columns) : null;
      const base = { kind: "table" as const, view: i.view, storeUrl: l.store.url, table: { format: t.format, columns: t.columns, delimiter: t.delimiter, header: t.header }, read };
      inputs.push((task) => ({ ...base, splits: i.read === "split" ? (task as Split[]) : l.splits }));
    } else {
      const producer = plan.stages[i.stage - 1];
      if (!producer || i.stage >= s.id) throw new ConfigError(`[smelter] [sql] internal: stage ${s.id} reads stage ${i.stage}, which does not run before it`);
      if (i.read === "partition" && (s.tasks.kind !== "partitions" || producer.output.kind !== "shuffle" || producer.output.partitions !== s.tasks.count)) {
        throw new ConfigError(`[smelter] [sql] internal: stage ${s.id} reads partitions of stage ${i.stage}, but its tasks are not one per partition of it`);
      }
      const n = reads.length;
      reads.push(i.stage - 1);
      inputs.push((_task, sources) => ({ kind: "stage", view: i.view, source: sources[n]!, read: i.read, columns: producer.columns }));
    }
  }
  const payload = (task: unknown, ctx: { shuffle: ShufflePlan; sources: ShufflePlan[] }): SqlStageInput => ({
    shuffle: ctx.shuffle,
    partition: s.tasks.kind === "partitions" ? (task as number) : null,
    stage: { id: s.id, name: s.name },
    sql: s.sql,
    columns: s.columns,
    partitionBy: s.output.kind === "shuffle" ? s.output.partitionBy : null,
    inputs: inputs.map((f) => f(task, ctx.sources)),
    threads: o.threads,
  });
  const output = s.output.kind === "shuffle" ? { kind: "shuffle" as const, partitions: s.output.partitions } : { kind: "shuffle" as const, partitions: 1 };
  const name = `s${s.id} ${s.name}`;
  if (s.tasks.kind === "partitions") return { name, worker: "smelter.sql.stage", tasks: { count: s.tasks.count }, reads, output, payload };
  if (s.tasks.kind === "single") return { name, worker: "smelter.sql.stage", tasks: { inputs: [[]] }, reads, output, payload };
  const l = listed.get(s.tasks.table)!;
  const bytes = l.splits.reduce((n, x) => n + (x.range.end - x.range.start), 0);
  const local = l.store.url.startsWith("file:") ? { objects: l.splits.length, largest: Math.max(0, ...l.splits.map((x) => x.fileSize)) } : undefined;
  const taskBytes = o.taskBytes ?? defaultTaskBytes(bytes, o.workers, local);
  const groups = (async function* () {
    for await (const t of mapTaskInputs(toAsync(l.splits), taskBytes)) yield t.splits;
  })();
  return { name, worker: "smelter.sql.stage", tasks: { inputs: groups }, reads, output, payload };
}

/** The coordinator: gathered stages as tables `__s<N>`, then its SQL into `table`. Returns the result's rows. */
async function coordinate(db: DuckDb, plan: SqlPlan, store: ObjectStore, outputs: unknown[][], shuffles: ShufflePlan[], table: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-gather-"));
  try {
    for (const i of plan.coordinator.inputs) {
      const stage = plan.stages[i.stage - 1]!;
      const files: string[] = [];
      for (const [n, raw] of (outputs[i.stage - 1] ?? []).entries()) {
        const output = mapOutputSchema.parse(raw);
        if (!output.key.startsWith(shuffles[i.stage - 1]!.prefix)) throw new ConfigError(`[smelter] [sql] stage ${i.stage} task ${n} wrote outside the job's prefix (${output.key})`);
        const bytes = await readSegment(store, output, 0);
        if (bytes.byteLength === 0) continue;
        const file = join(dir, `s${i.stage}-t${n}.parquet`);
        await writeFile(file, bytes);
        files.push(file);
      }
      if (files.length === 0) await db.run(emptyTableSql(i.view, stage.columns));
      else await db.run(`CREATE OR REPLACE TEMP TABLE ${q(i.view)} AS ${decodeSql(stage.columns, files)}`);
    }
    await db.run(`CREATE OR REPLACE TABLE ${q(table)} AS ${plan.coordinator.sql}`);
    const names = (await db.all<{ column_name: string }>(`DESCRIBE ${q(table)}`)).map((r) => r.column_name);
    const want = plan.columns.map((c) => c.name);
    if (names.join("\u0000") !== want.join("\u0000")) throw new ConfigError(`[smelter] [sql] internal: the result's columns are ${names.join(", ")}, DuckDB alone names them ${want.join(", ")}. Please report it with the query`);
    return Number(await db.value(`SELECT count(*) FROM ${q(table)}`));
  } finally {
    for (const i of plan.coordinator.inputs) await db.run(`DROP TABLE IF EXISTS ${q(i.view)}`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
