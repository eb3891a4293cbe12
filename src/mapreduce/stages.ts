/**
 * A multi-stage job over the engine, with shuffles through object storage (src/shuffle/): the
 * general form of a map-reduce (run.ts sits on it). Each stage is a job stage; its tasks either
 * come from an input stream (say, packed splits) or are one per partition of an earlier stage.
 *
 * - A stage with `output: "shuffle"` writes R segments per attempt as one object
 *   (`<prefix>s<NN>/t<task>-a<attempt>.seg`) and returns what `writeMapOutput` returns. The
 *   coordinator checks it and, when another stage reads this one, publishes the WINNING attempt of
 *   each task in the stage's manifest, then `_complete`. Readers list the manifest as outputs
 *   land, so only winners are ever read. A gathered stage is a shuffle stage with R = 1 whose
 *   winners the caller reads (`finalize`).
 * - A stage with `output: "opaque"` returns whatever its worker returns, handed to `finalize`.
 * - Pipelining: a stage that reads other stages is created with `after: <its producers>,
 *   reserveSlots: 1` (the scheduler's stage dependencies): its tasks are queued from the start
 *   but none launches until every producer (transitively) has launched all its tasks; then the
 *   waiting stages share all slots but one (so a producer's retry always finds a slot), and a
 *   stage whose producers all succeeded gets its full limit.
 * - The job's temporaries are removed at the end, whatever the outcome, after `finalize`: its
 *   work prefix (with any multipart upload left open under it) and its local temp directory
 *   (attempts' files: `jobTempDir`). Until then they are registered (src/job/temporaries.ts), so
 *   what cannot be removed (the store is gone) is reported with the command that removes it later.
 *
 * The scheduler side only: no DuckDB, no SQL.
 */
import { ConfigError } from "../job/errors.js";
import type { StagePolicyInput } from "../job/policy.js";
import type { Job } from "../scheduler/job.js";
import type { Manager } from "../scheduler/manager.js";
import type { Stage } from "../scheduler/stage.js";
import type { TaskResult } from "../scheduler/types.js";
import type { ObjectStore } from "../storage/contract.js";
import { mapOutputSchema, type MapOutput, type ShufflePlan } from "../shuffle/layout.js";
import { publishComplete, publishMapOutput } from "../shuffle/manifest.js";
import { jobTempDir, removeTemporary, temporaries, type Temporary } from "../job/temporaries.js";
import { removeTemporaryNow } from "../outputs/cleanup.js";

/** Where a task of a stage writes and reads, handed to `payload`. */
export interface StageTaskContext {
  /** This stage's own output (its shuffle plan; for an opaque stage, a plan nobody reads). */
  shuffle: ShufflePlan;
  /** Shuffle plans of the stages this one reads, in `reads` order. */
  sources: ShufflePlan[];
  /** Where an opaque stage may write its own objects: `<job prefix>out/`. */
  outputPrefix: string;
}

export interface RunStageSpec {
  /** Shown in progress. */
  name: string;
  /** The registered worker function. */
  worker: string | { name: string };
  policy?: StagePolicyInput;
  /** Task inputs, streamed (`{ inputs }`), or one task per partition `0..count-1` (`{ count }`). */
  tasks: { inputs: Iterable<unknown> | AsyncIterable<unknown> } | { count: number };
  /** Indexes (0-based, earlier in the list) of the stages this one reads. */
  reads: number[];
  /** `shuffle`: tasks return map outputs of `partitions` segments. `opaque`: anything. */
  output: { kind: "shuffle"; partitions: number } | { kind: "opaque" };
  /** The payload of one task from its input (`{ inputs }`) or partition number (`{ count }`). */
  payload: (task: unknown, ctx: StageTaskContext) => unknown | Promise<unknown>;
}

export interface RunStagesSpec {
  /** @default "stages" */
  name?: string;
  stages: RunStageSpec[];
  /** Where intermediate data lives: a store, its root URL (workers open it by URL), and a base prefix. */
  work: { store: ObjectStore; url: string; prefix?: string };
  /** Segment format, recorded in the shuffle plans (e.g. `parquet`). */
  format: string;
  /** Policy defaults of every stage. */
  policy?: StagePolicyInput;
  /** Whether attempts may leave files in this machine's job temp dir (`jobTempDir`), removed at the end; false where no attempt runs here (a simulation). @default true */
  localTempDir?: boolean;
}

export interface StagesRun<F> {
  job: Job;
  /** The shuffle plan of each stage (its output location). */
  shuffles: ShufflePlan[];
  /** The winning results of each stage, in task order. */
  results: TaskResult<unknown>[][];
  finalized: F;
}

/**
 * Runs the stages as one job and `finalize`s (reads what the last stages wrote) before the work
 * prefix is deleted. `onJob` is called as soon as the job exists (attach progress there).
 * Rejects with the job's error (a TaskFailedError names the task and every attempt).
 */
