/**
 * A map-reduce over the engine: a map stage whose tasks hash-partition their output into R
 * segments in object storage (src/shuffle/), and a reduce stage of R tasks that each read their
 * partition from every winning map output. Reducers are queued from the start but held back
 * (their stage's concurrency limit) until every map task has been launched; then they may use
 * all slots but one while the last maps finish, fetching map outputs as they land; once the map
 * stage is done they use every slot. The job's work prefix is deleted at the end, whatever the
 * outcome, after `finalize` has read the reducers' outputs.
 */
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseOrThrow, type StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import type { TaskResult } from "../scheduler/types.js";
import type { ObjectStore } from "../storage/contract.js";
import { mapOutputSchema, type MapOutput, type ShufflePlan } from "../shuffle/layout.js";
import { publishComplete, publishMapOutput } from "../shuffle/manifest.js";

export interface StageSpec {
  /** The registered worker function. */
  worker: string | { name: string };
  /** Shown in progress. @default "map" / "reduce" */
  name?: string;
  policy?: StagePolicyInput;
}

/** What a map task receives. */
export interface MapTaskInput<I> {
  shuffle: ShufflePlan;
  input: I;
}

/** What a reduce task receives. */
export interface ReduceTaskInput<P = unknown> {
  shuffle: ShufflePlan;
  partition: number;
  /** Where the reducer writes its output: `<shuffle prefix>out/`. */
  outputPrefix: string;
  params: P;
}

export interface MapReduceSpec<I, P> {
  /** @default "map-reduce" */
  name?: string;
  /** Map task inputs (small JSON), e.g. packed splits; may stream in while the job runs. */
  inputs: Iterable<I> | AsyncIterable<I>;
  map: StageSpec;
  reduce: StageSpec;
  /** R: reduce tasks. See {@link derivePartitions}. */
  partitions: number;
  /** Where intermediate data lives: a store, its root URL (workers open it by URL), and a base prefix. */
  work: { store: ObjectStore; url: string; prefix?: string };
  /** Segment format, recorded in the plan (e.g. `parquet`). */
  format: string;
  /** Parameters passed to every reduce task (the reduce SQL, say). */
  reduceParams?: P;
  /** Policy defaults of both stages. */
  policy?: StagePolicyInput;
}

export interface MapReduceRun<O, F> {
  job: Job;
  shuffle: ShufflePlan;
  mapTasks: number;
  reduceResults: TaskResult<O, ReduceTaskInput>[];
  finalized: F;
}

const specSchema = z.object({
  partitions: z.number().int().min(1, "partitions must be at least 1").max(100_000),
  format: z.string().min(1),
});

/**
 * Runs a map-reduce job and `finalize`s it (reads the reducers' outputs) before the work
 * prefix is deleted. `onJob` is called as soon as the job exists (attach progress there).
 */
export async function runMapReduce<I, O, P = undefined, F = undefined>(
  manager: Manager,
  spec: MapReduceSpec<I, P>,
  hooks: { onJob?: (job: Job) => void; finalize?: (results: TaskResult<O, ReduceTaskInput>[], shuffle: ShufflePlan) => Promise<F> } = {},
): Promise<MapReduceRun<O, F>> {
  parseOrThrow(specSchema, { partitions: spec.partitions, format: spec.format }, "map-reduce spec");
  const job = manager.job({ name: spec.name ?? "map-reduce", ...(spec.policy ? { policy: spec.policy } : {}) });
  const base = spec.work.prefix ?? "_smelter/jobs/";
  const shuffle: ShufflePlan = { storeUrl: spec.work.url, prefix: `${base}${job.id}/`, stage: 1, partitions: spec.partitions, format: spec.format };
  const store = spec.work.store;
  const map = job.stage<MapTaskInput<I>, unknown>({ worker: spec.map.worker, name: spec.map.name ?? "map", ...(spec.map.policy ? { policy: spec.map.policy } : {}) });
  const reduce = job.stage<ReduceTaskInput<P>, O>({ worker: spec.reduce.worker, name: spec.reduce.name ?? "reduce", ...(spec.reduce.policy ? { policy: spec.reduce.policy } : {}) });
  hooks.onJob?.(job);

  // Reducers wait until every map task is launched, then leave one slot to the maps until they are done.
  const reduceLimit = reduce.maxConcurrentTasks;
  const holdReducers = () => {
    const c = map.counts;
    reduce.maxConcurrentTasks =
      c.closed && c.succeeded === c.total ? reduceLimit : c.closed && c.queued === 0 ? Math.min(reduceLimit, Math.max(1, manager.maxConcurrentTasks - 1)) : 0;
  };
  const offEvents = job.events.on((e) => {
    if ("stage" in e && e.stage === map.number) holdReducers();
  });
  holdReducers();

  let mapTasks = 0;
  let publishError: unknown;
  const publish = async () => {
    try {
      for await (const r of map.results()) {
        const output = checkMapOutput(r.output, shuffle, r.index);
        await publishMapOutput(store, shuffle, output);
        mapTasks++;
      }
      await publishComplete(store, shuffle, mapTasks);
    } catch (err) {
      if (job.state === "running") {
        publishError = err;
        await job.cancel(`the shuffle manifest could not be written: ${(err as Error).message}`);
      }
    }
  };

  try {
    void map.pushAll((async function* () {
      for await (const input of spec.inputs) yield { shuffle, input };
    })());
    void reduce.pushAll(
      Array.from({ length: spec.partitions }, (_, partition) => ({ shuffle, partition, outputPrefix: `${shuffle.prefix}out/`, params: spec.reduceParams as P })),
    );
    const collecting = reduce.collect();
    const [, reduceResults] = await Promise.all([publish(), collecting, job.wait()]).catch((err: unknown) => {
      throw publishError ?? err;
    });
    const finalized = (await hooks.finalize?.(reduceResults, shuffle)) as F;
    return { job, shuffle, mapTasks, reduceResults, finalized };
  } finally {
    offEvents();
    await store.deletePrefix(shuffle.prefix).catch(() => undefined);
  }
}

function checkMapOutput(value: unknown, shuffle: ShufflePlan, task: number): MapOutput {
  const r = mapOutputSchema.safeParse(value);
  if (!r.success) throw new ConfigError(`map task ${task} returned something that is not a map output (${r.error.issues[0]?.message}): a map worker must return what writeMapOutput() returns`);
  if (r.data.offsets.length !== shuffle.partitions + 1) throw new ConfigError(`map task ${task} wrote ${r.data.offsets.length - 1} partitions, not ${shuffle.partitions}`);
  if (!r.data.key.startsWith(shuffle.prefix)) throw new ConfigError(`map task ${task} wrote outside the job's shuffle prefix (${r.data.key})`);
  return r.data;
}

/**
 * R from bytes: enough reducers that each one's share of the map output fits `reducerBytes`,
 * and at least one per worker so every worker has a reducer. Capped at `max`.
 */
export function derivePartitions(o: { mapOutputBytes: number; reducerBytes?: number; workers: number; max?: number }): number {
  const reducerBytes = o.reducerBytes ?? 256 * 1024 * 1024;
  return Math.max(1, Math.min(o.max ?? 4096, Math.max(o.workers, Math.ceil(o.mapOutputBytes / reducerBytes))));
}
