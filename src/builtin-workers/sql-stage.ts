/**
 * `smelter.sql.stage`: one task of a SQL plan's stage (src/sql/model.ts), run in DuckDB.
 * 1. Every input becomes a view named as the plan says: a table's splits materialized as local
 *    files (CSV ranges; Parquet with only the columns the stage reads), or this task's partition
 *    (or every row) of an earlier stage, fetched segment by segment from the shuffle as the
 *    producers' winning outputs land. No data: an empty table with the input's column types.
 * 2. The stage's SQL runs over those views.
 * 3. Its rows go to R Parquet segments (`COPY ... PARTITION_BY` on the stage's `partitionBy`)
 *    written as one object per attempt; a gathered stage writes one segment (R = 1) with a plain
 *    COPY. Segments are written as Query 2's are (no dictionary; uncompressed on a local work
 *    store: `segmentFormat`), and on a local store concatenated straight into the object's file.
 * 4. With `upload` (the stage whose rows are the query's result, written as one CSV object), the
 *    task also uploads its rows as CSV, partition `upload.partition` of a parallel upload
 *    (src/outputs/), the header in partition 0 only.
 * Columns Parquet does not keep exactly (HUGEINT) travel as text and are cast back (stage-io.ts).
 */
import { createReadStream, existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier as q, sqlString } from "../duckdb/sql.js";
import { NonRetryableError, SmelterError } from "../job/errors.js";
import { columnSchema, sourceSql, tableSchema } from "../mapreduce/table-source.js";
import { checkInPlaceUnchanged, materializeSplits, type LocalFile } from "../mapreduce/materialize.js";
import { checkLaterObjects } from "./csv-object-check.js";
import { uploadPartition } from "../outputs/upload-partition.js";
import { parseHandle } from "../outputs/upload-protocol.js";
import { shufflePlanSchema } from "../shuffle/layout.js";
import { watchMapOutputs } from "../shuffle/manifest.js";
import { readSegment, writeMapOutputFiles } from "../shuffle/segments.js";
import { readSplitList, splitListSchema } from "../sql/split-lists.js";
import { decodeSql, emptyTableSql, encodeList } from "../sql/stage-io.js";
import type { ObjectStore } from "../storage/contract.js";
import { RangedReader } from "../storage/ranged.js";
import type { TaskContext } from "../task-runtime/context.js";
import { defineWorker } from "../task-runtime/registry.js";
import { segmentFormat } from "./segment-format.js";
import { attemptTempDir, cachedStore, releaseAttemptTempDir, withDuckDb } from "./task-resources.js";
import { duckdbFailure, duckdbMessage, lap, splitName } from "./task-util.js";

const tableInputSchema = z.object({
  kind: z.literal("table"),
  view: z.string().min(1),
  /** Root URL of the store holding the table's objects. */
  storeUrl: z.string().min(1),
  table: tableSchema,
  /** The table's columns the stage reads (Parquet fetches only these); null: all. */
  read: z.array(z.string().min(1)).nullable(),
  /** This task's splits of the table, or all of them (broadcast); a long list as a reference to an object in the work store. */
  splits: splitListSchema,
});

const stageInputSchema = z.object({
  kind: z.literal("stage"),
  view: z.string().min(1),
  source: shufflePlanSchema,
  /** `partition`: this task's partition of every winning output; `all`: every partition. */
  read: z.enum(["partition", "all"]),
  columns: z.array(columnSchema).min(1),
});

export const sqlStageInputSchema = z.object({
  /** Where this stage's output goes (R = 1 for a gathered stage). */
  shuffle: shufflePlanSchema,
  /** This task's partition (tasks of a partitioned stage). */
  partition: z.number().int().min(0).nullable(),
  stage: z.object({ id: z.number().int().min(1), name: z.string() }),
  sql: z.string().min(1),
  columns: z.array(columnSchema).min(1),
  /** The partition of a row, over the stage's output columns; null: gathered (one segment). */
  partitionBy: z.string().min(1).nullable(),
  inputs: z.array(z.discriminatedUnion("kind", [tableInputSchema, stageInputSchema])),
  /** DuckDB threads in this task. @default 1 */
  threads: z.number().int().min(1).default(1),
  /** Also upload this task's rows (a gathered stage's) as CSV: partition `partition` of one object, columns named `names`. */
  upload: z
    .object({
      storeUrl: z.string().min(1),
      handle: z.unknown(),
      partition: z.number().int().min(0),
      names: z.array(z.string().min(1)).min(1),
    })
    .nullable()
    .default(null),
  /**
   * The stage's partials without the combine (model.ts `uncombined`): `auto` runs it instead of
   * `sql` when a sample of the rows finds the group keys nearly all distinct; `always` runs it.
   */
  uncombined: z
    .object({
      sql: z.string().min(1),
      keys: z.array(z.string().min(1)).min(1),
      skip: z.enum(["auto", "always"]),
    })
    .nullable()
    .default(null),
});
export type SqlStageInput = z.input<typeof sqlStageInputSchema>;

