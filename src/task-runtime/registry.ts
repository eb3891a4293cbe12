/**
 * The registry of worker functions. `defineWorker` at a module's top level makes the function
 * runnable by name in any backend that loads that module (the backend's `entry`).
 */
import type { z } from "zod";
import { ConfigError } from "../job/errors.js";
import type { WorkerDefinition, WorkerFn } from "./context.js";

const REGISTRY_KEY = Symbol.for("smelter.workers");
type Registry = Map<string, WorkerDefinition>;

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (g[REGISTRY_KEY] ??= new Map());
}

/**
 * Registers a worker function under `name` and returns its definition (pass it, or its name,
 * to `job.stage({ worker })`). Defining the same name twice with a different function is an error.
 */
export function defineWorker<I, O>(
  name: string,
  fn: WorkerFn<I, O>,
  schemas: { input?: z.ZodType<I>; output?: z.ZodType<O> } = {},
): WorkerDefinition<I, O> {
  if (!/^[\w.:/-]+$/.test(name)) throw new ConfigError(`worker name "${name}" may only hold letters, digits and _ . : / -`);
  const existing = registry().get(name);
  if (existing && existing.fn !== fn) throw new ConfigError(`a worker named "${name}" is already defined: pick another name`);
  const def: WorkerDefinition<I, O> = { name, fn, ...schemas };
  registry().set(name, def as WorkerDefinition);
  return def;
}

export function getWorker(name: string): WorkerDefinition | undefined {
  return registry().get(name);
}

export function workerNames(): string[] {
  return [...registry().keys()].sort();
}
