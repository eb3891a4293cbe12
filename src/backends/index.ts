/**
 * The local backends and a factory that picks one by name. Remote backends (lambda, fargate,
 * kubernetes) live behind their own subpath exports so the core never loads their SDKs.
 */
import { ConfigError } from "../job/errors.js";
import type { Backend } from "./contract.js";
import { inlineBackend, type InlineBackendOptions } from "./inline.js";
import { processesBackend, type ProcessesBackendOptions } from "./processes.js";
import { threadsBackend, type ThreadsBackendOptions } from "./threads.js";

export type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, TaskEnvelope } from "./contract.js";
export { attemptOutcomeSchema, taskEnvelopeSchema } from "./contract.js";
export { inlineBackend, inlineOptionsSchema, type InlineBackendOptions } from "./inline.js";
export { processesBackend, processesOptionsSchema, type ProcessesBackendOptions } from "./processes.js";
export { threadsBackend, threadsOptionsSchema, type ThreadsBackendOptions } from "./threads.js";

/** The names {@link createBackend} accepts. */
export const LOCAL_BACKENDS = ["inline", "threads", "processes"] as const;
export type LocalBackendName = (typeof LOCAL_BACKENDS)[number];

export interface LocalBackendOptions {
  inline: InlineBackendOptions;
  threads: ThreadsBackendOptions;
  processes: ProcessesBackendOptions;
}

/**
 * Creates a local backend by name with options validated by its schema. Throws ConfigError for
 * an unknown name (listing the valid ones) or bad options (naming each problem).
 */
export function createBackend<N extends LocalBackendName>(name: N, options?: LocalBackendOptions[N]): Backend;
export function createBackend(name: string, options?: unknown): Backend;
export function createBackend(name: string, options: unknown = {}): Backend {
  switch (name) {
    case "inline":
      return inlineBackend(options as InlineBackendOptions);
    case "threads":
      return threadsBackend(options as ThreadsBackendOptions);
    case "processes":
      return processesBackend(options as ProcessesBackendOptions);
    default:
      throw new ConfigError(`unknown backend "${name}": use one of ${LOCAL_BACKENDS.join(", ")} (remote backends are created from their own modules)`);
  }
}
