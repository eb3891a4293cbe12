/**
 * A job: stages of tasks run by one manager. `wait()` resolves when every stage is done, or
 * rejects with the error that stopped it (a TaskFailedError naming the task and every attempt,
 * or a CancelledError). On a permanent failure or `cancel()`, nothing new is launched, every
 * running attempt is killed, and `wait()` settles only once each is confirmed stopped (bounded
 * by `cancelTimeout`).
 */
import { z } from "zod";
import { CancelledError, ConfigError, serializeError, type TaskFailedError } from "../job/errors.js";
import { EventBus, type SmelterEvent } from "../job/events.js";
import { newJobId } from "../job/ids.js";
import { parseOrThrow, resolveStagePolicy, type StagePolicyInput } from "../job/policy.js";
import type { Backend, ResultStore } from "../backends/contract.js";
import type { RuntimeContext } from "../job/runtime-context.js";
import { Stage, type StageHost } from "./stage.js";

export interface JobOptions {
  /** Shown in progress and reports. @default "job" */
  name?: string;
  /** Attempts of this job running at once, all stages together. @default unlimited (the manager's global limit applies) */
  maxConcurrentTasks?: number;
  /** Policy defaults for every stage of the job (each stage may override). */
  policy?: StagePolicyInput;
}

export interface StageOptions {
  /** The registered worker function (its name, or what `defineWorker` returned). */
  worker: string | { name: string };
  /** @default the worker's name */
  name?: string;
  /** Overrides the job's policy for this stage. */
  policy?: StagePolicyInput;
  /**
   * Stages of this job that this one waits for (it reads what they write). Its tasks may be
   * pushed at once, but none launches until every stage it waits for (transitively) has launched
   * all its tasks (closed, none queued or waiting for a retry). Until those stages have all
   * succeeded, the waiting stages of the job share the manager's slots minus `reserveSlots`.
   * @default [] (starts at once)
   */
  after?: Stage[];
  /** While waiting for `after`, manager slots left free for them (so a producer's retry always finds one). @default 1 when `after` is given, else 0 */
  reserveSlots?: number;
}

const jobOptionsSchema = z.strictObject({
  name: z.string().min(1).default("job"),
  maxConcurrentTasks: z.number().int().min(1).optional(),
  policy: z.unknown().optional(),
});

/** What a job needs from its manager. */
export interface JobHost {
  readonly context: RuntimeContext;
  readonly random: () => number;
  readonly backend: Backend;
  readonly results: ResultStore | undefined;
  requestPump(): void;
  acquireSlot(): void;
  releaseSlot(): void;
  jobEnded(job: Job): void;
}

type Omitted = SmelterEvent extends infer E ? (E extends unknown ? Omit<E, "time" | "jobId"> : never) : never;

export class Job {
  readonly id: string;
  readonly name: string;
  /** Clock, random and ids of this job (its manager's). */
  readonly context: RuntimeContext;
  readonly maxConcurrentTasks: number;
  readonly events = new EventBus();
  readonly stages: Stage[] = [];
  /** Attempts of this job holding a slot. */
  running = 0;

  #host: JobHost;
  #policy: StagePolicyInput | undefined;
  #state: "running" | "stopping" | "done" = "running";
  #error: Error | undefined;
  #waited = false;
  #done: Promise<void>;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  #stageHost: StageHost;

  constructor(host: JobHost, options: JobOptions = {}) {
    const o = parseOrThrow(jobOptionsSchema, options, "job options");
    this.#host = host;
    this.context = host.context;
    this.id = newJobId(host.context);
    this.name = o.name;
    this.maxConcurrentTasks = o.maxConcurrentTasks ?? Infinity;
    this.#policy = options.policy;
    resolveStagePolicy(this.#policy); // validate early
    this.#done = new Promise<void>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    this.#done.catch(() => {}); // rejection is reported through wait()
    const job = this;
    this.#stageHost = {
      jobId: this.id,
      clock: host.context.clock,
      random: host.random,
      backend: host.backend,
      results: host.results,
      emit: (make) => job.#emit(make as () => Omitted),
      requestPump: () => host.requestPump(),
      acquireSlot: () => {
        job.running++;
        host.acquireSlot();
      },
      releaseSlot: () => {
        job.running--;
        host.releaseSlot();
      },
      taskFailed: (error) => void job.#stop(error, "failed"),
      inputFailed: (error) => void job.#stop(error, "failed"),
      stageChanged: () => job.#check(),
    };
    this.#emit(() => ({ type: "job-started", name: this.name, backend: host.backend.name }), true);
  }

