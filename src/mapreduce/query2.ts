/**
 * Query 2 of the Big Data Benchmark as a map-reduce:
 *   SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 * map: partial sums per prefix of each split (DuckDB) -> shuffle by hash(prefix) into R
 * partitions -> reduce: final sums per partition (DuckDB) -> gathered into a DuckDB table.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { abortParallelUpload, beginParallelUpload, completeParallelUpload, type ParallelUploadSummary } from "../outputs/parallel-upload.js";
import type { AggregateSpec, TableSpec } from "./aggregate.js";
import { defaultTaskBytes, inputSizes, mapTaskInputs, workStore } from "./inputs.js";

export { defaultTaskBytes, workStore };
import { derivePartitions, runMapReduce, type MapReduceRun } from "./run.js";
import { BDB_COLUMNS } from "../datagen/schema.js";

export const USERVISITS_COLUMNS = BDB_COLUMNS.uservisits;

export const query2OptionsSchema = z.object({
  /** Where the uservisits objects are: a prefix or a glob, in any store. */
  input: z.string().min(1),
  /** X in SUBSTR(sourceIP, 1, X): 8 (2A), 10 (2B), 12 (2C). */
  prefixLen: z.number().int().min(1).max(15),
  /** `csv` (headerless, as the benchmark publishes it) or `parquet`; `auto` goes by extension. @default auto */
  format: z.enum(["auto", "csv", "parquet"]).default("auto"),
  /** R. @default derived from the input's bytes (at least one per worker) */
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
  // 2C keeps nearly one group per row: partials are ~1/8 of the CSV; budget 256 MiB per reducer.
  const partitions = o.partitions ?? derivePartitions({ mapOutputBytes: inputBytes / 8, workers });
  const spec = query2Spec(o.prefixLen);
  const tableSpec: TableSpec = { format: "csv", columns: USERVISITS_COLUMNS, delimiter: ",", header: false };
  const taskBytes = o.targetTaskBytes ?? defaultTaskBytes(inputBytes, workers, input.store.url.startsWith("file:") ? sizes : undefined);
  const splits = discoverSplits(input.store, input.key, { targetSplitBytes: taskBytes, ...(o.format === "auto" ? {} : { format: o.format }) });
  const inputs = (async function* () {
    for await (const t of mapTaskInputs(splits, taskBytes)) {
      const format = t.splits[0]?.format === "parquet" ? "parquet" : "csv";
      yield { storeUrl: input.store.url, splits: t.splits, table: { ...tableSpec, format }, spec, threads: o.threadsPerTask };
    }
  })();
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

/** Loads reducer outputs (Parquet objects) into `db` as `table`; returns its row count. */
export async function gather(db: DuckDb, store: ObjectStore, keys: (string | null)[], table: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-gather-"));
  try {
    const files: string[] = [];
    for (const [i, key] of keys.entries()) {
      if (!key) continue;
      const file = join(dir, `r${i}.parquet`);
      await writeFile(file, await store.get(key));
      files.push(file);
    }
    const t = sqlIdentifier(table);
    if (files.length === 0) await db.run(`CREATE OR REPLACE TABLE ${t} (prefix VARCHAR, adRevenue DOUBLE)`);
    else await db.run(`CREATE OR REPLACE TABLE ${t} AS SELECT * FROM read_parquet([${files.map(sqlString).join(", ")}])`);
    return Number(await db.value(`SELECT count(*) FROM ${t}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


async function beginCsv(url: string, partitions: number) {
  const { store, key } = await openStore(url);
  if (!key || key.endsWith("/")) throw new ConfigError(`--output ${url} names a directory, not an object: give the object's full key, e.g. s3://bucket/results/query2.csv`);
  return { store, handle: await beginParallelUpload(store, key, { partitions, contentType: "text/csv" }) };
}



