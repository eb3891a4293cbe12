/**
 * The `inline` backend: runs each attempt in the manager's own thread, with the current
 * registry of workers (no `entry` needed). Fast and easy to debug; meant for tests and small
 * jobs. A kill aborts the attempt's signal and the outcome is `Cancelled` right away; `kill()`
 * resolves `"stopped"` once the function settles, or `"abandoned"` after `killGraceMs`: a function
 * that ignores its signal cannot be stopped in-thread and keeps running in the background (its
 * late output is never taken). Every attempt runs cold the first time the backend is used, warm
 * after. Timers come from the manager's runtime context (`attach`). A crash
 * (process.exit) ends the manager too, and console output is not captured.
 */
import { z } from "zod";
import { CancelledError, ConfigError, serializeError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import { systemContext, type RuntimeContext, type TimerHandle } from "../job/runtime-context.js";
import { emptyStats } from "../job/stats.js";
import { runTask, type RuntimeChannel } from "../task-runtime/runtime.js";
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, KillOutcome, TaskEnvelope } from "./contract.js";
import { localJobDirs } from "./local-job-dirs.js";

export const inlineOptionsSchema = z.strictObject({
  /** Attempts running at once; the scheduler never launches more. @default unlimited */
  maxConcurrency: z.number().int().min(1).optional(),
  /** How long `kill()` waits for an aborted function to settle before giving up on it. @default 500 */
  killGraceMs: z.number().int().min(0).default(500),
});
export type InlineBackendOptions = z.input<typeof inlineOptionsSchema>;

export const NAME = "inline";

/** Creates the in-thread backend. Throws ConfigError on bad options. */
export function inlineBackend(options: InlineBackendOptions = {}): Backend {
  const opts = parseOrThrow(inlineOptionsSchema, options, `${NAME} backend options`);
  const running = new Set<AbortController>();
  let closed = false;
  let context: RuntimeContext = systemContext();
  let launched = 0;
  const jobDirs = localJobDirs();
  const backend: Backend = {
    name: NAME,
    attach(host) {
      context = host.context;
    },
    launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
      const clock = context.clock;
      const launchedAt = clock.now();
      const runtimeId = `inline-${++launched}`;
      jobDirs.add(envelope.jobId);
      const cold = launched === 1;
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
      const guarded: RuntimeChannel = {
        onRunning: () => void (settled || listener.onRunning({ runtimeId, cold })),
        onLog: (stream, message) => void (settled || listener.onLog(stream, message)),
        onHeartbeat: (details) => void (settled || listener.onHeartbeat(details)),
      };
      let done: Promise<void>;
      let killing: Promise<KillOutcome> | undefined;
      if (closed) {
        finish({ status: "failed", error: serializeError(new ConfigError(`the ${NAME} backend is closed: create a new one to launch attempt ${envelope.attemptId}`)), stats: emptyStats(launchedAt, launchedAt) });
        done = Promise.resolve();
      } else {
        running.add(controller);
        // Start on a later tick so that launch() returns before the function runs.
        done = Promise.resolve()
          .then(() => runTask(envelope, guarded, controller.signal, { context }))
          .then(finish)
          .finally(() => running.delete(controller));
      }
      return {
        runtimeId,
        result,
        kill(reason: string) {
          if (killing) return killing;
          if (settled) return Promise.resolve("stopped");
          finish({ status: "failed", error: serializeError(new CancelledError(`attempt ${envelope.attemptId} was cancelled: ${reason}`)), stats: emptyStats(launchedAt, clock.now()) });
          controller.abort(new CancelledError(reason));
          let timer: TimerHandle | undefined;
          killing = Promise.race([
            done.then((): KillOutcome => "stopped"),
            new Promise<KillOutcome>((r) => (timer = clock.setTimeout(() => r("abandoned"), opts.killGraceMs))),
          ]).finally(() => clock.clearTimeout(timer));
          return killing;
        },
      };
    },
    async close() {
      closed = true;
      for (const c of running) c.abort(new CancelledError(`the ${NAME} backend was closed`));
      await jobDirs.removeAll();
    },
  };
  if (opts.maxConcurrency !== undefined) (backend as { maxConcurrency?: number }).maxConcurrency = opts.maxConcurrency;
  return backend;
}