type Prepared = {
  view: string;
  files: string[];
  columns: z.infer<typeof columnSchema>[];
  source: (files: string[]) => string;
  local: LocalFile[];
  /** Checks of the input on the task's DuckDB before it is read (CSV objects the table was not sniffed from: csv-object-check.ts). */
  check?: (db: DuckDb) => Promise<void>;
  verify?: () => Promise<void>;
};

export const sqlStage = defineWorker("smelter.sql.stage", async (input: z.output<typeof sqlStageInputSchema>, ctx) => {
  if (input.partitionBy === null && input.shuffle.partitions !== 1) throw new NonRetryableError(`stage ${input.stage.id}: a gathered stage writes one segment, not ${input.shuffle.partitions}`);
  if (input.upload && (input.partitionBy !== null || input.upload.names.length !== input.columns.length)) throw new NonRetryableError(`stage ${input.stage.id}: only a gathered stage uploads its rows, with one name per column`);
  const dir = await attemptTempDir(ctx);
  try {
    let t = performance.now();
    const workStore = await cachedStore(input.shuffle.storeUrl);
    const prepared = await Promise.all(input.inputs.map((i, n) => (i.kind === "table" ? tableInput(i, join(dir, `i${n}`), ctx) : stageInput(i, input.partition, join(dir, `i${n}`), ctx))));
    t = lap(ctx, "inputMs", t);
    ctx.heartbeat({ phase: "sql" });
    const segments = await withDuckDb(input.threads, async (db) => {
      const made: string[] = [];
      const skipping = input.inputs.some((i) => i.kind === "table" && i.table.format === "csv" && i.table.badRows === "skip");
      for (const p of prepared) await p.check?.(db);
      try {
        if (skipping) await clearRejects(db);
        for (const p of prepared) {
          if (p.files.length === 0) {
            made.push(`DROP TABLE IF EXISTS ${q(p.view)}`);
            await db.run(emptyTableSql(p.view, p.columns));
          } else {
            made.push(`DROP VIEW IF EXISTS ${q(p.view)}`);
            await db.run(`CREATE OR REPLACE TEMP VIEW ${q(p.view)} AS ${p.source(p.files)}`);
          }
        }
        const sql = await combineOrNot(db, input, ctx);
        if (skipping && input.uncombined) await clearRejects(db); // a sample's rejected rows are read again
        const segments = await runStage(db, { ...input, sql }, join(dir, "out"), workStore);
        // A row can have several errors (each missing column is one): rows are counted.
        if (skipping) ctx.count("badRows", Number(await db.value("SELECT count(DISTINCT (scan_id, file_id, line)) FROM reject_errors").catch(() => 0)));
        if (input.upload) await writeCsv(db, input, `${join(dir, "out")}.parquet`, join(dir, "result.csv"));
        return segments;
      } catch (err) {
        throw stageError(err, input, prepared);
      } finally {
        for (const drop of made.reverse()) await db.run(drop).catch(() => undefined);
      }
    }, ctx.signal);
    t = lap(ctx, "duckdbMs", t);
    for (const p of prepared) await p.verify?.();
    ctx.heartbeat({ phase: "write" });
    const out = await writeMapOutputFiles(workStore, input.shuffle, { task: ctx.task, attempt: ctx.attempt }, segments, { ctx });
    t = lap(ctx, "shuffleWriteMs", t);
    if (!input.upload) return out;
    ctx.heartbeat({ phase: "upload" });
    const u = input.upload;
    const upload = await uploadPartition(await cachedStore(u.storeUrl), parseHandle(u.handle), u.partition, createReadStream(join(dir, "result.csv")), ctx);
    lap(ctx, "uploadMs", t);
    return { ...out, upload };
  } finally {
    await releaseAttemptTempDir(dir);
  }
}, { input: sqlStageInputSchema });

