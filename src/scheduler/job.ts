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
import type { Backend } from "../backends/contract.js";
import type { Clock } from "./clock.js";
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
}

const jobOptionsSchema = z.strictObject({
  name: z.string().min(1).default("job"),
  maxConcurrentTasks: z.number().int().min(1).optional(),
  policy: z.unknown().optional(),
});

/** What a job needs from its manager. */
export interface JobHost {
  readonly clock: Clock;
  readonly random: () => number;
  readonly backend: Backend;
  requestPump(): void;
  acquireSlot(): void;
  releaseSlot(): void;
  jobEnded(job: Job): void;
}

type Omitted = SmelterEvent extends infer E ? (E extends unknown ? Omit<E, "time" | "jobId"> : never) : never;

export class Job {
  readonly id = newJobId();
  readonly name: string;
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
      clock: host.clock,
      random: host.random,
      backend: host.backend,
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
    this.#emit(() => ({ type: "job-started", name: this.name }));
  }

  /** Adds a stage. Stages run concurrently; feed one from another's results to pipeline them. */
  stage<I = unknown, O = unknown>(options: StageOptions): Stage<I, O> {
    if (this.#state !== "running") throw new ConfigError(`job ${this.id} has ended: create its stages before it finishes`);
    const worker = typeof options.worker === "string" ? options.worker : options.worker?.name;
    if (!worker) throw new ConfigError("a stage needs a worker: the name of a function registered with defineWorker");
    const policy = resolveStagePolicy(this.#policy, options.policy);
    const stage = new Stage<I, O>(this.#stageHost, this.stages.length + 1, options.name ?? worker, worker, policy);
    this.stages.push(stage as Stage);
    this.#emit(() => ({ type: "stage-started", stage: stage.number, stageName: stage.name, worker }));
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
      new Promise<void>((r) => (timer = this.#host.clock.setTimeout(r, timeout))),
    ]);
    this.#host.clock.clearTimeout(timer);
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

  #emit(make: () => Omitted): void {
    if (!this.events.hasListeners) return;
    this.events.emit({ ...make(), time: this.#host.clock.now(), jobId: this.id } as SmelterEvent);
  }
}
