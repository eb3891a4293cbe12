/**
 * The manager runs jobs on one backend under a global concurrency limit shared by all its jobs.
 * Launch order: jobs in creation order, stages in creation order, retries and speculative
 * duplicates before new tasks within a stage.
 */
import { z } from "zod";
import type { Backend } from "../backends/contract.js";
import { parseOrThrow } from "../job/policy.js";
import { systemClock, type Clock } from "./clock.js";
import { Job, type JobOptions } from "./job.js";

export interface ManagerOptions {
  /** Where attempts run. */
  backend: Backend;
  /** Attempts running at once across all jobs. @default the backend's `maxConcurrency`, else 256 */
  maxConcurrentTasks?: number;
  /** @default the system clock; a VirtualClock in tests and simulations */
  clock?: Clock;
  /** Source of randomness for retry jitter. @default Math.random */
  random?: () => number;
}

const optionsSchema = z.object({
  backend: z.custom<Backend>((b) => typeof b === "object" && b !== null && typeof (b as Backend).launch === "function", "a backend with a launch() method"),
  maxConcurrentTasks: z.number().int().min(1).optional(),
  clock: z.custom<Clock>().optional(),
  random: z.custom<() => number>((f) => typeof f === "function").optional(),
});

export class Manager {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly maxConcurrentTasks: number;
  /** Attempts holding a slot, all jobs together. */
  running = 0;
  #random: () => number;
  #jobs: Job[] = [];
  #pumpQueued = false;

  constructor(options: ManagerOptions) {
    const o = parseOrThrow(optionsSchema, options, "manager options");
    this.backend = o.backend;
    this.clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
    const backendLimit = this.backend.maxConcurrency ?? 256;
    this.maxConcurrentTasks = Math.min(o.maxConcurrentTasks ?? backendLimit, backendLimit);
  }

  /** Creates a job on this manager. */
  job(options: JobOptions = {}): Job {
    const job = new Job(
      {
        clock: this.clock,
        random: this.#random,
        backend: this.backend,
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

  /** Cancels every job, then closes the backend. */
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
    for (const job of this.#jobs) {
      if (job.state !== "running") continue;
      for (const stage of job.stages) {
        const stageLimit = stage.maxConcurrentTasks;
        while (
          stage.launchable > 0 &&
          this.running < this.maxConcurrentTasks &&
          job.running < job.maxConcurrentTasks &&
          stage.slotsHeld < stageLimit
        ) {
          if (!stage.launchNext()) break;
        }
        if (this.running >= this.maxConcurrentTasks) return;
      }
    }
  }
}
