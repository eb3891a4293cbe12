/**
 * Built-in workers of a grouped aggregation (Query 2, and SQL GROUP BY): DuckDB inside tasks.
 * - `smelter.aggregate.map`: materializes its splits as local files (ranged, hedged reads), runs
 *   the partial aggregate in DuckDB, hash-partitions the partials into R Parquet segments (R = 1:
 *   one plain COPY) and writes them as one object (src/shuffle/). Segments are Parquet without
 *   dictionary encoding, uncompressed on a local work store (`segmentFormat`).
 * - `smelter.aggregate.reduce`: reads its partition of every winning map output as they land and
 *   keeps each as a local file; while it waits for more, it folds the files into one merged table
 *   when they are at least as big as what it already folded; after the last map output, one
 *   final GROUP BY over the merged table and the remaining files, written as one Parquet object.
 * Each worker process keeps one DuckDB open across tasks (warm workers).
 * Both add phase timers to their counters (ms, for the benchmark's profile): map `materializeMs`,
 * `duckdbMs` (parse + partial aggregate + partitioned COPY), `shuffleWriteMs`;
 * reduce `manifestWaitMs`, `shuffleReadMs`, `stageMs` (segment to file), `mergeMs` (folds, partly
 * overlapping `manifestWaitMs`), `finalMs`, `outputPutMs`, and `reduceStateBytes` (DuckDB's
 * memory once the final rows are in a table).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { openDuckDb, sqlString, type DuckDb } from "../duckdb/index.js";
import { aggregateSpecSchema, finalSql, mapSql, mergeSql, partitionSql, sourceSql, tableSchema } from "../mapreduce/aggregate.js";
import { materializeSplits, type LocalFile } from "../mapreduce/materialize.js";
import { shufflePlanSchema } from "../shuffle/layout.js";
import { watchMapOutputs } from "../shuffle/manifest.js";
import { readSegment, writeMapOutputFiles } from "../shuffle/segments.js";
import { splitSchema } from "../splits/split.js";
import type { ObjectStore } from "../storage/contract.js";
import { RangedReader } from "../storage/ranged.js";
import { defineWorker } from "../task-runtime/registry.js";
import { NonRetryableError, SmelterError } from "../job/errors.js";
import type { TaskContext } from "../task-runtime/context.js";
import { uploadPartition } from "../outputs/upload-partition.js";
import { parseHandle } from "../outputs/upload-protocol.js";
import { cachedStore } from "./task-resources.js";
import { duckdbFailure, duckdbMessage, lap, splitName } from "./task-util.js";
import { localFileWriter } from "../storage/local.js";

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
  /** Fold the segments held as files into one merged table once this many are waiting. @default 32 */
  compactEvery: z.number().int().min(1).default(32),
  /** Also upload the final rows as CSV, partition `partition` of one object (docs/parallel-upload.md). */
  csvUpload: z.object({ storeUrl: z.string().min(1), handle: z.unknown() }).optional(),
});
export type AggregateReduceParams = z.input<typeof aggregateReduceParams>;

export const reduceOutputSchema = z.object({ key: z.string().nullable(), rows: z.number().int().min(0), bytes: z.number().int().min(0), upload: z.unknown().optional() });
export type ReduceOutput = z.infer<typeof reduceOutputSchema>;

const reduceInput = z.object({ shuffle: shufflePlanSchema, partition: z.number().int().min(0), outputPrefix: z.string().min(1), params: aggregateReduceParams });

