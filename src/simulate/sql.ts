/**
 * A SQL query, simulated: the real planner (planQuery: strategy, R, join strategy, coordinator
 * merge or reducers) over the tables' shapes, the real task preparation (prepareQuery: task bytes,
 * splits cut and packed by the real packer) over a synthetic listing of equal objects, the
 * executor's stage graph (stageShape, src/query/execute.ts) on the real multi-stage runner
 * (runStages: stage dependencies with reserveSlots, manifests of winning attempts) and the real
 * Manager with its retry, speculation and capacity policies, on a VirtualClock, against a
 * simulated backend and store. Tasks do no work: the task model (sql-model.ts) gives what each
 * reads, computes and writes. `smelter explain` over the same listing shows the same tasks.
 */
import { Manager } from "../scheduler/manager.js";
import { createRuntimeContext, VirtualClock } from "../job/runtime-context.js";
import type { StagePolicyInput } from "../job/policy.js";
import type { TaskEnvelope } from "../job/attempt.js";
import type { SmelterEvent } from "../job/events.js";
import { memoryStore, clearMemoryStore } from "../storage/memory.js";
import { DEFAULT_HEDGE_RULE } from "../storage/hedging.js";
import { runStages, type RunStageSpec } from "../mapreduce/stages.js";
import { stageShape } from "../query/execute.js";
import { prepareQuery, type PreparedQuery, type PreparedTask } from "../query/prepare.js";
import { mapOutputKey, type ShufflePlan } from "../shuffle/layout.js";
import type { InputListing } from "../splits/listing.js";
import type { Split } from "../splits/split.js";
import { cutSplit } from "../splits/pack.js";
import type { PlanOptions } from "../sql/model.js";
import { planQuery } from "../sql/plan.js";
import type { Job } from "../scheduler/job.js";
import { simulatedBackend, type SimBody, type SimWorker } from "./backend.js";
import { localS3Model, platformModels, s3Model, type PlatformName, type StoreModel } from "./models.js";
import { tableBytes, type TableShape } from "./shapes.js";
import { estimateCoordinator, estimateStages, scaleTaskModel, SHUFFLE_PREFIX, sqlTaskModel, type SqlTaskModel, type TaskRead } from "./sql-model.js";
import type { Calibration } from "./calibrate.js";
import { SimStore, sumCounters, emptyCounters, type StoreCounters } from "./store-model.js";

/** How the simulated job runs: platform, workers, policies, faults, seed. */
export interface SimRunOptions {
  platform: PlatformName;
  workers: number;
  memoryMb: number;
  speculation: boolean;
  /** Hedged reads (the ranged reader's default rule, storage/hedging.ts). */
  hedging: boolean;
  stragglers?: { rate: number; factor: number };
  stalledReads?: { rate: number; ms: number };
  failureRate?: number;
  preemptionsPerHour?: number;
  /** Overrides the store's GET requests/s per prefix. */
  prefixGetRate?: number;
  seed: number;
  /** Policy used when `speculation` is on. @default SPECULATION */
  speculationPolicy?: StagePolicyInput["speculation"];
  /** Sees every job event (virtual times), e.g. to draw a timeline. */
  onEvent?: (event: SmelterEvent) => void;
  /** The task model's costs. @default sqlTaskModel */
  taskModel?: SqlTaskModel;
  /** The machine's parameters fitted to a real run (processes backend: calibrate.ts); scales the task model's costs. */
  calibration?: Calibration;
}

/** What the planner is given. */
export interface SqlPlanInput {
  query: string;
  tables: TableShape[];
  workers: number;
  /** R for every shuffle. @default the planner's */
  partitions?: number;
  /** Input bytes per leaf task. @default the planner's */
  taskBytes?: number;
  join?: PlanOptions["join"];
  broadcastBytes?: number;
}

