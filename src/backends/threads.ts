/**
 * The `threads` backend: a pool of warm worker_threads in the manager's process. Workers start
 * lazily (on the first attempts) and stay warm until `close()`; each runs one attempt at a time.
 * `close()` asks each thread to shut down: it closes what it keeps warm (its DuckDB, its stores:
 * job/warm-resources.ts) and ends on its own; one still there after `killGraceMs` is terminated.
 * A thread whose attempt is killed is terminated (`worker.terminate()`) if the attempt does not
 * stop within `killGraceMs`, and replaced; a thread that exits or dies of an
 * uncaught error is a retryable `TaskCrashed` failure, and one that hits its heap limit
 * (`maxMemoryMb`) an `OutOfMemory` failure. What the thread writes to process.stdout/stderr
 * (console.log included) reaches the listener line by line as `onLog("stdout" | "stderr", line)`.
 *
 * CPU time and RSS in the stats are the whole process's (Node 20 has no per-thread CPU clock).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import type { FromWorkerMessage } from "../task-runtime/runtime.js";
import type { Backend } from "./contract.js";
import { checkScript, createLocalPool, resolveEntry, type PoolWorker, type PoolWorkerEvents } from "./local-pool.js";

export const threadsOptionsSchema = z.strictObject({
  /**
   * The module that registers the workers with `defineWorker` at its top level, imported by each
   * thread: a file path or a `file://` URL. Your main script may be it if it calls `runMain`.
   * @default process.argv[1] (the main script)
   */
  entry: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  /**
   * A script each thread runs instead of Smelter's bootstrap importing `entry`: one that registers
   * the workers and then serves tasks as the bootstrap does, e.g. a one-file bundle of both, which
   * starts faster. The command line starts such a bundle of its built-in workers
   * (src/builtin-workers/pool-thread.ts). @default the bootstrap (task-runtime/bootstrap-thread.js), importing `entry`
   */
  script: z.string().min(1).optional(),
  /** Threads in the pool, which is also how many attempts run at once. @default os.availableParallelism() */
  workers: z.number().int().min(1).optional(),
  /** Heap limit of each thread in MiB (`resourceLimits.maxOldGenerationSizeMb`); beyond it the attempt fails with `OutOfMemory`. @default no limit (V8's default) */
  maxMemoryMb: z.number().int().min(8).optional(),
  /** After a kill, how long an attempt may take to stop on its own (it sees its signal aborted) before its thread is terminated; at `close()`, how long a thread may take to close what it keeps warm and end. @default 500 */
  killGraceMs: z.number().int().min(0).default(500),
  /** Extra environment variables of the threads (each thread gets its own copy of process.env plus these). @default {} */
  env: z.record(z.string(), z.string()).default({}),
});
export type ThreadsBackendOptions = z.input<typeof threadsOptionsSchema>;

export const NAME = "threads";

const BOOTSTRAP = new URL("../task-runtime/bootstrap-thread.js", import.meta.url);

/** Creates a worker_threads pool backend. Throws ConfigError on bad options. */
export function threadsBackend(options: ThreadsBackendOptions = {}): Backend {
  const opts = parseOrThrow(threadsOptionsSchema, options, `${NAME} backend options`);
  const entry = resolveEntry(opts.entry, NAME);
  checkScript(opts.script, NAME);
  return createLocalPool({
    name: NAME,
    size: opts.workers ?? availableParallelism(),
    killGraceMs: opts.killGraceMs,
    spawn: (events) => startThread(events, opts.script ?? BOOTSTRAP, opts.script ? undefined : entry, opts.env, opts.maxMemoryMb),
  });
}

/** `script`: the bootstrap with `entry` to import, or a `script` that serves tasks itself (no entry). */
function startThread(events: PoolWorkerEvents, script: string | URL, entry: string | undefined, env: Record<string, string>, maxMemoryMb: number | undefined): PoolWorker {
  const worker = new Worker(script, {
    workerData: { entry },
    env: { ...process.env, ...env, SMELTER_TASK: "pool" },
    ...(maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb } } : {}),
  });
  const runtimeId = `thread-${worker.threadId}`;
  let fatal: Error | undefined;
  const stdio = lineSplitter(events.line);
  worker.on("message", (m: FromWorkerMessage) => {
    if (m.type === "stdio") return stdio.push(m.stream, m.text);
    if (m.type === "outcome") stdio.flush();
    events.message(m);
  });
  worker.on("error", (err) => (fatal = err));
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", (code) => {
      stdio.flush();
      const oom = (fatal as { code?: unknown } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
      const description = oom
        ? `reached its heap limit of ${maxMemoryMb ?? "(default)"} MiB`
        : fatal
          ? `died of an uncaught error (${fatal.name}: ${fatal.message})`
          : `exited with code ${code}`;
      events.exit({ outOfMemory: oom, description, details: { exitCode: code } });
      resolve();
    });
  });
  return {
    runtimeId,
    stdioEndMarkers: false,
    send: (message) => worker.postMessage(message),
    shutdown: async () => {
      worker.postMessage({ type: "shutdown" });
      await exited;
    },
    stop: async () => {
      await worker.terminate();
      await exited;
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

/** Cuts the text a thread wrote into lines; `flush` emits a last line without its newline. */
function lineSplitter(onLine: PoolWorkerEvents["line"]) {
  const partial = { stdout: "", stderr: "" };
  return {
    push(stream: "stdout" | "stderr", text: string) {
      const lines = (partial[stream] + text).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const line of lines) onLine(stream, line.endsWith("\r") ? line.slice(0, -1) : line);
    },
    flush() {
      for (const stream of ["stdout", "stderr"] as const) {
        if (partial[stream]) onLine(stream, partial[stream]);
        partial[stream] = "";
      }
    },
  };
}