/** Runs the stage's SQL into segment files, one per partition (undefined: empty); a gathered stage's is `${out}.parquet`. */
async function runStage(db: DuckDb, input: z.infer<typeof sqlStageInputSchema>, out: string, workStore: ObjectStore): Promise<(string | undefined)[]> {
  const R = input.shuffle.partitions;
  const encoded = encodeList(input.columns);
  const format = segmentFormat(workStore);
  if (input.partitionBy === null) {
    const file = `${out}.parquet`;
    const rows = Number(await db.value(`COPY (SELECT ${encoded} FROM (${input.sql}) AS __q) TO ${sqlString(file)} (${format})`));
    return [rows > 0 ? file : undefined];
  }
  await db.run(`COPY (SELECT ${encoded}, __p FROM (SELECT *, (${input.partitionBy}) AS __p FROM (${input.sql}) AS __q) AS __r) TO ${sqlString(out)} (${format}, PARTITION_BY (__p))`);
  return Array.from({ length: R }, (_, r) => join(out, `__p=${r}`, "data_0.parquet")).map((f) => (existsSync(f) ? f : undefined));
}

/** Rows of a task's input sampled to decide whether its combine pays. */
const COMBINE_SAMPLE_ROWS = 65_536;
/** The combine is skipped when at least this share of the sampled rows have keys of their own. */
const SKIP_COMBINE_DISTINCT = 0.9;
/** Decisions of the first task of a stage in this process, reused by its later tasks: keyed by the job's shuffle prefix and the stage. */
const combineDecisions = new Map<string, boolean>();

/**
 * The stage's SQL for this task: its partial aggregate, or the same partials one row at a time
 * (`uncombined`) when grouping would not shrink the rows. Grouping nearly distinct keys (Query 2B
 * and 2C keep 94-99% of a task's rows) costs about what the final aggregate costs, for nothing. The
 * first task of a stage in each worker process reads the first 64Ki rows of its input and counts
 * their distinct keys; at 90% or more its tasks skip the combine. The sample overstates how distinct
 * a whole task is (2A: 81% in the sample, 41% over the task), so the bar is high. The result is the
 * same either way: the final aggregate reads the same columns.
 */
async function combineOrNot(db: DuckDb, input: z.infer<typeof sqlStageInputSchema>, ctx: TaskContext): Promise<string> {
  const u = input.uncombined;
  if (!u) return input.sql;
  const key = `${input.shuffle.prefix}#${input.stage.id}`;
  let skip = u.skip === "always" ? true : combineDecisions.get(key);
  if (skip === undefined) {
    const keys = u.keys.map(q).join(", ");
    const sample = await db.all<{ n: number | bigint; d: number | bigint }>(`SELECT count(*) AS n, count(DISTINCT row(${keys})) AS d FROM (SELECT ${keys} FROM (${u.sql}) AS __u LIMIT ${COMBINE_SAMPLE_ROWS}) AS __s`);
    const n = Number(sample[0]?.n ?? 0);
    const d = Number(sample[0]?.d ?? 0);
    // A task smaller than the sample combines: cheap either way, and the sample says little.
    skip = n >= COMBINE_SAMPLE_ROWS && d >= SKIP_COMBINE_DISTINCT * n;
    if (combineDecisions.size >= 64) combineDecisions.delete(combineDecisions.keys().next().value!);
    combineDecisions.set(key, skip);
    ctx.count("combineSampledRows", n);
  }
  if (!skip) return input.sql;
  ctx.count("combineSkipped", 1);
  return u.sql;
}

/** DuckDB's tables of rejected CSV rows (store_rejects) start empty for each task: they outlive a query on a reused connection. */
async function clearRejects(db: DuckDb): Promise<void> {
  await db.run("DROP TABLE IF EXISTS reject_errors");
  await db.run("DROP TABLE IF EXISTS reject_scans");
}

/** This task's rows (the gathered Parquet segment, read back exactly) as CSV, renamed; a header in partition 0 only. */
async function writeCsv(db: DuckDb, input: z.infer<typeof sqlStageInputSchema>, parquet: string, csv: string): Promise<void> {
  const u = input.upload!;
  const list = input.columns.map((c, i) => `${q(c.name)} AS ${q(u.names[i]!)}`).join(", ");
  await db.run(`COPY (SELECT ${list} FROM (${decodeSql(input.columns, [parquet])}) AS __r) TO ${sqlString(csv)} (FORMAT csv, HEADER ${u.partition === 0})`);
}

