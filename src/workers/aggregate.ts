/**
 * Built-in workers of a grouped aggregation (Query 2, and SQL GROUP BY): DuckDB inside tasks.
 * - `smelter.aggregate.map`: materializes its splits as local files (ranged, hedged reads), runs
 *   the partial aggregate in DuckDB, hash-partitions the partials into R Parquet segments and
 *   writes them as one object (src/shuffle/).
 * - `smelter.aggregate.reduce`: reads its partition of every winning map output as they land,
 *   merges them in DuckDB, writes its final rows as one Parquet object.
 * Each worker process keeps one DuckDB open across tasks (warm workers).
 * Both add phase timers to their counters (ms, for the benchmark's profile): map `materializeMs`,
 * `duckdbMs` (parse + partial aggregate + partitioned COPY), `segmentsReadMs`, `shuffleWriteMs`;
 * reduce `manifestWaitMs`, `shuffleReadMs`, `mergeMs`, `finalMs`, `outputPutMs`, and
 * `reduceStateBytes` (DuckDB's memory once every partial is merged).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { openDuckDb, sqlString, type DuckDb } from "../duckdb/index.js";
import { aggregateSpecSchema, finalSql, mapSql, mergeSql, partitionSql, sourceSql, tableSchema } from "../mapreduce/aggregate.js";
import { materializeSplits, type LocalFile } from "../mapreduce/materialize.js";
import type { ReduceTaskInput } from "../mapreduce/run.js";
import { shufflePlanSchema } from "../shuffle/layout.js";
import { watchMapOutputs } from "../shuffle/manifest.js";
import { readSegment, writeMapOutput } from "../shuffle/segments.js";
import { splitSchema } from "../splits/split.js";
import { RangedReader } from "../storage/ranged.js";
import { parseStoreUrl } from "../storage/url.js";
import { defineWorker } from "../worker/registry.js";
import { NonRetryableError } from "../job/errors.js";
import type { TaskContext } from "../worker/context.js";
import { uploadPartition } from "../outputs/upload-partition.js";
import { parseHandle } from "../outputs/upload-protocol.js";
import { cachedStore } from "./task-resources.js";

export const aggregateMapInput = z.object({
  shuffle: shufflePlanSchema,
  input: z.object({
    /** Root URL of the store holding the input objects. */
    storeUrl: z.string().min(1),
    splits: z.array(splitSchema),
    table: tableSchema,
    spec: aggregateSpecSchema,
    /** DuckDB threads in this task. @default 1 */
    threads: z.number().int().min(1).default(1),
  }),
});
export type AggregateMapInput = z.input<typeof aggregateMapInput>;

export const aggregateReduceParams = z.object({
  spec: aggregateSpecSchema,
  threads: z.number().int().min(1).default(1),
  /** Compact the partials held after this many map outputs. @default 32 */
  compactEvery: z.number().int().min(1).default(32),
  /** Also upload the final rows as CSV, partition `partition` of one object (docs/parallel-upload.md). */
  csvUpload: z.object({ storeUrl: z.string().min(1), handle: z.unknown() }).optional(),
});
export type AggregateReduceParams = z.input<typeof aggregateReduceParams>;

export const reduceOutputSchema = z.object({ key: z.string().nullable(), rows: z.number().int().min(0), bytes: z.number().int().min(0), upload: z.unknown().optional() });
export type ReduceOutput = z.infer<typeof reduceOutputSchema>;

const reduceInput = z.object({ shuffle: shufflePlanSchema, partition: z.number().int().min(0), outputPrefix: z.string().min(1), params: aggregateReduceParams });