export interface SimResult {
  /** Virtual seconds from the job's start to the result in the coordinator; undefined when the job failed. */
  seconds: number | undefined;
  failed?: string;
  cost: number;
  computeCost: number;
  requestCost: number;
  /** Tasks per stage, as prepared (what `smelter explain` shows). */
  tasks: number[];
  /** Tasks of the first stage. */
  mapTasks: number;
  /** R of the first shuffle read by a partitioned stage; 0 when no stage reads partitions (the coordinator finishes). */
  partitions: number;
  /** The plan's strategy. */
  strategy: string;
  store: StoreCounters;
  attempts: number;
  coldStarts: number;
  noCapacity: number;
  speculated: number;
  retried: number;
  stragglers: number;
  /** Real milliseconds the simulation took (planning excluded). */
  simulatedInMs: number;
  /** Virtual time of the job's start (its events' times count from the same clock). */
  startedAt: number;
}

/**
 * Smelter's speculation settings in a simulation: duplicate an attempt running 1.25x the median of
 * its stage's finished ones (a consumer's counted from when its inputs were complete), again if
 * the duplicate is that slow too (up to 3 duplicates: a 5% straggler rate makes a straggling
 * duplicate common in a stage of hundreds of tasks); and once 90% of a stage's tasks are done,
 * duplicate the rest (Honeycomb's impatience). docs/simulation.md shows what each part buys and
 * what it costs (1.25x is lower than Spark's 1.5: the wait before a duplicate is paid once per
 * stage, and in a two-stage job 1.5x left the job 1.36x slower with stragglers).
 */
export const SPECULATION: NonNullable<StagePolicyInput["speculation"]> = { slowerThanMedian: 1.25, minFinished: 5, maxDuplicatesPerTask: 3, afterPercent: 90 };

/** The coordinator's download bandwidth from a cloud store (a laptop or an instance near the bucket): assumed 100 MB/s. */
const COORDINATOR_BANDWIDTH = 100e6;
const MIB = 1024 * 1024;
const SIM_STORE_URL = "s3://simulated";
const WORKER = "simulate.sql.stage";
let runs = 0;

/** A table's synthetic listing: `objects` equal CSV objects of its bytes (one per 256 MiB by default). */
export function syntheticListing(t: TableShape): InputListing {
  const bytes = tableBytes(t);
  const objects = Math.max(1, t.objects ?? Math.round(bytes / (256 * MIB)));
  const splits: Split[] = [];
  let largest = 0;
  for (let i = 0; i < objects; i++) {
    const size = Math.floor(bytes / objects) + (i < bytes % objects ? 1 : 0);
    largest = Math.max(largest, size);
    splits.push({ key: `${t.name}/part-${String(i).padStart(5, "0")}`, format: "csv", range: { start: 0, end: size }, fileSize: size });
  }
  return { storeUrl: SIM_STORE_URL, pattern: `${t.name}/`, splits, bytes, objects, largest, localFiles: false };
}

/** The catalog's size hint of a table: its objects cut at 64 MiB (src/sql/catalog.ts, the join strategy reads it). */
const CATALOG_SPLIT_BYTES = 64 * MIB;

/** The table definitions the planner sees, as the catalog makes them: headerless CSV of the shapes' columns, sized by their listings. */
export function plannerTables(tables: TableShape[], listings: Map<string, InputListing>) {
  return tables.map((t) => {
    const l = listings.get(t.name)!;
    return { name: t.name, url: `${SIM_STORE_URL}/${t.name}/`, format: "csv" as const, columns: t.columns, header: false, bytes: l.bytes, splits: l.splits.reduce((n, x) => n + cutSplit(x, CATALOG_SPLIT_BYTES).length, 0) };
  });
}

/** Plans and prepares the query as `smelter sql` would for these workers, over the synthetic listings. */
export async function prepareSimulation(o: SqlPlanInput): Promise<PreparedQuery> {
  const listings = new Map(o.tables.map((t) => [t.name, syntheticListing(t)]));
  const options: PlanOptions = { workers: o.workers, ...(o.partitions !== undefined ? { partitions: o.partitions } : {}), ...(o.join ? { join: o.join } : {}), ...(o.broadcastBytes !== undefined ? { broadcastBytes: o.broadcastBytes } : {}) };
  const plan = await planQuery(o.query, plannerTables(o.tables, listings), options);
  return prepareQuery(plan, listings, { workers: o.workers, ...(o.taskBytes !== undefined ? { taskBytes: o.taskBytes } : {}) });
}