async function tableInput(i: z.infer<typeof tableInputSchema>, dir: string, ctx: TaskContext): Promise<Prepared> {
  await mkdir(dir);
  const store = await cachedStore(i.storeUrl);
  const reader = new RangedReader(store, { clock: ctx.clock });
  const parquet = i.table.format === "parquet";
  const hive = i.table.hive ?? [];
  const isHive = (name: string) => hive.some((h) => h.name.toLowerCase() === name.toLowerCase());
  const inFiles = i.read && hive.length ? i.read.filter((n) => !isHive(n)) : i.read;
  const files = await materializeSplits(store, await readSplitList(i.splits), dir, {
    reader,
    signal: ctx.signal,
    ...(parquet && inFiles ? { columns: inFiles } : {}),
    onInPlaceBytes: (n) => ctx.count("bytesRead", n),
    dialect: i.table,
  });
  reader.reportTo((name, delta) => ctx.count(name, delta));
  const wanted = parquet && i.read ? new Set(i.read) : undefined;
  const all = [...i.table.columns, ...hive];
  const columns = wanted ? all.filter((c) => wanted.has(c.name)) : all;
  // Parquet: only the columns read (a sparse file holds no others), cast to the table's types (hive columns are typed where they are added).
  const list = parquet ? columns.map((c) => (hive.includes(c) ? q(c.name) : `CAST(${q(c.name)} AS ${c.type}) AS ${q(c.name)}`)).join(", ") : "*";
  // Files DuckDB read in place: still the versions listed once it has read them.
  const verify = () => checkInPlaceUnchanged(store, files.filter((f) => f.inPlace).map((f) => f.split));
  const check = (db: DuckDb) => checkLaterObjects(files, i.table, store, db);
  return { view: i.view, files: files.map((f) => f.path), columns, local: files, check, verify, source: () => `SELECT ${list} FROM ${sourceSql(i.table, files, wanted ? i.table.columns.filter((c) => wanted.has(c.name)).map((c) => c.name) : undefined)}` };
}

async function stageInput(i: z.infer<typeof stageInputSchema>, partition: number | null, dir: string, ctx: TaskContext): Promise<Prepared> {
  await mkdir(dir);
  if (i.read === "partition" && partition === null) throw new NonRetryableError(`input ${i.view} reads a partition of stage ${i.source.stage}, but this task has no partition: the plan is malformed`);
  const store = await cachedStore(i.source.storeUrl);
  const files: string[] = [];
  const parts = (n: number) => (i.read === "partition" ? [partition!] : Array.from({ length: n }, (_, r) => r));
  for await (const output of watchMapOutputs(store, i.source, { signal: ctx.signal, clock: ctx.clock, onWait: () => ctx.heartbeat({ phase: `waiting for stage ${i.source.stage}` }) })) {
    for (const r of parts(output.offsets.length - 1)) {
      const bytes = await readSegment(store, output, r, { ctx });
      if (bytes.byteLength === 0) continue;
      const file = join(dir, `t${output.task}-p${r}.parquet`);
      await writeFile(file, bytes);
      files.push(file);
    }
    ctx.heartbeat({ phase: "fetch", stage: i.source.stage, task: output.task });
  }
  return { view: i.view, files, columns: i.columns, local: [], source: (paths) => decodeSql(i.columns, paths) };
}

/** A DuckDB error restated with the stage and the objects it read (not temp file names). */
function stageError(err: unknown, input: z.infer<typeof sqlStageInputSchema>, prepared: Prepared[]): Error {
  const local = prepared.flatMap((p) => p.local);
  // DuckDB points at the position in the stage's own SQL (`LINE 1: COPY (SELECT ...) ...; ^`): Smelter's text, not the user's.
  const message = duckdbMessage(err, local).replace(/;? ?LINE \d+: [\s\S]*?; \^/, "");
  // A byte range's file starts at its first record: DuckDB's "Line: N" counts from there.
  const ranged = local.some((f) => f.split.format !== "parquet" && (f.split.range.start > 0 || f.split.range.end < f.split.fileSize));
  const reading = local.length > 0 ? ` reading ${local.slice(0, 5).map(splitName).join(", ")}${local.length > 5 ? `, ... (${local.length} splits)` : ""}${ranged ? " (DuckDB's line numbers count from each range's first record)" : ""}` : "";
  const f = duckdbFailure(err);
  return new SmelterError(`stage ${input.stage.id} (${input.stage.name}) failed in DuckDB${reading}: ${message}${f.hint ? `. ${f.hint}` : ""}`, { cause: err, type: f.type, nonRetryable: f.nonRetryable });
}