export const aggregateMap = defineWorker("smelter.aggregate.map", async (raw: AggregateMapInput, ctx) => {
  const { shuffle, input } = aggregateMapInput.parse(raw);
  const dir = await mkdtemp(join(tmpdir(), "smelter-map-"));
  try {
    const store = await cachedStore(input.storeUrl);
    const reader = new RangedReader(store);
    let t = performance.now();
    const local = parseStoreUrl(input.storeUrl);
    const files = await materializeSplits(store, input.splits, dir, {
      reader,
      columns: input.spec.columns,
      signal: ctx.signal,
      ...(local.scheme === "file" ? { localRoot: local.path, onInPlaceBytes: (n: number) => ctx.count("bytesRead", n) } : {}),
    });
    t = lap(ctx, "materializeMs", t);
    reader.reportTo((name, delta) => ctx.count(name, delta));
    ctx.heartbeat({ phase: "read", files: files.length });
    const segments: Uint8Array[] = Array.from({ length: shuffle.partitions }, () => new Uint8Array(0));
    if (files.length > 0) {
      const db = await duckdb(input.threads);
      const out = join(dir, "out");
      const partial = mapSql(input.spec, sourceSql(input.table, files.map((f) => f.path)));
      try {
        await db.run(`COPY (SELECT *, ${partitionSql(input.spec, shuffle.partitions)} AS __p FROM (${partial})) TO ${sqlString(out)} (FORMAT parquet, PARTITION_BY (__p))`);
      } catch (err) {
        throw inputError(err, input.storeUrl, files);
      }
      t = lap(ctx, "duckdbMs", t);
      for (let r = 0; r < shuffle.partitions; r++) {
        const file = join(out, `__p=${r}`, "data_0.parquet");
        if (existsSync(file)) segments[r] = await readFile(file);
      }
      t = lap(ctx, "segmentsReadMs", t);
    }
    ctx.heartbeat({ phase: "write" });
    const workStore = await cachedStore(shuffle.storeUrl);
    const output = await writeMapOutput(workStore, shuffle, { task: ctx.task, attempt: ctx.attempt }, segments, { ctx });
    lap(ctx, "shuffleWriteMs", t);
    return output;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

export const aggregateReduce = defineWorker("smelter.aggregate.reduce", async (raw: ReduceTaskInput<AggregateReduceParams>, ctx): Promise<ReduceOutput> => {
  const { shuffle, partition, outputPrefix, params } = reduceInput.parse(raw);
  const dir = await mkdtemp(join(tmpdir(), "smelter-reduce-"));
  const db = await duckdb(params.threads);
  const table = `acc_${ctx.attemptId.replace(/[^a-z0-9]/gi, "_")}`;
  let created = false;
  try {
    const store = await cachedStore(shuffle.storeUrl);
    let merged = 0;
    let t = performance.now();
    for await (const output of watchMapOutputs(store, shuffle, { signal: ctx.signal, onWait: () => ctx.heartbeat({ phase: "waiting for map outputs" }) })) {
      t = lap(ctx, "manifestWaitMs", t);
      const bytes = await readSegment(store, output, partition, { ctx });
      t = lap(ctx, "shuffleReadMs", t);
      ctx.heartbeat({ phase: "merge", mapTask: output.task });
      if (bytes.byteLength === 0) continue;
      const file = join(dir, `m${output.task}.parquet`);
      await writeFile(file, bytes);
      await db.run(created ? `INSERT INTO ${table} SELECT * FROM read_parquet(${sqlString(file)})` : `CREATE TEMP TABLE ${table} AS SELECT * FROM read_parquet(${sqlString(file)})`);
      created = true;
      await rm(file, { force: true });
      if (++merged % params.compactEvery === 0) {
        await db.run(`CREATE OR REPLACE TEMP TABLE ${table}_c AS ${mergeSql(params.spec, table)}; DROP TABLE ${table}; ALTER TABLE ${table}_c RENAME TO ${table}`);
      }
      t = lap(ctx, "mergeMs", t);
    }
    t = lap(ctx, "manifestWaitMs", t);
    if (created) ctx.count("reduceStateBytes", Number(await db.value("SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()")));
    if (!created) {
      const names = [...params.spec.keys.map((k) => k.name), ...params.spec.aggregates.map((a) => a.name)];
      const upload = params.csvUpload ? await uploadCsv(params.csvUpload, partition, partition === 0 ? `${names.join(",")}\n` : "", ctx) : undefined;
      return { key: null, rows: 0, bytes: 0, ...(upload ? { upload } : {}) };
    }
    const file = join(dir, "result.parquet");
    await db.run(`COPY (${finalSql(params.spec, table)}) TO ${sqlString(file)} (FORMAT parquet)`);
    let upload: unknown;
    if (params.csvUpload) {
      const csv = join(dir, "result.csv");
      await db.run(`COPY (SELECT * FROM read_parquet(${sqlString(file)})) TO ${sqlString(csv)} (FORMAT csv, HEADER ${partition === 0})`);
      upload = await uploadCsv(params.csvUpload, partition, await readFile(csv), ctx);
    }
    const rows = Number(await db.value(`SELECT count(*) FROM read_parquet(${sqlString(file)})`));
    const body = await readFile(file);
    t = lap(ctx, "finalMs", t);
    const key = `${outputPrefix}r${String(partition).padStart(5, "0")}-a${ctx.attempt}.parquet`;
    await store.put(key, body, { signal: ctx.signal });
    lap(ctx, "outputPutMs", t);
    ctx.count("bytesWritten", body.byteLength);
    ctx.count("writeRequests", 1);
    return { key, rows, bytes: body.byteLength, ...(upload ? { upload } : {}) };
  } finally {
    if (created) await db.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A DuckDB error about the task's input, restated with the objects and byte ranges it read (not temp file names). */
function inputError(err: unknown, storeUrl: string, files: LocalFile[]): Error {
  let message = (err as Error).message.replace(/^\[smelter\] (DuckDB: )?/, "").replace(/\n\s+in SQL:[\s\S]*$/, "");
  const name = (f: LocalFile) => `${f.split.key} [bytes ${f.split.range.start}-${f.split.range.end})`;
  for (const f of files) message = message.split(f.path).join(name(f));
  return new NonRetryableError(`cannot read ${files.map(name).join(", ")} in ${storeUrl}: ${message}. Fix or remove the malformed rows, or check the input's format and columns`, { cause: err, type: "InputError" });
}

/** Adds the ms since `t` to the task's counter `name` (a phase timer); returns now. */
function lap(ctx: TaskContext, name: string, t: number): number {
  const now = performance.now();
  ctx.count(name, now - t);
  return now;
}

async function uploadCsv(target: { storeUrl: string; handle: unknown }, partition: number, body: Uint8Array | string, ctx: TaskContext): Promise<unknown> {
  const store = await cachedStore(target.storeUrl);
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return uploadPartition(store, parseHandle(target.handle), partition, bytes, ctx);
}

let db: { threads: number; db: Promise<DuckDb> } | undefined;

/** One DuckDB per worker process or thread, reopened only when the thread count changes. */
async function duckdb(threads: number): Promise<DuckDb> {
  if (db?.threads !== threads) {
    const old = db;
    db = { threads, db: openDuckDb({ threads }) };
    if (old) (await old.db).close();
  }
  return db.db;
}