export async function runStages<F = undefined>(
  manager: Manager,
  spec: RunStagesSpec,
  hooks: { onJob?: (job: Job) => void; finalize?: (results: TaskResult<unknown>[][], shuffles: ShufflePlan[]) => Promise<F> } = {},
): Promise<StagesRun<F>> {
  checkSpec(spec);
  const job = manager.job({ name: spec.name ?? "stages", ...(spec.policy ? { policy: spec.policy } : {}) });
  const prefix = `${spec.work.prefix ?? "_smelter/jobs/"}${job.id}/`;
  const store = spec.work.store;
  const shuffles: ShufflePlan[] = spec.stages.map((s, i) => ({ storeUrl: spec.work.url, prefix, stage: i + 1, partitions: s.output.kind === "shuffle" ? s.output.partitions : 1, format: spec.format }));
  const stages: Stage<unknown, unknown>[] = [];
  for (const s of spec.stages) {
    const after = s.reads.map((r) => stages[r]!);
    stages.push(job.stage({ worker: s.worker, name: s.name, ...(s.policy ? { policy: s.policy } : {}), ...(after.length ? { after, reserveSlots: 1 } : {}) }));
  }
  const consumed = new Set(spec.stages.flatMap((s) => s.reads));
  const own: Temporary[] = [{ kind: "prefix", store: spec.work.url, prefix }, ...(spec.localTempDir === false ? [] : [{ kind: "dir" as const, path: jobTempDir(job.id) }])];
  const releases = own.map((t) => temporaries.add(t));
  hooks.onJob?.(job);

  let collectError: unknown;
  let succeeded = false;
  const collect = async (i: number): Promise<TaskResult<unknown>[]> => {
    const out: TaskResult<unknown>[] = [];
    const s = spec.stages[i]!;
    try {
      for await (const r of stages[i]!.results()) {
        if (s.output.kind === "shuffle") {
          const output = checkOutput(r.output, shuffles[i]!, r.index, s.name);
          if (consumed.has(i)) await publishMapOutput(store, shuffles[i]!, output);
        }
        out.push(r);
      }
      if (consumed.has(i)) await publishComplete(store, shuffles[i]!, out.length);
    } catch (err) {
      if (job.state === "running") {
        collectError = err;
        await job.cancel(`stage ${s.name}: ${(err as Error).message}`);
      }
      throw err;
    }
    return out.sort((a, b) => a.index - b.index);
  };

  try {
    spec.stages.forEach((s, i) => {
      const ctx: StageTaskContext = { shuffle: shuffles[i]!, sources: s.reads.map((r) => shuffles[r]!), outputPrefix: `${prefix}out/` };
      const inputs = "count" in s.tasks ? Array.from({ length: s.tasks.count }, (_, p) => p) : s.tasks.inputs;
      void stages[i]!.pushAll((async function* () {
        for await (const input of inputs) yield await s.payload(input, ctx);
      })());
    });
    const [results] = await Promise.all([Promise.all(spec.stages.map((_, i) => collect(i))), job.wait()]).catch((err: unknown) => {
      throw collectError ?? err;
    });
    const finalized = (await hooks.finalize?.(results, shuffles)) as F;
    succeeded = true;
    return { job, shuffles, results, finalized };
  } finally {
    // A failure leaves the piece registered: the caller (the CLI) reports it with `smelter clean`.
    for (const [i, t] of own.entries()) await removeTemporary(releases[i]!, () => removeTemporaryNow(t, t.kind === "prefix" ? store : undefined, { afterStop: !succeeded, clock: job.context.clock }));
    // What the backend made for the job elsewhere (a remote backend's envelopes and replies under its store).
    for (const { temporary, release } of temporaries.ofJob(job.id)) await removeTemporary(release, () => removeTemporaryNow(temporary, undefined, { afterStop: !succeeded, clock: job.context.clock }));
  }
}

function checkSpec(spec: RunStagesSpec): void {
  if (spec.stages.length === 0) throw new ConfigError("a job needs at least one stage");
  spec.stages.forEach((s, i) => {
    for (const r of s.reads) if (!Number.isInteger(r) || r < 0 || r >= i) throw new ConfigError(`stage ${i + 1} (${s.name}) reads stage index ${r}: a stage reads only stages before it`);
    if (s.output.kind === "shuffle" && !(Number.isInteger(s.output.partitions) && s.output.partitions >= 1 && s.output.partitions <= 100_000)) throw new ConfigError(`stage ${i + 1} (${s.name}): partitions must be 1 to 100000 (got ${s.output.partitions})`);
    if ("count" in s.tasks && !(Number.isInteger(s.tasks.count) && s.tasks.count >= 0)) throw new ConfigError(`stage ${i + 1} (${s.name}): task count must be a whole number (got ${s.tasks.count})`);
  });
}

function checkOutput(value: unknown, shuffle: ShufflePlan, task: number, stage: string): MapOutput {
  const r = mapOutputSchema.safeParse(value);
  if (!r.success) throw new ConfigError(`${stage} task ${task} returned something that is not a map output (${r.error.issues[0]?.message}): a shuffle worker must return what writeMapOutput() returns`);
  if (r.data.offsets.length !== shuffle.partitions + 1) throw new ConfigError(`${stage} task ${task} wrote ${r.data.offsets.length - 1} partitions, not ${shuffle.partitions}`);
  if (!r.data.key.startsWith(shuffle.prefix)) throw new ConfigError(`${stage} task ${task} wrote outside the job's shuffle prefix (${r.data.key})`);
  return r.data;
}
