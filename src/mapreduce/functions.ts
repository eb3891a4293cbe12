/**
 * Map-reduce with your own TypeScript functions (no SQL, no DuckDB): `defineMapReduce` registers
 * a map worker and a reduce worker under the job's name, and returns a job you `run` over a URL
 * or glob. The module that calls `defineMapReduce` must be the backend's `entry`, so that worker
 * threads and processes register the same functions (see examples/word-count.ts).
 *
 * Data flow (the same shuffle as Query 2, see docs/shuffle.md):
 * - input: discovered as a stream of splits (byte ranges of text objects, row groups of Parquet,
 *   whole compressed objects), packed into map tasks; records are read by records.ts.
 * - map: `map(record, emit)` for every record; each `emit(key, value)` goes to partition
 *   `hash(id(key)) % R` (a string key is its own id, any other key its JSON text: pair-segments.ts).
 *   With `combine`, a key's value is folded as it is emitted (`combine(key, [value, next])`), so
 *   a map task holds and ships one value per key. Segments are columnar (pair-segments.ts: key
 *   ids as one UTF-8 text, values as float64 or one JSON array), one object per map attempt.
 * - reduce: each of the R reducers reads its segment of every winning map output as they land.
 *   With `combine`, values are folded as they arrive (memory: one value per key); without it,
 *   segments are kept as bytes and read at the end in map-task order, so `reduce` sees the
 *   values of a key in a fixed order (map task, then emit order) whichever attempts won.
 *   `reduce(key, values)` returns one output record (or `undefined` to drop the key); keys are
 *   reduced in a fixed order (non-string keys by JSON text, then strings).
 * - output: each reducer writes its records under its own attempt key: as columns of strings,
 *   float64 or JSON when the records share one shape, else one JSON array (record-columns.ts),
 *   which the coordinator reads back into `records`, or, with `output`, as NDJSON, which it copies there as
 *   `part-NNNNN.ndjson`.
 *
 * Keys and values must survive JSON: keys are compared by their JSON text, so `{a:1,b:2}` and
 * `{b:2,a:1}` are different keys, and `undefined` values arrive as `null`.
 */
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseOrThrow, type StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import { shufflePlanSchema, type MapOutput } from "../shuffle/layout.js";
import { watchMapOutputs } from "../shuffle/manifest.js";
import { readSegment, writeMapOutput } from "../shuffle/segments.js";
import { listInput } from "../splits/listing.js";
import { packSplitStream } from "../splits/pack.js";
import { splitSchema } from "../splits/split.js";
import { cachedStore } from "../storage/cache.js";
import type { ObjectStore } from "../storage/contract.js";
import { RangedReader } from "../storage/ranged.js";
import { openStore } from "../storage/url.js";
import type { TaskContext } from "../task-runtime/context.js";
import { defineWorker } from "../task-runtime/registry.js";
import { defaultTaskBytes, workStore } from "./inputs.js";
import { decodeRecords, encodeRecords } from "./record-columns.js";
import { readRecordBatches, recordFormatSchema, type RecordFormat } from "./records.js";
import { runMapReduce, type MapReduceRun } from "./run.js";

export { hashText } from "./pair-groups.js";
import { derivePartitions } from "../shuffle/sizing.js";
import { MapPairs, ReduceGroups } from "./pair-groups.js";

export type Emit<K, V> = (key: K, value: V) => void;

export interface MapReduceFunctions<R, K, V, O> {
  /** Names the job and its workers (`<name>.map`, `<name>.reduce`). Letters, digits, `_ . : / -`. */
  name: string;
  /** How input records are read (records.ts). @default "auto" */
  records?: RecordFormat;
  /** `fail` (default): a malformed input record fails the job with its location. `skip`: counted as `badRecords`. */
  badRecords?: "fail" | "skip";
  /** Called once per input record; emit any number of key/value pairs. */
  map: (record: R, emit: Emit<K, V>, ctx: TaskContext) => void | Promise<void>;
  /** Folds values of one key into one. Must be associative and commutative (it runs in map and reduce tasks, in any order; today on two values at a time). */
  combine?: (key: K, values: V[]) => V;
  /** The output record of one key, from all its values; `undefined` drops the key. */
  reduce: (key: K, values: V[], ctx: TaskContext) => O | undefined | Promise<O | undefined>;
}

