/**
 * One source file can hold the manager and the workers. Call `runMain(main)` at the bottom of
 * your main script, after your `defineWorker` calls; what it does depends on `SMELTER_TASK`:
 *
 * - unset (or empty): this process is the **manager**. `runMain` runs `main()`; if it throws, the
 *   error is printed to stderr as one readable paragraph and the exit code is 1.
 * - `pool`: this process or thread is a **pool worker** of the threads or processes backend (set by
 *   Smelter's bootstrap, which imports your script as the backend's `entry` to register its
 *   workers). `runMain` does nothing and returns; the bootstrap serves tasks.
 * - anything else: **one-shot mode**, used by remote backends (Lambda, Fargate, Kubernetes Jobs).
 *   `SMELTER_TASK` is either a JSON {@link TaskEnvelope} (`{"attemptId":...,"worker":...}`), or
 *   a plain worker name with the input as JSON in `SMELTER_INPUT` (default `null`). `runMain`
 *   runs that one task, prints `ctx.log` lines to stdout, writes the outcome as one line
 *   `@@smelter-outcome <json>` to stdout (find it among the task's own prints by the prefix),
 *   and exits with code 0 on success, 1 on failure.
 */
import { isMainThread } from "node:worker_threads";
import type { AttemptOutcome, TaskEnvelope } from "../job/attempt.js";
import { serializeError, SmelterError, ValidationError } from "../job/errors.js";
import { attemptId } from "../job/ids.js";
import { emptyStats } from "../job/stats.js";
import { systemContext, type TimerHandle } from "../job/runtime-context.js";
import { runTask } from "./runtime.js";

/** The prefix of the outcome line printed in one-shot mode. */
export const OUTCOME_MARKER = "@@smelter-outcome ";

/** In one-shot mode, how long a task may take to stop after SIGTERM before the process exits (code 143). */
const SIGTERM_GRACE_MS = 2000;

/** True when this process or thread runs tasks (SMELTER_TASK is set), false in the manager. */
export function isWorkerProcess(): boolean {
  return Boolean(process.env.SMELTER_TASK);
}

/** Runs the manager, or nothing (pool worker), or one task (one-shot mode): see the module comment. */
export async function runMain(managerFn: () => unknown): Promise<void> {
  const task = process.env.SMELTER_TASK;
  if (!task) {
    try {
      await managerFn();
    } catch (err) {
      process.stderr.write(`${formatMainError(err)}\n`);
      process.exitCode = 1;
    }
    return;
  }
  if (task === "pool") return;
  // Let the rest of the main module run first, so workers defined below runMain are registered.
  await systemContext().clock.sleep(0);
  const outcome = await runOneShot(task, process.env.SMELTER_INPUT);
  const line = `${OUTCOME_MARKER}${JSON.stringify(outcome)}\n`;
  const code = outcome.status === "succeeded" ? 0 : 1;
  await new Promise<void>((resolve) => process.stdout.write(line, () => resolve()));
  if (isMainThread) process.exit(code);
  process.exitCode = code;
}

/** Runs the task described by SMELTER_TASK / SMELTER_INPUT and returns its outcome. Never throws. */
export async function runOneShot(task: string, inputJson: string | undefined): Promise<AttemptOutcome> {
  let envelope: TaskEnvelope;
  try {
    envelope = task.trimStart().startsWith("{") ? (JSON.parse(task) as TaskEnvelope) : oneShotEnvelope(task, inputJson);
  } catch (err) {
    const now = systemContext().clock.now();
    return { status: "failed", error: serializeError(err), stats: emptyStats(now, now) };
  }
  const controller = new AbortController();
  const clock = systemContext().clock;
  let forceExit: TimerHandle | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    controller.abort(new Error(`received ${signal}`));
    // A worker function that ignores its signal gets a short grace, then the process ends as SIGTERM would.
    forceExit = clock.setTimeout(() => process.exit(143), SIGTERM_GRACE_MS);
  };
  process.once("SIGTERM", onSignal);
  try {
    return await runTask(
      envelope,
      {
        onRunning: () => {},
        onLog: (_stream, message) => void process.stdout.write(`${message}\n`),
        onHeartbeat: () => {},
      },
      controller.signal,
    );
  } finally {
    process.off("SIGTERM", onSignal);
    clock.clearTimeout(forceExit);
  }
}

function oneShotEnvelope(worker: string, inputJson: string | undefined): TaskEnvelope {
  let input: unknown = null;
  if (inputJson !== undefined && inputJson !== "") {
    try {
      input = JSON.parse(inputJson) as unknown;
    } catch (err) {
      throw new ValidationError(`SMELTER_INPUT is not valid JSON (${(err as Error).message}): pass the input of worker "${worker}" as JSON`);
    }
  }
  const ids = { jobId: "j0", stage: 1, task: 0, attempt: 1 };
  return { ...ids, attemptId: attemptId(ids), worker, input };
}

function formatMainError(err: unknown): string {
  if (err instanceof SmelterError) return err.message;
  if (err instanceof Error) return `[smelter] ${err.name}: ${err.message}`;
  return `[smelter] ${String(err)}`;
}
