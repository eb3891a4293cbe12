/**
 * Query 2 of the Big Data Benchmark, simulated: the real planner's sizing (bytes per map task,
 * R, coordinator merge or reducers: the same functions mapreduce/query2.ts calls), the real
 * packer over synthetic splits, the real map-reduce runner (runMapReduce / runStages: stage
 * dependencies, manifests of winning attempts) and the real Manager with its retry,
 * speculation and capacity policies, on a VirtualClock, against a simulated backend and store.
 * Tasks do no work: the task model gives their durations (docs/simulation.md).
 */
import { Manager } from "../scheduler/manager.js";
import { createRuntimeContext, VirtualClock } from "../job/runtime-context.js";
import type { StagePolicyInput } from "../job/policy.js";
import type { TaskEnvelope } from "../job/attempt.js";
import { memoryStore, clearMemoryStore } from "../storage/memory.js";
import { defaultTaskBytes, mapTaskInputs } from "../mapreduce/inputs.js";
import { derivePartitions, mergeOnCoordinator, partialBytes, runMapReduce } from "../mapreduce/run.js";
import { runStages } from "../mapreduce/stages.js";
import { mapOutputKey, type ShufflePlan } from "../shuffle/layout.js";
import type { Split } from "../splits/split.js";
import type { Job } from "../scheduler/job.js";
import type { SmelterEvent } from "../job/events.js";
import { simulatedBackend, type SimBody, type SimWorker } from "./backend.js";
import { localS3Model, platformModels, query2TaskModel, s3Model, type PlatformName, type StoreModel, type TaskModel } from "./models.js";
import { SimStore, sumCounters, type StoreCounters } from "./store-model.js";

export interface Query2SimOptions {
  platform: PlatformName;
  workers: number;
  memoryMb: number;
  /** Input bytes (uservisits CSV). */
  inputBytes: number;
  /** Input objects (equal sizes). @default one per 256 MiB */
  objects?: number;
  /** R; @default the planner's rule */
  partitions?: number;
  /** Bytes per map task; @default the planner's rule (defaultTaskBytes) */
  targetTaskBytes?: number;
  speculation: boolean;
  /** Hedged reads (the ranged reader's hedgeAfter 3). */
  hedging: boolean;
  stragglers?: { rate: number; factor: number };
  stalledReads?: { rate: number; ms: number };
  failureRate?: number;
  preemptionsPerHour?: number;
  /** Caps the distinct groups of 2A (the result's rows) in the whole input and in any task. @default the task model's (measured power law, at most 16.7M) */
  groups?: number;
  /** Overrides the store's GET requests/s per prefix. */
  prefixGetRate?: number;
  seed: number;
  /** Policy used when `speculation` is on. @default SPECULATION */
  speculationPolicy?: StagePolicyInput["speculation"];
  /** Sees every job event (virtual times), e.g. to draw a timeline. */
  onEvent?: (event: SmelterEvent) => void;
}

export interface SimResult {
  /** Virtual seconds from the job's start to the result in the coordinator; undefined when the job failed. */
  seconds: number | undefined;
  failed?: string;
  cost: number;
  computeCost: number;
  requestCost: number;
  mapTasks: number;
  /** R; 0 when the coordinator merged the map outputs. */
  partitions: number;
  store: StoreCounters;
  attempts: number;
  coldStarts: number;
  noCapacity: number;
  speculated: number;
  retried: number;
  stragglers: number;
  /** Real milliseconds the simulation took. */
  simulatedInMs: number;
}

/** Smelter's speculation settings in a simulation: duplicate an attempt running 2x the median. */
export const SPECULATION: NonNullable<StagePolicyInput["speculation"]> = { slowerThanMedian: 2, minFinished: 5 };

const MIB = 1024 * 1024;
const INPUT_PREFIX = "uservisits/";
let runs = 0;