export const functionRunOptionsSchema = z.strictObject({
  /** The input: a prefix or glob URL in any store (`s3://bucket/logs/*.ndjson`, `file:///data/`, a local path). */
  input: z.string().min(1),
  /** R. @default derived from the input's bytes: one reducer per 64 MiB ({@link FUNCTION_REDUCER_BYTES}), at least one per worker */
  partitions: z.number().int().min(1).max(4096).optional(),
  /** Where intermediate data goes (a store URL). @default the input's store under `_smelter/jobs/`; a temp dir for local input */
  work: z.string().min(1).optional(),
  /** Write the output as `part-NNNNN.ndjson` objects under this URL prefix (must hold no objects yet) instead of returning `records`. */
  output: z.string().min(1).optional(),
  /** Input bytes per map task. @default at least two tasks per worker, 4 to 64 MiB each */
  targetTaskBytes: z.number().int().min(1024).optional(),
});
export type FunctionRunOptions = z.input<typeof functionRunOptionsSchema>;

export interface FunctionRun<O> {
  job: Job;
  /** The output records (reducer by reducer), unless `output` was given. */
  records?: O[];
  /** URLs of the objects written under `output`. */
  outputUrls?: string[];
  partitions: number;
  mapTasks: number;
  inputBytes: number;
  /** Summed over the winning attempts: records, badRecords, emitted (pairs), shuffledPairs (after combine), outputRecords. */
  counters: Record<string, number>;
  run: MapReduceRun<unknown, unknown>;
}

export interface MapReduceJob<O> {
  readonly name: string;
  /** Runs the job on `manager` (whose backend's `entry` is the module that defined it). */
  run(manager: Manager, options: FunctionRunOptions, hooks?: { onJob?: (job: Job) => void; policy?: StagePolicyInput }): Promise<FunctionRun<O>>;
}

const mapPayloadSchema = z.object({
  shuffle: shufflePlanSchema,
  input: z.object({ storeUrl: z.string().min(1), splits: z.array(splitSchema) }),
});
/**
 * `params.as`: how a reducer writes its records. `ndjson` (one JSON text per line) when they are
 * copied to `output` as `part-NNNNN.ndjson`; `records` (record-columns.ts: columns, or one JSON
 * array) when the coordinator reads them back as `records`: no JSON text per record.
 */
const reducePayloadSchema = z.object({
  shuffle: shufflePlanSchema,
  partition: z.number().int().min(0),
  outputPrefix: z.string().min(1),
  params: z.strictObject({ as: z.enum(["ndjson", "records"]) }).default({ as: "ndjson" }),
});
const reduceOutputSchema = z.object({ key: z.string().nullable(), records: z.number().int().min(0), bytes: z.number().int().min(0) });

const encoder = new TextEncoder();

/**
 * Input bytes per reducer when R is not given: 64 MiB, a quarter of the DuckDB paths' budget
 * (shuffle/sizing.ts). A reducer folds its keys in a JS Map, and its cost grows faster than its
 * keys (the garbage collector copies and marks every key it holds, on every collection): Query 2A
 * as functions (5M rows, 847 MB, ~2M keys, 2 workers) spent 2.40-2.62 CPU-s in reduce tasks with
 * R = 4, 2.04-2.17 with R = 8, and the whole job 5.4-5.7 CPU-s with R = 7 against 5.0-5.3 with
 * R = 14 (docs/performance.md). More reducers cost more segment reads (map tasks x R, each a
 * request through S3): 64 MiB doubles them against 128 MiB; 32 MiB measured no better (R = 28).
 */
export const FUNCTION_REDUCER_BYTES = 64 * 1024 * 1024;

/**
 * Defines a map-reduce job from functions. Call it at the top level of the module you pass as
 * the backend's `entry`, so every worker registers the same functions.
 */
