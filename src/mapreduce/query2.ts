/**
 * Query 2 of the Big Data Benchmark as a map-reduce:
 *   SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 * map: partial sums per prefix of each split (DuckDB) -> shuffle by hash(prefix) into R
 * partitions -> reduce: final sums per partition (DuckDB) -> gathered into a DuckDB table.
 * When R is not given and the partials are small (at most one reducer's budget, 256 MiB, by the
 * same estimate that sizes R), there is no reduce stage: each map writes one segment, and the
 * coordinator's DuckDB merges them straight into the result table (final GROUP BY over the map
 * outputs, read in place from a local work store). The result lands in the coordinator anyway, so
 * this saves the reducers' Parquet output, the gather, and the tail in which a reducer waits for
 * a slot behind the last maps.
 */
import { z } from "zod";
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier, sqlString } from "../duckdb/sql.js";
import { ConfigError } from "../job/errors.js";
import { parseOrThrow, type StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import { discoverSplits } from "../splits/discover.js";
import type { ObjectStore } from "../storage/contract.js";
import { openStore } from "../storage/url.js";
import { localFiles } from "./local-files.js";
import { abortParallelUpload, beginParallelUpload, completeParallelUpload, type ParallelUploadSummary } from "../outputs/parallel-upload.js";
import { CONTENT_TYPES, openResultObject } from "../outputs/result-object.js";
import { finalSql, type AggregateSpec, type TableSpec } from "./aggregate.js";
import type { MapOutput } from "../shuffle/layout.js";
import { runStages } from "./stages.js";
import { defaultTaskBytes, inputSizes, mapTaskInputs, workStore } from "./inputs.js";

import { derivePartitions, mergeOnCoordinator, partialBytes, runMapReduce, type MapReduceRun } from "./run.js";
import { BDB_COLUMNS } from "../datagen/schema.js";

export const USERVISITS_COLUMNS = BDB_COLUMNS.uservisits;

export const query2OptionsSchema = z.object({
  /** Where the uservisits objects are: a prefix or a glob, in any store. */
  input: z.string().min(1),
  /** X in SUBSTR(sourceIP, 1, X): 8 (2A), 10 (2B), 12 (2C). */
  prefixLen: z.number().int().min(1).max(15),
  /** `csv` (headerless, as the benchmark publishes it) or `parquet`; `auto` goes by extension. @default auto */
  format: z.enum(["auto", "csv", "parquet"]).default("auto"),
  /** R. @default none when the partials are small (the coordinator merges the map outputs), else derived from the input's bytes (at least one per worker) */
  partitions: z.number().int().min(1).max(4096).optional(),
  /** Where intermediate data goes (a store URL). @default the input's store, under `_smelter/jobs/`; a temp dir for local inputs */
  work: z.string().min(1).optional(),
  /** Bytes of input per map task. @default enough tasks to give every worker at least two (between 4 and 64 MiB each) */
  targetTaskBytes: z.number().int().min(1024).optional(),
  /** DuckDB threads inside each task. @default 1 */
  threadsPerTask: z.number().int().min(1).default(1),
  /** Also write the result as ONE CSV object at this URL, assembled in parallel from the reducers' parts. */
  csvOutput: z.string().min(1).optional(),
});
export type Query2Options = z.input<typeof query2OptionsSchema>;

export interface Query2Result {
  run: MapReduceRun<unknown, number>;
  /** The CSV object written with `csvOutput`. */
  csv?: ParallelUploadSummary;
  /** Input bytes discovered. */
  inputBytes: number;
  /** R; 0 when the coordinator merged the map outputs itself (no reduce stage). */
  partitions: number;
}

export function query2Spec(prefixLen: number): AggregateSpec {
  return {
    keys: [{ name: "prefix", expr: `substr(sourceIP, 1, ${prefixLen})` }],
    aggregates: [{ name: "adRevenue", fn: "sum", arg: "adRevenue" }],
    columns: ["sourceIP", "adRevenue"],
  };
}

/**
 * Runs Query 2 and loads the result into `db` as table `table` (prefix VARCHAR, adRevenue DOUBLE).
 * Returns the run (job, stats) once the result is in `db`; the work prefix is deleted by then.
 */
export async function runQuery2(manager: Manager, db: DuckDb, options: Query2Options, hooks: { onJob?: (job: Job) => void; table?: string; policy?: StagePolicyInput; mapWorker?: string; reduceWorker?: string } = {}): Promise<Query2Result> {
  const o = parseOrThrow(query2OptionsSchema, options, "query2 options");
  const table = hooks.table ?? "result";
  const input = await openStore(o.input);
  const work = await workStore(o.work, input.store);
  const sizes = await inputSizes(input.store, input.key);
  const inputBytes = sizes.bytes;
  if (inputBytes === 0) throw new ConfigError(`no uservisits data at ${o.input}: check the URL (a prefix like s3://bucket/uservisits/ or a glob like data/part-*)`);
  const workers = manager.maxConcurrentTasks;
  // Partials estimated at 1/8 of the input (run.ts); budget 256 MiB per reducer.
  const onCoordinator = o.partitions === undefined && !o.csvOutput && mergeOnCoordinator(inputBytes);
  const partitions = o.partitions ?? (onCoordinator ? 1 : derivePartitions({ mapOutputBytes: partialBytes(inputBytes), workers }));
  const spec = query2Spec(o.prefixLen);
  const tableSpec: TableSpec = { format: "csv", columns: USERVISITS_COLUMNS, delimiter: ",", header: false };
  const taskBytes = o.targetTaskBytes ?? defaultTaskBytes(inputBytes, workers, input.store.localPath ? sizes : undefined);
  const splits = discoverSplits(input.store, input.key, { targetSplitBytes: taskBytes, ...(o.format === "auto" ? {} : { format: o.format }) });
  const inputs = (async function* () {
    for await (const t of mapTaskInputs(splits, taskBytes)) {
      const format = t.splits[0]?.format === "parquet" ? "parquet" : "csv";
      yield { storeUrl: input.store.url, splits: t.splits, table: { ...tableSpec, format }, spec, threads: o.threadsPerTask };
    }
  })();
  if (onCoordinator) {
    const mapWorker = hooks.mapWorker ?? "smelter.aggregate.map";
    const run = await runStages(
      manager,
      {
        name: `query2-${o.prefixLen}`,
        stages: [{ name: "map", worker: mapWorker, tasks: { inputs }, reads: [], output: { kind: "shuffle", partitions: 1 }, payload: (input, ctx) => ({ shuffle: ctx.shuffle, input }) }],
        work: { store: work.store, url: work.store.url, prefix: work.prefix },
        format: "parquet",
        ...(hooks.policy ? { policy: hooks.policy } : {}),
      },
      {
        ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
        finalize: async (results) => mergeMapOutputs(db, work.store, results[0]!.map((r) => r.output as MapOutput), spec, table),
      },
    );
    const mapResults = run.results[0]!;
    return { run: { job: run.job, shuffle: run.shuffles[0]!, mapTasks: mapResults.length, mapResults, reduceResults: [], finalized: run.finalized }, inputBytes, partitions: 0 };
  }
  const csv = o.csvOutput ? await beginCsv(o.csvOutput, partitions) : undefined;
  let csvSummary: ParallelUploadSummary | undefined;
  const run = await runMapReduce(
    manager,
    {
      name: `query2-${o.prefixLen}`,
      inputs,
      map: { worker: hooks.mapWorker ?? "smelter.aggregate.map", name: "map" },
      reduce: { worker: hooks.reduceWorker ?? "smelter.aggregate.reduce", name: "reduce" },
      partitions,
      work: { store: work.store, url: work.store.url, prefix: work.prefix },
      format: "parquet",
      reduceParams: { spec, threads: o.threadsPerTask, ...(csv ? { csvUpload: { storeUrl: csv.store.url, handle: csv.handle } } : {}) },
      ...(hooks.policy ? { policy: hooks.policy } : {}),
    },
    {
      ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
      finalize: async (results) => {
        const outputs = results.map((r) => r.output as { key: string | null; upload?: unknown });
        if (csv) csvSummary = await completeParallelUpload(csv.store, csv.handle, outputs.map((x) => x.upload));
        return gather(db, work.store, outputs.map((x) => x.key), table);
      },
    },
  ).catch(async (err: unknown) => {
    if (csv && !csvSummary) await abortParallelUpload(csv.store, csv.handle).catch(() => undefined);
    throw err;
  });
  return { run, inputBytes, partitions, ...(csvSummary ? { csv: csvSummary } : {}) };
}

/**
 * Loads reducer outputs (Parquet objects) into `db` as `table`; returns its row count. Objects of
 * a local-directory store are read in place; others are fetched into temp files first.
 */
export async function gather(db: DuckDb, store: ObjectStore, keys: (string | null)[], table: string): Promise<number> {
  return loadParquet(db, store, keys.filter((k): k is string => !!k), table, (source) => `SELECT * FROM ${source}`);
}

/**
 * The final GROUP BY of the map outputs (one segment each) on the coordinator, into `db` as
 * `table`; returns its row count. Outputs in a local-directory store are read in place; others
 * are fetched into temp files first.
 */
export async function mergeMapOutputs(db: DuckDb, store: ObjectStore, outputs: MapOutput[], spec: AggregateSpec, table: string): Promise<number> {
  const present = outputs.filter((o) => o.offsets[o.offsets.length - 1]! > 0);
  return loadParquet(db, store, present.map((o) => o.key), table, (source) => finalSql(spec, source));
}

/** `table` in `db` as `select(read_parquet(<the objects' local files>))` (empty result table when there are none); returns its row count. */
async function loadParquet(db: DuckDb, store: ObjectStore, keys: string[], table: string, select: (source: string) => string): Promise<number> {
  const files = await localFiles(store, keys);
  try {
    const t = sqlIdentifier(table);
    if (files.paths.length === 0) await db.run(`CREATE OR REPLACE TABLE ${t} (prefix VARCHAR, adRevenue DOUBLE)`);
    else await db.run(`CREATE OR REPLACE TABLE ${t} AS ${select(`read_parquet([${files.paths.map(sqlString).join(", ")}])`)}`);
    return Number(await db.value(`SELECT count(*) FROM ${t}`));
  } finally {
    await files.release();
  }
}

async function beginCsv(url: string, partitions: number) {
  const { store, key } = await openResultObject(url, ["csv"]);
  return { store, handle: await beginParallelUpload(store, key, { partitions, contentType: CONTENT_TYPES.csv }) };
}
