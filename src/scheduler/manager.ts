/**
 * The manager runs jobs on one backend under a global concurrency limit shared by all its jobs.
 * Launch order: jobs in creation order, stages in creation order, retries and speculative
 * duplicates before new tasks within a stage; a stage that waits for others (`after`) launches
 * only when they allow it. The manager owns the runtime context (clock, random, ids) and hands
 * it to its jobs and its backend.
 */
import { z } from "zod";
import type { Backend, ResultStore } from "../backends/contract.js";
import { parseOrThrow } from "../job/policy.js";
import { createRuntimeContext, type RuntimeContext } from "../job/runtime-context.js";
import type { Clock } from "./clock.js";
import { Job, type JobOptions } from "./job.js";

export interface ManagerOptions {
  /** Where attempts run. */
  backend: Backend;
  /** Attempts running at once across all jobs. @default the backend's `maxConcurrency`, else 256 */
  maxConcurrentTasks?: number;
  /** Clock, timers, seeded random and ids for everything the manager runs. @default a context on the system clock (built from `clock`, `seed`, `random` when given) */
  context?: RuntimeContext;
  /** Shorthand for a context on this clock. @default the system clock; a VirtualClock in tests and simulations */
  clock?: Clock;
  /** Shorthand for a context with this seed (reproducible ids and jitter). @default random */
  seed?: number;
  /** Replaces the source of retry jitter (ids still come from the context). @default the context's random */
  random?: () => number;
  /** Where attempts put outputs too large for their channel (the job's work store). @default none: such outputs are refused with a clear error */
  results?: ResultStore;
}

const optionsSchema = z.object({
  backend: z.custom<Backend>((b) => typeof b === "object" && b !== null && typeof (b as Backend).launch === "function", "a backend with a launch() method"),
  maxConcurrentTasks: z.number().int().min(1).optional(),
  context: z.custom<RuntimeContext>((c) => typeof c === "object" && c !== null && "clock" in c && "ids" in c, "a runtime context (createRuntimeContext())").optional(),
  clock: z.custom<Clock>().optional(),
  seed: z.number().int().optional(),
  random: z.custom<() => number>((f) => typeof f === "function").optional(),
  results: z.custom<ResultStore>((r) => typeof r === "object" && r !== null && typeof (r as ResultStore).read === "function", "a results store { url, read(url) }").optional(),
});

export class Manager {
  readonly backend: Backend;
  readonly context: RuntimeContext;
  /** Attempts holding a slot, all jobs together. */
  running = 0;
  #limit: number;
  #random: () => number;
  #results: ResultStore | undefined;
  #jobs: Job[] = [];
  #pumpQueued = false;

  constructor(options: ManagerOptions) {
    const o = parseOrThrow(optionsSchema, options, "manager options");
    this.backend = o.backend;
    this.context = o.context ?? createRuntimeContext({ ...(o.clock ? { clock: o.clock } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    this.#random = o.random ?? this.context.random;
    this.#results = o.results;
    const backendLimit = this.backend.maxConcurrency ?? 256;
    this.#limit = Math.min(o.maxConcurrentTasks ?? backendLimit, backendLimit);
    this.backend.attach?.({ context: this.context, capacityChanged: () => this.#requestPump() });
  }

  /** The manager's clock (its context's). */
  get clock(): Clock {
    return this.context.clock;
  }

  /** Attempts that may run at once now: the manager's limit, lowered while the backend is throttled. */
  get maxConcurrentTasks(): number {
    return Math.min(this.#limit, this.backend.maxConcurrency ?? Infinity);
  }

  /** Creates a job on this manager. */
  job(options: JobOptions = {}): Job {
    const job = new Job(
      {
        context: this.context,
        random: this.#random,
        backend: this.backend,
        results: this.#results,
        requestPump: () => this.#requestPump(),
        acquireSlot: () => void this.running++,
        releaseSlot: () => {
          this.running--;
          this.#requestPump();
        },
        jobEnded: (j) => {
          this.#jobs = this.#jobs.filter((x) => x !== j);
        },
      },
      options,
    );
    this.#jobs.push(job);
    return job;
  }

  /** Jobs not yet done. */
  get jobs(): readonly Job[] {
    return this.#jobs;
  }

  /**
   * Cancels every job and closes the backend (a local backend's close removes the local temp
   * directories of the jobs it ran: src/backends/local-job-dirs.ts).
   */
  async close(): Promise<void> {
    await Promise.all(this.#jobs.map((j) => j.cancel("manager closed")));
    await this.backend.close?.();
  }

  #requestPump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    const limit = this.maxConcurrentTasks;
    for (const job of this.#jobs) {
      if (job.state !== "running") continue;
      for (const stage of job.stages) {
        const stageLimit = stage.maxConcurrentTasks;
        while (
          stage.launchable > 0 &&
          this.running < limit &&
          job.running < job.maxConcurrentTasks &&
          stage.slotsHeld < stageLimit &&
          job.mayLaunch(stage, limit)
        ) {
          if (!stage.launchNext()) break;
        }
        if (this.running >= limit) return;
      }
    }
  }
}