export function defineMapReduce<R = unknown, K = unknown, V = unknown, O = unknown>(fns: MapReduceFunctions<R, K, V, O>): MapReduceJob<O> {
  const records = parseOrThrow(recordFormatSchema, fns.records ?? "auto", `${fns.name}: records`);
  const badRecords = fns.badRecords ?? "fail";
  if (typeof fns.map !== "function" || typeof fns.reduce !== "function") throw new ConfigError(`${fns.name}: map and reduce must be functions`);

  const mapWorker = defineWorker(`${fns.name}.map`, async (raw: unknown, ctx: TaskContext): Promise<MapOutput> => {
    const p = parseOrThrow(mapPayloadSchema, raw, `${fns.name}.map task input`);
    const [input, work] = await Promise.all([cachedStore(p.input.storeUrl), cachedStore(p.shuffle.storeUrl)]);
    const reader = new RangedReader(input, { clock: ctx.clock });
    const pairs = new MapPairs<K, V>(fns.combine, p.shuffle.partitions);
    const emit: Emit<K, V> = (key, value) => pairs.add(key, value);
    for (const split of p.input.splits) {
      const batches = readRecordBatches(input, split, {
        format: records,
        badRecords,
        signal: ctx.signal,
        onBadRecord: (message) => {
          ctx.count("badRecords");
          ctx.log(message);
        },
        reader,
      });
      for await (const batch of batches) {
        ctx.count("records", batch.length);
        for (const record of batch) {
          const r = fns.map(record as R, emit, ctx);
          if (r instanceof Promise) await r;
        }
        ctx.heartbeat();
      }
      reader.reportTo((name, delta) => ctx.count(name, delta));
    }
    ctx.count("emitted", pairs.emitted);
    const { segments, rows } = pairs.encode();
    ctx.count("shuffledPairs", rows.reduce((a, b) => a + b, 0));
    return writeMapOutput(work, p.shuffle, { task: ctx.task, attempt: ctx.attempt }, segments, { rows, ctx });
  });

  const reduceWorker = defineWorker(`${fns.name}.reduce`, async (raw: unknown, ctx: TaskContext) => {
    const p = parseOrThrow(reducePayloadSchema, raw, `${fns.name}.reduce task input`);
    const work = await cachedStore(p.shuffle.storeUrl);
    const groups = new ReduceGroups<K, V>(fns.combine);
    const held: { task: number; bytes: Uint8Array; key: string }[] = [];
    for await (const out of watchMapOutputs(work, p.shuffle, { signal: ctx.signal, clock: ctx.clock, onWait: () => ctx.heartbeat() })) {
      const bytes = await readSegment(work, out, p.partition, { ctx });
      if (fns.combine) groups.addSegment(bytes, out.key);
      else held.push({ task: out.task, bytes, key: out.key });
    }
    for (const h of held.sort((a, b) => a.task - b.task)) groups.addSegment(h.bytes, h.key);
    const out: O[] = [];
    const keep = (record: O | undefined) => {
      if (record === undefined) return;
      if (typeof record === "function" || typeof record === "symbol") throw new TypeError(`${fns.name}: reduce returned a ${typeof record}, which JSON cannot hold; return strings, numbers, booleans, arrays or plain objects`);
      out.push(record);
    };
    await groups.drain((key, values) => {
      const record = fns.reduce(key, values, ctx);
      if (record instanceof Promise) return record.then(keep);
      keep(record);
    });
    ctx.count("outputRecords", out.length);
    if (out.length === 0) return { key: null, records: 0, bytes: 0 };
    const ndjson = p.params.as === "ndjson";
    const body = ndjson ? encoder.encode(`${out.map((r) => JSON.stringify(r)).join("\n")}\n`) : encodeRecords(out);
    const key = `${p.outputPrefix}r${String(p.partition).padStart(5, "0")}-a${ctx.attempt}.${ndjson ? "ndjson" : "records"}`;
    await work.put(key, body, { signal: ctx.signal, contentType: ndjson ? "application/x-ndjson" : "application/octet-stream" });
    ctx.count("bytesWritten", body.byteLength);
    ctx.count("writeRequests");
    return { key, records: out.length, bytes: body.byteLength };
  });

  return {
    name: fns.name,
    run: (manager, options, hooks = {}) => runFunctions<O>(manager, fns.name, { map: mapWorker.name, reduce: reduceWorker.name }, options, { ...hooks, whole: typeof records === "object" && records.csv.whole }),
  };
}

