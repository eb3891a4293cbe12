/**
 * A map-reduce over the engine: a map stage whose tasks hash-partition their output into R
 * segments in object storage (src/shuffle/), and a reduce stage of R tasks that each read their
 * partition from every winning map output. Reducers are queued from the start but held back
 * (their stage's concurrency limit) until every map task has been launched; then they may use
 * all slots but one while the last maps finish, fetching map outputs as they land; once the map
 * stage is done they use every slot. The job's work prefix is deleted at the end, whatever the
 * outcome, after `finalize` has read the reducers' outputs. Built on the multi-stage runner
 * (stages.ts).
 */
import { z } from "zod";
import { parseOrThrow, type StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import type { TaskResult } from "../scheduler/types.js";
import type { ObjectStore } from "../storage/contract.js";
import type { ShufflePlan } from "../shuffle/layout.js";
import { runStages } from "./stages.js";

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
  /** R: reduce tasks. See `derivePartitions` (src/shuffle/sizing.ts). */
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
  mapResults: TaskResult<unknown>[];
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
 * A two-stage {@link runStages}: the map stage shuffles, the reduce stage reads its partition.
 */
export async function runMapReduce<I, O, P = undefined, F = undefined>(
  manager: Manager,
  spec: MapReduceSpec<I, P>,
  hooks: { onJob?: (job: Job) => void; finalize?: (results: TaskResult<O, ReduceTaskInput>[], shuffle: ShufflePlan) => Promise<F> } = {},
): Promise<MapReduceRun<O, F>> {
  parseOrThrow(specSchema, { partitions: spec.partitions, format: spec.format }, "map-reduce spec");
  const run = await runStages(
    manager,
    {
      name: spec.name ?? "map-reduce",
      stages: [
        { name: spec.map.name ?? "map", worker: spec.map.worker, ...(spec.map.policy ? { policy: spec.map.policy } : {}), tasks: { inputs: spec.inputs }, reads: [], output: { kind: "shuffle", partitions: spec.partitions }, payload: (input, ctx): MapTaskInput<I> => ({ shuffle: ctx.shuffle, input: input as I }) },
        {
          name: spec.reduce.name ?? "reduce",
          worker: spec.reduce.worker,
          ...(spec.reduce.policy ? { policy: spec.reduce.policy } : {}),
          tasks: { count: spec.partitions },
          reads: [0],
          output: { kind: "opaque" },
          payload: (partition, ctx): ReduceTaskInput<P> => ({ shuffle: ctx.sources[0]!, partition: partition as number, outputPrefix: ctx.outputPrefix, params: spec.reduceParams as P }),
        },
      ],
      work: spec.work,
      format: spec.format,
      ...(spec.policy ? { policy: spec.policy } : {}),
    },
    {
      ...(hooks.onJob ? { onJob: hooks.onJob } : {}),
      finalize: async (results, shuffles) => (await hooks.finalize?.(results[1] as TaskResult<O, ReduceTaskInput>[], shuffles[0]!)) as F,
    },
  );
  const reduceResults = run.results[1] as TaskResult<O, ReduceTaskInput>[];
  return { job: run.job, shuffle: run.shuffles[0]!, mapTasks: run.results[0]!.length, mapResults: run.results[0]!, reduceResults, finalized: run.finalized };
}

// How many partitions (R) a shuffle gets is the shuffle's rule (src/shuffle/sizing.ts), shared
// with the SQL planner; re-exported for the map-reduce API.
export { derivePartitions, mergeOnCoordinator, partialBytes, REDUCER_BYTES } from "../shuffle/sizing.js";