export async function simulateQuery2(o: Query2SimOptions): Promise<SimResult> {
  const started = performance.now();
  const platform = platformModels[o.platform];
  const baseStore: StoreModel = o.platform === "processes" ? localS3Model : s3Model;
  const storeModel: StoreModel = {
    ...baseStore,
    ...(o.stalledReads ? { stallRate: o.stalledReads.rate, stallMs: o.stalledReads.ms } : {}),
    ...(o.prefixGetRate !== undefined ? { getRatePerPrefix: o.prefixGetRate } : {}),
  };
  const task: TaskModel = o.groups === undefined ? query2TaskModel : { ...query2TaskModel, groups: (rows) => Math.min(o.groups!, query2TaskModel.groups(rows)) };
  const clock = new VirtualClock();
  const context = createRuntimeContext({ clock, seed: o.seed });
  const store = new SimStore(storeModel, context.random, o.hedging ? { hedgeAfter: 3, minHedgeDelayMs: 10 } : { hedgeAfter: 0, minHedgeDelayMs: 10 });

  // The planner's choices, by the real rules (mapreduce/query2.ts).
  const workers = Math.min(o.workers, platform.concurrencyLimit);
  const onCoordinator = o.partitions === undefined && mergeOnCoordinator(o.inputBytes);
  const partitions = o.partitions ?? (onCoordinator ? 1 : derivePartitions({ mapOutputBytes: partialBytes(o.inputBytes), workers }));
  const taskBytes = o.targetTaskBytes ?? defaultTaskBytes(o.inputBytes, workers);
  const totalRows = o.inputBytes / task.bytesPerRow;

  // What the map stage produced (winners), for the reducers and the coordinator.
  let mapTasks = 0;
  let partialTotal = 0;
  let mapsDone!: () => void;
  const mapsDonePromise = new Promise<void>((r) => (mapsDone = r));

  const mapWorker: SimWorker = (env: TaskEnvelope, worker) => {
    const input = env.input as { shuffle: ShufflePlan; input: { bytes: number } };
    const w = worker();
    const bytes = input.input.bytes;
    const rows = bytes / task.bytesPerRow;
    const read = store.read(w.now, INPUT_PREFIX, bytes, w.bandwidth, w.running);
    if (read.failed) return { ms: read.ms, failed: read.failed, counters: read.counters };
    const cpuMs = task.taskOverheadMs + ((bytes / 1e9) * task.mapCpuSecondsPerGb * 1000) / w.cpus;
    const outBytes = Math.round(task.groups(rows) * task.bytesPerGroup);
    const write = store.write(w.now, input.shuffle.prefix, outBytes, w.uploadBandwidth);
    const counters = sumCounters(read.counters, write.counters);
    // DuckDB scans while the reader fetches: the slower of the two, then the partial's upload.
    const ms = Math.max(read.ms, cpuMs) + write.ms;
    if (write.failed) return { ms, failed: write.failed, counters };
    const r = input.shuffle.partitions;
    const offsets = Array.from({ length: r + 1 }, (_, i) => Math.round((outBytes * i) / r));
    return { ms, counters, output: { task: env.task, attempt: env.attempt, key: mapOutputKey(input.shuffle, env.task, env.attempt), offsets } };
  };

  const reduceWorker: SimWorker = async (env: TaskEnvelope, worker) => {
    // A reducer fetches map outputs as they land; modelled as one fetch once the map stage is done.
    await mapsDonePromise;
    const input = env.input as { shuffle: ShufflePlan; outputPrefix: string };
    const w = worker();
    const bytes = partialTotal / partitions;
    const read = store.read(w.now, input.shuffle.prefix, bytes, w.bandwidth, w.running, mapTasks);
    if (read.failed) return { ms: read.ms, failed: read.failed, counters: read.counters };
    const cpuMs = task.taskOverheadMs + ((bytes / 1e9) * task.mergeCpuSecondsPerGb * 1000) / w.cpus;
    const outBytes = (task.groups(totalRows) * task.bytesPerGroup) / partitions;
    const write = store.write(w.now + read.ms + cpuMs, input.outputPrefix, outBytes, w.uploadBandwidth);
    const body: SimBody = { ms: read.ms + cpuMs + write.ms, counters: sumCounters(read.counters, write.counters), output: { key: `${input.outputPrefix}part-${env.task}.parquet` } };
    if (write.failed) body.failed = write.failed;
    return body;
  };

  const backend = simulatedBackend({
    platform,
    workers,
    memoryMb: o.memoryMb,
    workerFns: { "simulate.map": mapWorker, "simulate.reduce": reduceWorker },
    ...(o.stragglers ? { stragglers: o.stragglers } : {}),
    ...(o.failureRate !== undefined ? { failureRate: o.failureRate } : {}),
    ...(o.preemptionsPerHour !== undefined ? { preemptionsPerHour: o.preemptionsPerHour } : {}),
  });
  const manager = new Manager({ backend, context, maxConcurrentTasks: workers });
  const policy: StagePolicyInput | undefined = o.speculation ? { speculation: o.speculationPolicy ?? SPECULATION } : undefined;
  const name = `simulate-${++runs}`;
  const work = { store: memoryStore(name), url: `memory://${name}`, prefix: "_smelter/jobs/" };
  const inputs = mapInputs(o.inputBytes, o.objects ?? Math.max(1, Math.round(o.inputBytes / (256 * MIB))), taskBytes);
  let job: Job | undefined;
  const onJob = (j: Job): void => {
    job = j;
    j.events.on((e) => {
      o.onEvent?.(e);
      if (e.type === "attempt-succeeded" && e.won && e.stage === 1) {
        mapTasks++;
        partialTotal += Number(e.stats.counters.bytesWritten ?? 0);
      }
      if (e.type === "stage-done" && e.stage === 1) mapsDone();
    });
  };
  // The coordinator: reads the reducers' outputs (or merges the map outputs) into its DuckDB.
  const coordinator = async (keys: number, bytes: number, mergeCpuPerGb: number): Promise<void> => {
    const now = clock.now();
    const read = store.read(now, "_smelter/jobs/", bytes, COORDINATOR_BANDWIDTH, 1, keys);
    await clock.sleep(read.ms + (bytes / 1e9) * mergeCpuPerGb * 1000);
  };

  const t0 = clock.now();
  let failed: string | undefined;
  try {
    await clock.run(async () => {
      if (onCoordinator) {
        await runStages(
          manager,
          { name, stages: [{ name: "map", worker: "simulate.map", tasks: { inputs }, reads: [], output: { kind: "shuffle", partitions: 1 }, payload: (input, ctx) => ({ shuffle: ctx.shuffle, input }) }], work, format: "parquet", ...(policy ? { policy } : {}) },
          { onJob, finalize: async (results) => coordinator(results[0]!.length, partialTotal, task.mergeCpuSecondsPerGb) },
        );
      } else {
        await runMapReduce(
          manager,
          { name, inputs, map: { worker: "simulate.map", name: "map" }, reduce: { worker: "simulate.reduce", name: "reduce" }, partitions, work, format: "parquet", ...(policy ? { policy } : {}) },
          { onJob, finalize: async (results) => coordinator(results.length, task.groups(totalRows) * task.bytesPerGroup, 1) },
        );
      }
    });
  } catch (err) {
    failed = (err as Error).message;
  } finally {
    clearMemoryStore(name);
  }
  const seconds = failed ? undefined : (clock.now() - t0) / 1000;
  const counts = job?.stages.map((s) => s.counts) ?? [];
  const requestCost = store.totals.gets * storeModel.price.perGet + store.totals.puts * storeModel.price.perPut;
  const result: SimResult = {
    seconds,
    cost: backend.ledger.computeCost + requestCost,
    computeCost: backend.ledger.computeCost,
    requestCost,
    mapTasks: counts[0]?.total ?? 0,
    partitions: onCoordinator ? 0 : partitions,
    store: { ...store.totals },
    attempts: backend.ledger.attempts,
    coldStarts: backend.ledger.coldStarts,
    noCapacity: backend.ledger.noCapacity,
    speculated: counts.reduce((a, c) => a + c.speculated, 0),
    retried: counts.reduce((a, c) => a + c.retried, 0),
    stragglers: backend.ledger.stragglers,
    simulatedInMs: performance.now() - started,
  };
  if (failed) result.failed = failed;
  return result;
}

/** The coordinator's download bandwidth (a laptop or an instance near the bucket): assumed 100 MB/s. */
const COORDINATOR_BANDWIDTH = 100e6;

/** Synthetic splits of `objects` equal CSV objects, packed by the real packer: only their bytes ride in the payload. */
async function* mapInputs(inputBytes: number, objects: number, taskBytes: number): AsyncIterable<{ bytes: number }> {
  function* splits(): Iterable<Split> {
    for (let i = 0; i < objects; i++) {
      const size = Math.floor(inputBytes / objects) + (i < inputBytes % objects ? 1 : 0);
      yield { key: `${INPUT_PREFIX}part-${String(i).padStart(5, "0")}`, format: "csv", range: { start: 0, end: size }, fileSize: size };
    }
  }
  for await (const t of mapTaskInputs(toAsync(splits()), taskBytes)) yield { bytes: t.bytes };
}

async function* toAsync<T>(it: Iterable<T>): AsyncIterable<T> {
  yield* it;
}
