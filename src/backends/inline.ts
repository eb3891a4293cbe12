/**
 * The `inline` backend: runs each attempt in the manager's own thread, with the current
 * registry of workers (no `entry` needed). Fast and easy to debug; meant for tests and small
 * jobs. A kill aborts the attempt's signal and the outcome is `Cancelled` right away; `kill()`
 * resolves once the function settles, or after `killGraceMs`. A function that ignores its signal
 * cannot be stopped in-thread: it is abandoned and keeps running in the background. A crash
 * (process.exit) ends the manager too, and console output is not captured.
 */
import { z } from "zod";
import { CancelledError, ConfigError, serializeError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import { runTask } from "../task-runtime/runtime.js";
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, TaskEnvelope } from "./contract.js";

export const inlineOptionsSchema = z.strictObject({
  /** Attempts running at once; the scheduler never launches more. @default unlimited */
  maxConcurrency: z.number().int().min(1).optional(),
  /** How long `kill()` waits for an aborted function to settle before giving up on it. @default 500 */
  killGraceMs: z.number().int().min(0).default(500),
});
export type InlineBackendOptions = z.input<typeof inlineOptionsSchema>;

export const NAME = "inline";

let nextRuntime = 1;

/** Creates the in-thread backend. Throws ConfigError on bad options. */
export function inlineBackend(options: InlineBackendOptions = {}): Backend {
  const opts = parseOrThrow(inlineOptionsSchema, options, `${NAME} backend options`);
  const running = new Set<AbortController>();
  let closed = false;
  const backend: Backend = {
    name: NAME,
    launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
      const controller = new AbortController();
      let settle!: (o: AttemptOutcome) => void;
      let settled = false;
      const result = new Promise<AttemptOutcome>((resolve) => (settle = resolve));
      const finish = (o: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        settle(o);
      };
      // Only forward events while the attempt is live: a killed attempt goes quiet at once.
      const guarded: AttemptListener = {
        onRunning: () => void (settled || listener.onRunning()),
        onLog: (stream, message) => void (settled || listener.onLog(stream, message)),
        onHeartbeat: (details) => void (settled || listener.onHeartbeat(details)),
      };
      let done: Promise<void>;
      let killing: Promise<void> | undefined;
      if (closed) {
        finish({ status: "failed", error: serializeError(new ConfigError(`the ${NAME} backend is closed: create a new one to launch attempt ${envelope.attemptId}`)) });
        done = Promise.resolve();
      } else {
        running.add(controller);
        // Start on a later tick so that launch() returns before the function runs.
        done = Promise.resolve()
          .then(() => runTask(envelope, guarded, controller.signal))
          .then(finish)
          .finally(() => running.delete(controller));
      }
      return {
        runtimeId: `inline-${nextRuntime++}`,
        result,
        kill(reason: string) {
          if (killing) return killing;
          if (settled) return Promise.resolve();
          finish({ status: "failed", error: serializeError(new CancelledError(`attempt ${envelope.attemptId} was cancelled: ${reason}`)) });
          controller.abort(new CancelledError(reason));
          let timer: NodeJS.Timeout | undefined;
          killing = Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, opts.killGraceMs)))]).then(() => clearTimeout(timer));
          return killing;
        },
      };
    },
    async close() {
      closed = true;
      for (const c of running) c.abort(new CancelledError(`the ${NAME} backend was closed`));
    },
  };
  if (opts.maxConcurrency !== undefined) (backend as { maxConcurrency?: number }).maxConcurrency = opts.maxConcurrency;
  return backend;
}