async function runFunctions<O>(manager: Manager, name: string, workers: { map: string; reduce: string }, options: FunctionRunOptions, hooks: { onJob?: (job: Job) => void; policy?: StagePolicyInput; whole?: boolean }): Promise<FunctionRun<O>> {
  const o = parseOrThrow(functionRunOptionsSchema, options, `${name} options`);
  const input = await openStore(o.input, { context: manager.context });
  const output = o.output ? await emptyOutput(o.output) : undefined;
  const work = await workStore(o.work, input.store, manager.context);
  const listing = await listInput(input.store, input.key, { rowGroups: true, whole: hooks.whole === true });
  if (listing.objects === 0) throw new ConfigError(`no input objects at ${o.input}: check the URL (a prefix like s3://bucket/logs/ or a glob like data/*.ndjson)`);
  const workersN = manager.maxConcurrentTasks;
  const partitions = o.partitions ?? derivePartitions({ mapOutputBytes: listing.bytes, reducerBytes: FUNCTION_REDUCER_BYTES, workers: workersN });
  const taskBytes = o.targetTaskBytes ?? defaultTaskBytes(listing.bytes, workersN);
  // records { csv: { whole: true } }: each object one split, never cut (quoted fields with newlines).
  const splits = listing.splits;
  const inputs = (async function* () {
    for await (const t of packSplitStream(splits, { targetBytesPerTask: taskBytes })) yield { storeUrl: input.store.url, splits: t.splits };
  })();
  const run = await runMapReduce(
    manager,
    {
      name,
      inputs,
      map: { worker: workers.map },
      reduce: { worker: workers.reduce },
      partitions,
      work: { store: work.store, url: work.store.url, prefix: work.prefix },
      format: "smelter-pairs-v1",
      reduceParams: { as: output ? "ndjson" : "records" },
      ...(hooks.policy ? { policy: hooks.policy } : {}),
    },
    {
      ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
      finalize: async (results) => {
        const outs = results.map((r) => parseOrThrow(reduceOutputSchema, r.output, `${name} reduce task ${r.index} result`));
        if (output) return { outputUrls: await copyParts(work.store, outs, output) };
        const records: O[] = [];
        for (const out of outs) if (out.key) for (const x of decodeRecords(await work.store.get(out.key), out.records, out.key)) records.push(x as O);
        return { records };
      },
    },
  );
  const counters: Record<string, number> = {};
  for (const r of [...run.mapResults, ...run.reduceResults]) for (const [k, v] of Object.entries(r.stats.counters)) counters[k] = (counters[k] ?? 0) + (v as number);
  const fin = run.finalized as { records?: O[]; outputUrls?: string[] };
  return { job: run.job, ...fin, partitions, mapTasks: run.mapTasks, inputBytes: listing.bytes, counters, run: run as MapReduceRun<unknown, unknown> };
}

/** Opens `url` as an output prefix and checks that it holds no objects (stale parts would mix in). */
async function emptyOutput(url: string): Promise<{ store: ObjectStore; prefix: string }> {
  const { store, key } = await openStore(url);
  const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
  for await (const info of store.list(prefix)) {
    throw new ConfigError(`output ${url} already holds objects (${info.key}): choose an empty prefix, or delete what is there`);
  }
  return { store, prefix };
}

async function copyParts(work: ObjectStore, outs: z.output<typeof reduceOutputSchema>[], output: { store: ObjectStore; prefix: string }): Promise<string[]> {
  const keys: string[] = [];
  for (const [r, out] of outs.entries()) {
    if (!out.key) continue;
    const key = `${output.prefix}part-${String(r).padStart(5, "0")}.ndjson`;
    await output.store.put(key, await work.get(out.key), { contentType: "application/x-ndjson" });
    keys.push(`${output.store.url.replace(/\/?$/, "/")}${key}`);
  }
  return keys;
}