/** Runs a prepared query's stage graph on the simulated platform and store. */
export async function simulatePrepared(prepared: PreparedQuery, tables: TableShape[], o: SimRunOptions): Promise<SimResult> {
  const started = performance.now();
  const cal = o.calibration;
  const platform = cal ? { ...platformModels[o.platform], coldStart: cal.coldStart, warmStart: cal.warmStart } : platformModels[o.platform];
  const baseStore: StoreModel = o.platform === "processes" ? localS3Model : s3Model;
  const storeModel: StoreModel = {
    ...baseStore,
    ...(o.stalledReads ? { stallRate: o.stalledReads.rate, stallMs: o.stalledReads.ms } : {}),
    ...(o.prefixGetRate !== undefined ? { getRatePerPrefix: o.prefixGetRate } : {}),
  };
  const model = cal ? scaleTaskModel(o.taskModel ?? sqlTaskModel, cal.cpuScale) : (o.taskModel ?? sqlTaskModel);
  const plan = prepared.plan;
  const estimates = estimateStages(prepared, new Map(tables.map((t) => [t.name.toLowerCase(), t])), model);
  const clock = new VirtualClock();
  const context = createRuntimeContext({ clock, seed: o.seed });
  const store = new SimStore(storeModel, context.random, o.hedging ? DEFAULT_HEDGE_RULE : { ...DEFAULT_HEDGE_RULE, hedgeAfter: 0 });
  const workers = Math.min(o.workers, platform.concurrencyLimit);

  // A stage's tasks that read other stages wait until those are done (the real ones fetch outputs as they land).
  const stageDone = estimates.map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });

  const readAll = (now: number, reads: TaskRead[], bandwidth: number, running: number): { ms: number; counters: StoreCounters; failed?: string } => {
    let ms = 0;
    let counters = emptyCounters();
    for (const r of reads) {
      const read = store.read(now + ms, r.prefix, r.bytes, bandwidth, running, r.requests);
      ms += read.ms;
      counters = sumCounters(counters, read.counters);
      if (read.failed) return { ms, counters, failed: read.failed };
    }
    return { ms, counters };
  };

  const stageWorker: SimWorker = async (env: TaskEnvelope, worker) => {
    const input = env.input as { stage: number; task: number; shuffle: ShufflePlan };
    const stage = estimates[input.stage]!;
    const task = stage.tasks[input.task]!;
    await Promise.all(stage.waitsFor.map((i) => stageDone[i]!.promise));
    const w = worker();
    const read = readAll(w.now, task.reads, w.bandwidth, w.running);
    if (read.failed) return { ms: read.ms, failed: read.failed, counters: read.counters };
    const cpuMs = task.cpuMs / w.cpus;
    // The worker first puts its splits and segments in local files (mapreduce/materialize.ts), then DuckDB runs: read, then compute.
    const computed = read.ms + cpuMs;
    const write = store.write(w.now + computed, input.shuffle.prefix, task.outBytes, w.uploadBandwidth);
    const counters = sumCounters(read.counters, write.counters);
    const ms = computed + write.ms;
    const r = input.shuffle.partitions;
    const offsets = Array.from({ length: r + 1 }, (_, i) => Math.round((task.outBytes * i) / r));
    const body: SimBody = { ms, counters, output: { task: env.task, attempt: env.attempt, key: mapOutputKey(input.shuffle, env.task, env.attempt), offsets } };
    if (write.failed) body.failed = write.failed;
    return body;
  };

  const backend = simulatedBackend({
    platform,
    workers,
    memoryMb: o.memoryMb,
    workerFns: { [WORKER]: stageWorker },
    ...(o.stragglers ? { stragglers: o.stragglers } : {}),
    ...(o.failureRate !== undefined ? { failureRate: o.failureRate } : {}),
    ...(o.preemptionsPerHour !== undefined ? { preemptionsPerHour: o.preemptionsPerHour } : {}),
    ...(cal ? { coreShare: cal.coreShare } : {}),
  });
  const manager = new Manager({ backend, context, maxConcurrentTasks: workers });
  const policy: StagePolicyInput | undefined = o.speculation ? { speculation: o.speculationPolicy ?? SPECULATION } : undefined;
  const name = `simulate-${++runs}`;
  const work = { store: memoryStore(name), url: `memory://${name}`, prefix: SHUFFLE_PREFIX };
  // The executor's stage graph (the same stageShape executePrepared runs), with simulated workers.
  const specs: RunStageSpec[] = plan.stages.map((s) => {
    const { reads, partitions } = stageShape(plan, s);
    return {
      name: `s${s.id} ${s.name}`,
      worker: WORKER,
      tasks: { inputs: prepared.stages[s.id - 1]!.tasks },
      reads,
      output: { kind: "shuffle", partitions },
      payload: (t: unknown, ctx: { shuffle: ShufflePlan }) => ({ stage: s.id - 1, task: (t as PreparedTask).n, shuffle: ctx.shuffle }),
    };
  });
  let job: Job | undefined;
  const onJob = (j: Job): void => {
    job = j;
    j.events.on((e) => {
      o.onEvent?.(e);
      if (e.type === "stage-done") stageDone[e.stage - 1]?.resolve();
    });
  };
  const coordinator = estimateCoordinator(plan, estimates, model);

  const t0 = clock.now();
  let failed: string | undefined;
  try {
    await clock.run(async () => {
      // Listing, planning, the job's set up (measured by a calibration; not modelled otherwise).
      if (cal) await clock.sleep(cal.setupMs);
      await runStages(manager, { name: "sql", stages: specs, work, format: "parquet", localTempDir: false, ...(policy ? { policy } : {}) }, {
        onJob,
        finalize: async () => {
          // The processes backend's coordinator is on the store's machine (loopback), as its workers are.
          const bandwidth = o.platform === "processes" ? platform.workerBandwidth(o.memoryMb) : COORDINATOR_BANDWIDTH;
          const read = readAll(clock.now(), coordinator.reads, bandwidth, 1);
          if (read.failed) throw new Error(read.failed);
          await clock.sleep((read.ms + coordinator.cpuMs) * (cal?.coordinatorScale ?? 1));
        },
      });
    });
  } catch (err) {
    failed = (err as Error).message;
  } finally {
    clearMemoryStore(name);
  }
  const seconds = failed ? undefined : (clock.now() - t0) / 1000;
  const counts = job?.stages.map((s) => s.counts) ?? [];
  const requestCost = store.totals.gets * storeModel.price.perGet + store.totals.puts * storeModel.price.perPut;
  const partitioned = plan.stages.find((s) => s.tasks.kind === "partitions");
  const result: SimResult = {
    seconds,
    cost: backend.ledger.computeCost + requestCost,
    computeCost: backend.ledger.computeCost,
    requestCost,
    tasks: prepared.stages.map((s) => s.tasks.length),
    mapTasks: prepared.stages[0]?.tasks.length ?? 0,
    partitions: partitioned?.tasks.kind === "partitions" ? partitioned.tasks.count : 0,
    strategy: plan.strategy,
    store: { ...store.totals },
    attempts: backend.ledger.attempts,
    coldStarts: backend.ledger.coldStarts,
    noCapacity: backend.ledger.noCapacity,
    speculated: counts.reduce((a, c) => a + c.speculated, 0),
    retried: counts.reduce((a, c) => a + c.retried, 0),
    stragglers: backend.ledger.stragglers,
    simulatedInMs: performance.now() - started,
    startedAt: t0,
  };
  if (failed) result.failed = failed;
  return result;
}

/** Plans, prepares and simulates in one call. */
export async function simulateSql(q: Omit<SqlPlanInput, "workers">, o: SimRunOptions): Promise<SimResult> {
  return simulatePrepared(await prepareSimulation({ ...q, workers: Math.min(o.workers, platformModels[o.platform].concurrencyLimit) }), q.tables, o);
}