  /** Adds a stage. Stages run concurrently; feed one from another's results to pipeline them. */
  stage<I = unknown, O = unknown>(options: StageOptions): Stage<I, O> {
    if (this.#state !== "running") throw new ConfigError(`job ${this.id} has ended: create its stages before it finishes`);
    const worker = typeof options.worker === "string" ? options.worker : options.worker?.name;
    if (!worker) throw new ConfigError("a stage needs a worker: the name of a function registered with defineWorker");
    const policy = resolveStagePolicy(this.#policy, options.policy);
    const after = options.after ?? [];
    for (const s of after) {
      if (!this.stages.includes(s as Stage)) throw new ConfigError(`stage ${options.name ?? worker} waits for a stage that is not an earlier stage of job ${this.id}: pass stages created by this job before it`);
    }
    const reserveSlots = options.reserveSlots ?? (after.length ? 1 : 0);
    if (!(Number.isInteger(reserveSlots) && reserveSlots >= 0)) throw new ConfigError(`stage ${options.name ?? worker}: reserveSlots must be a whole number, 0 or more (got ${reserveSlots})`);
    const stage = new Stage<I, O>(this.#stageHost, this.stages.length + 1, options.name ?? worker, worker, policy, { after: after as Stage[], reserveSlots });
    this.stages.push(stage as Stage);
    this.#emit(() => ({ type: "stage-started", stage: stage.number, stageName: stage.name, worker }), true);
    return stage;
  }

  /** Resolves when every stage is done; rejects with the error that stopped the job. */
  wait(): Promise<void> {
    this.#waited = true;
    this.#check();
    return this.#done;
  }

  /** Cancels the job: stops launching, kills every attempt, waits until they are stopped. */
  async cancel(reason = "cancelled"): Promise<void> {
    await this.#stop(new CancelledError(`job ${this.id} (${this.name}) cancelled: ${reason}`), "cancelled");
  }

  get state(): "running" | "stopping" | "done" {
    return this.#state;
  }

  /** The error that stopped the job, once it stopped. */
  get error(): Error | undefined {
    return this.#error;
  }

  async #stop(error: Error, status: "failed" | "cancelled"): Promise<void> {
    if (this.#state !== "running") return this.#done.catch(() => {});
    this.#state = "stopping";
    this.#error = error;
    for (const stage of this.stages) stage.abort(error);
    const timeout = Math.max(0, ...this.stages.map((s) => s.policy.timeouts.cancelTimeout));
    let timer;
    await Promise.race([
      Promise.all(this.stages.map((s) => s.whenSettled())),
      new Promise<void>((r) => (timer = this.context.clock.setTimeout(r, timeout))),
    ]);
    this.context.clock.clearTimeout(timer);
    this.#finish(status, error);
  }

  #check(): void {
    if (this.#state !== "running" || !this.#waited) return;
    if (this.stages.every((s) => s.settled)) this.#finish("succeeded");
  }

  #finish(status: "succeeded" | "failed" | "cancelled", error?: Error): void {
    if (this.#state === "done") return;
    this.#state = "done";
    this.#emit(() => ({ type: "job-done", status, ...(error ? { error: serializeError(error) } : {}) }));
    this.#host.jobEnded(this);
    if (error) this.#reject(error);
    else this.#resolve();
  }

  /** Emits the event `make` builds, when someone listens (always for `shape` events, which late listeners get first). */
  #emit(make: () => Omitted, shape = false): void {
    if (!shape && !this.events.hasListeners) return;
    this.events.emit({ ...make(), time: this.context.clock.now(), jobId: this.id } as SmelterEvent);
  }

  /**
   * Whether `stage` may launch one more attempt under its dependencies (`after`,
   * `reserveSlots`), given the manager's slot limit. The manager asks before each launch.
   */
  mayLaunch(stage: Stage, managerLimit: number): boolean {
    const upstream = upstreamOf(stage);
    if (upstream.size === 0) return true;
    for (const u of upstream) if (!u.allLaunched) return false;
    if ([...upstream].every((u) => u.allSucceeded)) return true;
    // Waiting stages leave `reserveSlots` free on top of what their producers hold, so that a
    // producer's retry or speculative duplicate never waits behind consumers waiting for it.
    const waitingHeld = this.stages.reduce((n, s) => n + (isWaiting(s) ? s.slotsHeld : 0), 0);
    const upstreamHeld = [...upstream].reduce((n, u) => n + u.slotsHeld, 0);
    return waitingHeld < managerLimit - stage.dependencies.reserveSlots - upstreamHeld;
  }
}

/** Every stage `stage` waits for, directly or through others. */
function upstreamOf(stage: Stage): Set<Stage> {
  const out = new Set<Stage>();
  const visit = (s: Stage): void => {
    for (const u of s.dependencies.after) {
      if (out.has(u)) continue;
      out.add(u);
      visit(u);
    }
  };
  visit(stage);
  return out;
}

/** A stage some of whose upstream stages have not all succeeded yet. */
function isWaiting(stage: Stage): boolean {
  for (const u of upstreamOf(stage)) if (!u.allSucceeded) return true;
  return false;
}