export const aggregateMap = defineWorker("smelter.aggregate.map", async ({ shuffle, input }: z.output<typeof aggregateMapInput>, ctx) => {
  const dir = await mkdtemp(join(tmpdir(), "smelter-map-"));
  try {
    const store = await cachedStore(input.storeUrl);
    const workStore = await cachedStore(shuffle.storeUrl);
    const reader = new RangedReader(store, { clock: ctx.clock });
    let t = performance.now();
    const files = await materializeSplits(store, input.splits, dir, { reader, columns: input.spec.columns, signal: ctx.signal, onInPlaceBytes: (n) => ctx.count("bytesRead", n), dialect: input.table });
    t = lap(ctx, "materializeMs", t);
    reader.reportTo((name, delta) => ctx.count(name, delta));
    ctx.heartbeat({ phase: "read", files: files.length });
    /** Segment files, one per partition (undefined: empty). */
    let segments: (string | undefined)[] = Array.from({ length: shuffle.partitions }, () => undefined);
    if (files.length > 0) {
      const db = await duckdb(input.threads);
      const out = join(dir, "out");
      const partial = mapSql(input.spec, sourceSql(input.table, files));
      // One partition: one plain COPY (a partitioned COPY costs ~2x the write).
      const single = shuffle.partitions === 1;
      try {
        if (single) await db.run(`COPY (${partial}) TO ${sqlString(out)} (${segmentFormat(workStore)})`);
        else await db.run(`COPY (SELECT *, ${partitionSql(input.spec, shuffle.partitions)} AS __p FROM (${partial})) TO ${sqlString(out)} (${segmentFormat(workStore)}, PARTITION_BY (__p))`);
      } catch (err) {
        throw inputError(err, input.storeUrl, files);
      }
      t = lap(ctx, "duckdbMs", t);
      segments = single ? [out] : segments.map((_, r) => join(out, `__p=${r}`, "data_0.parquet")).map((f) => (existsSync(f) ? f : undefined));
    }
    ctx.heartbeat({ phase: "write" });
    const output = await writeMapOutputFiles(workStore, shuffle, { task: ctx.task, attempt: ctx.attempt }, segments, { ctx });
    lap(ctx, "shuffleWriteMs", t);
    return output;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, { input: aggregateMapInput });

export const aggregateReduce = defineWorker("smelter.aggregate.reduce", async ({ shuffle, partition, outputPrefix, params }: z.output<typeof reduceInput>, ctx): Promise<ReduceOutput> => {
  const dir = await mkdtemp(join(tmpdir(), "smelter-reduce-"));
  const db = await duckdb(params.threads);
  const id = ctx.attemptId.replace(/[^a-z0-9]/gi, "_");
  const acc = `acc_${id}`;
  const res = `res_${id}`;
  let accCreated = false;
  let resCreated = false;
  /** Segments landed as local Parquet files, not yet folded into `acc`, and their bytes. */
  let staged: string[] = [];
  let stagedBytes = 0;
  /** Bytes of the segments folded into `acc` so far. */
  let foldedBytes = 0;
  /** `acc` and the files `files`, as one relation of partials. */
  const partials = (files: string[]) => {
    const parts = [...(accCreated ? [`SELECT * FROM ${acc}`] : []), ...(files.length ? [`SELECT * FROM read_parquet([${files.map(sqlString).join(", ")}])`] : [])];
    return `(${parts.join(" UNION ALL ")}) AS partials`;
  };
  /** Folds the staged files into `acc` (one GROUP BY over both). */
  let folding: Promise<void> = Promise.resolve();
  let foldBusy = false;
  const fold = (): Promise<void> => {
    const files = staged;
    foldedBytes += stagedBytes;
    staged = [];
    stagedBytes = 0;
    foldBusy = true;
    folding = (async () => {
      const t0 = performance.now();
      try {
        await db.run(`CREATE OR REPLACE TEMP TABLE ${acc}_c AS ${mergeSql(params.spec, partials(files))}; DROP TABLE IF EXISTS ${acc}; ALTER TABLE ${acc}_c RENAME TO ${acc}`);
        accCreated = true;
        await Promise.all(files.map((f) => rm(f, { force: true })));
      } finally {
        foldBusy = false;
        ctx.count("mergeMs", performance.now() - t0);
      }
    })();
    folding.catch(() => undefined); // surfaced where it is awaited
    return folding;
  };
  /**
   * While the reducer waits for the next map output, it folds what it holds, but only when that
   * is at least as much as it already folded (so each byte is re-aggregated O(1) times): the
   * final GROUP BY after the last map then reads the folded rows and the last segments only.
   */
  const onWait = () => {
    ctx.heartbeat({ phase: "waiting for map outputs" });
    if (!foldBusy && staged.length > 0 && stagedBytes >= foldedBytes) void fold();
  };
  try {
    const store = await cachedStore(shuffle.storeUrl);
    let t = performance.now();
    for await (const output of watchMapOutputs(store, shuffle, { signal: ctx.signal, onWait, clock: ctx.clock })) {
      t = lap(ctx, "manifestWaitMs", t);
      const bytes = await readSegment(store, output, partition, { ctx });
      t = lap(ctx, "shuffleReadMs", t);
      ctx.heartbeat({ phase: "merge", mapTask: output.task });
      if (bytes.byteLength === 0) continue;
      // Segments stay files until a fold or the end: DuckDB reads each once in a GROUP BY,
      // instead of copying each into a table first.
      const file = join(dir, `m${output.task}.parquet`);
      await writeFile(file, bytes);
      staged.push(file);
      stagedBytes += bytes.byteLength;
      if (staged.length >= params.compactEvery) {
        await folding;
        await fold();
      }
      t = lap(ctx, "stageMs", t);
    }
    await folding;
    t = lap(ctx, "manifestWaitMs", t);
    if (!accCreated && staged.length === 0) {
      const names = [...params.spec.keys.map((k) => k.name), ...params.spec.aggregates.map((a) => a.name)];
      const upload = params.csvUpload ? await uploadCsv(params.csvUpload, partition, partition === 0 ? `${names.join(",")}\n` : "", ctx) : undefined;
      return { key: null, rows: 0, bytes: 0, ...(upload ? { upload } : {}) };
    }
    await db.run(`CREATE TEMP TABLE ${res} AS ${finalSql(params.spec, partials(staged))}`);
    resCreated = true;
    if (accCreated) await db.run(`DROP TABLE ${acc}`);
    accCreated = false;
    ctx.count("reduceStateBytes", Number(await db.value("SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()")));
    let upload: unknown;
    if (params.csvUpload) {
      const csv = join(dir, "result.csv");
      await db.run(`COPY ${res} TO ${sqlString(csv)} (FORMAT csv, HEADER ${partition === 0})`);
      upload = await uploadCsv(params.csvUpload, partition, await readFile(csv), ctx);
    }
    const rows = Number(await db.value(`SELECT count(*) FROM ${res}`));
    const key = `${outputPrefix}r${String(partition).padStart(5, "0")}-a${ctx.attempt}.parquet`;
    const copyTo = (path: string) => db.run(`COPY ${res} TO ${sqlString(path)} (${segmentFormat(store)})`);
    let bytes = 0;
    const writer = localFileWriter(store);
    if (writer) {
      // A local store: DuckDB writes the object's file itself (no copy through memory, no ETag hash).
      await writer.put(key, async (tmp) => {
        await copyTo(tmp);
        bytes = (await stat(tmp)).size;
      });
      t = lap(ctx, "finalMs", t);
    } else {
      const file = join(dir, "result.parquet");
      await copyTo(file);
      const body = await readFile(file);
      bytes = body.byteLength;
      t = lap(ctx, "finalMs", t);
      await store.put(key, body, { signal: ctx.signal });
    }
    lap(ctx, "outputPutMs", t);
    ctx.count("bytesWritten", bytes);
    ctx.count("writeRequests", 1);
    return { key, rows, bytes, ...(upload ? { upload } : {}) };
  } finally {
    await folding.catch(() => undefined);
    if (accCreated || foldedBytes > 0) await db.run(`DROP TABLE IF EXISTS ${acc}; DROP TABLE IF EXISTS ${acc}_c`).catch(() => undefined);
    if (resCreated) await db.run(`DROP TABLE IF EXISTS ${res}`).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}, { input: reduceInput });

/**
 * How shuffle segments (and reducers' outputs) are written. No dictionary: partial aggregates hold
 * nearly one row per key, so DuckDB's dictionary attempt (and its bloom filter) is wasted work
 * (2A: 30% of the partitioned COPY's CPU). Uncompressed when the work store keeps its objects
 * as local files (nothing crosses a network; snappy cost another 15%), snappy otherwise.
 */
export function segmentFormat(workStore: ObjectStore): string {
  return `FORMAT parquet, DICTIONARY_SIZE_LIMIT 0, COMPRESSION ${workStore.localPath ? "uncompressed" : "snappy"}`;
}

/** A DuckDB error about the task's input, restated with the objects and byte ranges it read (not temp file names). */
function inputError(err: unknown, storeUrl: string, files: LocalFile[]): Error {
  const f = duckdbFailure(err, "Fix or remove the malformed rows, or check the input's format and columns");
  return new SmelterError(`cannot read ${files.map(splitName).join(", ")} in ${storeUrl}: ${duckdbMessage(err, files)}${f.hint ? `. ${f.hint}` : ""}`, { cause: err, type: f.type, nonRetryable: f.nonRetryable });
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

