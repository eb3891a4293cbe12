import type { ResultStore, TaskEnvelope } from "../../src/backends/contract.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { VirtualClock } from "../../src/scheduler/clock.js";
import type { JobOptions } from "../../src/scheduler/job.js";
import { Manager } from "../../src/scheduler/manager.js";
import { ScriptedBackend, type Script } from "./scripted-backend.js";

export function setup(
  script: (e: TaskEnvelope) => Script,
  options: { job?: JobOptions; maxConcurrentTasks?: number; backendConcurrency?: number; seed?: number; results?: ResultStore } = {},
) {
  const clock = new VirtualClock();
  const backend = new ScriptedBackend(clock, script, options.backendConcurrency);
  const manager = new Manager({
    backend,
    clock,
    maxConcurrentTasks: options.maxConcurrentTasks ?? 100,
    ...(options.seed === undefined ? { random: () => 0.5 } : { seed: options.seed }),
    ...(options.results ? { results: options.results } : {}),
  });
  const job = manager.job(options.job);
  const events: SmelterEvent[] = [];
  job.events.on((e) => events.push(e));
  return { clock, backend, manager, job, events, start: clock.now() };
}

/** Runs the job to its end on the virtual clock; returns the error it failed with, if any. */
export async function runToEnd(clock: VirtualClock, job: { wait(): Promise<void> }, limitMs = 3_600_000): Promise<Error | undefined> {
  let settled = false;
  let error: Error | undefined;
  job.wait().then(
    () => (settled = true),
    (e: Error) => {
      settled = true;
      error = e;
    },
  );
  await clock.runUntil(() => settled, { step: 5, limit: limitMs });
  return error;
}

export function ofType<T extends SmelterEvent["type"]>(events: SmelterEvent[], type: T): Extract<SmelterEvent, { type: T }>[] {
  return events.filter((e): e is Extract<SmelterEvent, { type: T }> => e.type === type);
}
