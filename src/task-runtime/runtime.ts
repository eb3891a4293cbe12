/**
 * The worker runtime: runs one attempt of a registered worker function and turns whatever
 * happens into an {@link AttemptOutcome} (data, never a throw). Every backend ends up here:
 * inline calls {@link runTask} directly, pool workers call it through {@link serveTasks}, and the
 * one-shot `SMELTER_TASK` mode (worker/main.ts) calls it once.
 */
import { chaosKill, dieNow } from "./chaos.js";
import { format } from "node:util";
import type { z } from "zod";
import { taskEnvelopeSchema, type AttemptListener, type AttemptOutcome, type TaskEnvelope } from "../job/attempt.js";
import { CancelledError, ConfigError, OutputTooLargeError, serializeError, ValidationError } from "../job/errors.js";
import { systemContext, type RuntimeContext, type TimerHandle } from "../job/runtime-context.js";
import type { SerializedError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import { closeWarmResources } from "../job/warm-resources.js";
import { emptyStats, type AttemptStats } from "../job/stats.js";
import type { TaskContext } from "./context.js";
import { getWorker, workerNames } from "./registry.js";
import { StatsCollector } from "./stats.js";
import { storageSpanRecorder } from "./storage-spans.js";

/** Heartbeats reach the channel at most once per this many ms (the latest details win). */
export const HEARTBEAT_THROTTLE_MS = 100;

/** Where a running attempt reports to: the backend (which adds where it runs to `onRunning`), or a message port to it. */
export interface RuntimeChannel {
  onRunning(): void;
  onLog: AttemptListener["onLog"];
  onHeartbeat: AttemptListener["onHeartbeat"];
}

/** What the host of the runtime (a backend's worker side) provides. */
export interface RunTaskOptions {
  /** Clock and timers for heartbeats and stats sampling. @default the system context */
  context?: RuntimeContext;
  /**
   * Largest output the channel carries inline, bytes of JSON. A larger output (up to the
   * envelope's `maxOutputBytes`) is written to `envelope.resultUrl` with `writeResult`.
   * @default unlimited (a pipe)
   */
  maxInlineOutputBytes?: number;
  /** Writes an output to the attempt's result URL (a remote backend's worker side gives this). */
  writeResult?(url: string, json: string): Promise<void>;
}

/**
 * Runs one attempt. Validates the envelope and the input, runs the worker function with a
 * {@link TaskContext}, validates the output (JSON-serialisable, and the worker's schema if any)
 * and returns the outcome with stats. Never throws.
 */
export async function runTask(envelope: TaskEnvelope, channel: RuntimeChannel, signal: AbortSignal, options: RunTaskOptions = {}): Promise<AttemptOutcome> {
  const context = options.context ?? systemContext();
  const begun = context.clock.now();
  const failed = (err: unknown, stats?: AttemptStats): AttemptOutcome => ({ status: "failed", error: serializeError(err), stats: stats ?? emptyStats(begun, context.clock.now()) });
  try {
    const parsed = taskEnvelopeSchema.safeParse(envelope);
    if (!parsed.success) {
      return failed(new ValidationError(`invalid task envelope: ${formatZodIssues(parsed.error)}: the manager and worker may run different Smelter versions`));
    }
    const task = parsed.data;
    const def = getWorker(task.worker);
    if (!def) return failed(missingWorkerError(task.worker));
    let input: unknown = task.input;
    if (def.input) {
      // A payload that does not match the worker's schema fails the same way every time: not retried.
      const r = def.input.safeParse(input);
      if (!r.success) return failed(invalidInputError(task.worker, task.attemptId, r.error));
      input = r.data;
    }
    if (signal.aborted) return failed(cancelled(task.attemptId, signal));

    const stats = new StatsCollector({ clock: context.clock });
    const heartbeat = throttledHeartbeat(channel, context);
    const ctx: TaskContext = {
      signal,
      attemptId: task.attemptId,
      jobId: task.jobId,
      stage: task.stage,
      task: task.task,
      attempt: task.attempt,
      ...(task.deadline !== undefined ? { deadline: task.deadline } : {}),
      ...(task.resume ? { resume: task.resume.details } : {}),
      clock: context.clock,
      heartbeat: heartbeat.send,
      log: (...args: unknown[]) => safeCall(() => channel.onLog("log", format(...args))),
      count: (name: string, delta = 1) => stats.count(name, delta),
    };
    safeCall(() => channel.onRunning());
    const spans = storageSpanRecorder(task.traceparent, context);
    const finish = () => (spans ? spans.attachTo(stats.finish()) : stats.finish());
    stats.start();
    const chaos = chaosKill(task.attemptId); // test-only (SMELTER_TEST_CHAOS_KILL): chaos.ts
    if (chaos?.point === "before") dieNow();
    if (chaos?.point === "during") context.clock.setTimeout(dieNow, chaos.delayMs);
    let output: unknown;
    try {
      output = await (spans ? spans.run(() => def.fn(input, ctx)) : def.fn(input, ctx));
    } catch (err) {
      const s = finish();
      return failed(signal.aborted ? cancelled(task.attemptId, signal, err) : err, s);
    } finally {
      heartbeat.stop();
    }
    const s = finish();
    if (chaos?.point === "after" || chaos?.point === "during") dieNow(); // a "during" kill whose delay outlasted the function still lands before the result is delivered
    if (signal.aborted) return failed(cancelled(task.attemptId, signal), s);

    const json = toJson(output);
    if (!json.ok) {
      return failed(new ValidationError(`output of worker "${task.worker}" (${task.attemptId}) is not JSON-serialisable (${json.why}): return plain objects, arrays, strings, numbers, booleans or null, and put big data in object storage`), s);
    }
    output = json.value;
    if (def.output) {
      const r = def.output.safeParse(output);
      if (!r.success) return failed(new ValidationError(`output of worker "${task.worker}" (${task.attemptId}) does not match its schema: ${formatZodIssues(r.error)}`), s);
      output = r.data;
    }
    return await deliver(task, output, json.text, s, options, failed);
  } catch (err) {
    return failed(err);
  }
}

/** A task input that does not match the worker's schema: names the worker and each field, non-retryable. */
export function invalidInputError(worker: string, attemptId: string, error: z.ZodError): ValidationError {
  return new ValidationError(
    `invalid input for worker "${worker}" (${attemptId}): ${formatZodIssues(error)}: the task's input does not match the worker's schema, so it is not retried; fix the code that builds the input (or run one Smelter version in the manager and its workers)`,
    { details: { worker, issues: error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) } },
  );
}

/** The error for a worker name that is not in this thread's registry. */
export function missingWorkerError(name: string): ConfigError {
  const names = workerNames();
  const known = names.length ? `registered here: ${names.join(", ")}` : "no worker is registered here";
  return new ConfigError(
    `no worker named "${name}" (${known}): the backend's \`entry\` module (default: the main script, process.argv[1]) must define it with defineWorker("${name}", fn) at its top level or import a module that does`,
  );
}

/**
 * Returns the output inline, or writes it to the attempt's result URL when it is larger than the
 * channel carries; refuses outputs over the envelope's `maxOutputBytes`.
 */
async function deliver(task: TaskEnvelope, output: unknown, text: string, stats: AttemptStats, options: RunTaskOptions, failed: (err: unknown, s?: AttemptStats) => AttemptOutcome): Promise<AttemptOutcome> {
  const bytes = Buffer.byteLength(text);
  const where = `worker "${task.worker}" (${task.attemptId})`;
  if (task.maxOutputBytes !== undefined && bytes > task.maxOutputBytes) {
    return failed(new OutputTooLargeError(`the output of ${where} is ${bytes} bytes, over the ${task.maxOutputBytes}-byte limit (maxOutputBytes): return a small summary and write data to object storage`), stats);
  }
  const inline = options.maxInlineOutputBytes ?? Infinity;
  if (bytes <= inline) return { status: "succeeded", output, stats };
  if (!task.resultUrl || !options.writeResult) {
    return failed(new OutputTooLargeError(`the output of ${where} is ${bytes} bytes, over the ${inline} bytes this backend returns inline, and the job has no work store for results: give the manager a workStore, or return less`), stats);
  }
  try {
    await options.writeResult(task.resultUrl, text);
  } catch (err) {
    return failed(err, stats);
  }
  return { status: "succeeded", output: undefined, outputUrl: task.resultUrl, stats };
}

function cancelled(attemptId: string, signal: AbortSignal, cause?: unknown): CancelledError {
  const reason = signal.reason instanceof Error ? signal.reason.message.replace(/^\[smelter\] /, "") : String(signal.reason ?? "aborted");
  return new CancelledError(`attempt ${attemptId} was cancelled: ${reason}`, cause === undefined ? {} : { cause });
}

function toJson(value: unknown): { ok: true; value: unknown; text: string } | { ok: false; why: string } {
  if (value === undefined) return { ok: true, value: null, text: "null" };
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return { ok: false, why: `a ${typeof value}` };
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

/** Leading-edge throttle with one trailing send, so the latest details always arrive. */
function throttledHeartbeat(channel: RuntimeChannel, context: RuntimeContext): { send: (details?: unknown) => void; stop: () => void } {
  const clock = context.clock;
  let last = -Infinity;
  let timer: TimerHandle | undefined;
  let pending: { details?: unknown } | undefined;
  let stopped = false;
  const emit = (details: unknown): void => {
    last = clock.now();
    safeCall(() => channel.onHeartbeat(details));
  };
  return {
    send(details?: unknown) {
      if (stopped) return;
      const wait = last + HEARTBEAT_THROTTLE_MS - clock.now();
      if (wait <= 0 && !timer) return emit(details);
      pending = { details };
      timer ??= clock.setTimeout(() => {
        timer = undefined;
        if (pending && !stopped) emit(pending.details);
        pending = undefined;
      }, Math.max(0, wait), { unref: true });
    },
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}

function safeCall(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener that throws must not fail the attempt.
  }
}

// ---- Serving tasks in a pool worker (bootstrap-thread.ts / bootstrap-process.ts) ----

/**
 * Manager -> pool worker. `shutdown` asks the worker to end: it finishes the attempt it runs (if
 * any), closes what it keeps warm (job/warm-resources.ts) and exits on its own.
 */
export type ToWorkerMessage = { type: "run"; envelope: TaskEnvelope } | { type: "abort"; attemptId: string; reason: string } | { type: "shutdown" };

/** Pool worker -> manager. `ready` / `init-error` are sent once, after the entry module loaded (or failed to). */
export type FromWorkerMessage =
  | { type: "ready"; workers: string[] }
  | { type: "init-error"; error: SerializedError }
  | { type: "running"; attemptId: string }
  | { type: "log"; attemptId: string; stream: "log"; message: string }
  | { type: "heartbeat"; attemptId: string; details?: unknown }
  /** Text the worker thread wrote to process.stdout / process.stderr (threads only; processes use pipes). */
  | { type: "stdio"; stream: "stdout" | "stderr"; text: string }
  | { type: "outcome"; attemptId: string; outcome: AttemptOutcome };

/**
 * With `endMarkers`, written to stdout and stderr after each attempt, before its outcome is sent
 * (processes, whose stdio are pipes apart from the IPC channel): the manager waits for both so
 * every printed line is attributed to the attempt that printed it.
 */
export const STDIO_END_MARKER = "\u001e@@smelter-end ";

export interface TaskPort {
  send(message: FromWorkerMessage): void;
  onMessage(handler: (message: ToWorkerMessage) => void): void;
  /** Lets the worker end, after a `shutdown`, once its warm resources are closed (a thread closes its port and its event loop drains). */
  exit(): void;
}

/**
 * Loads the entry module (which registers workers with `defineWorker`), says `ready`, then runs
 * the tasks it is sent, one at a time, streaming running/log/heartbeat messages and replying with
 * the outcome. An `abort` message aborts the running attempt's signal; after a `shutdown`, the
 * worker runs no more attempts, closes its warm resources once the running one ended, and exits.
 */
export async function serveTasks(port: TaskPort, entry: string | undefined, options: { endMarkers: boolean }): Promise<void> {
  const controllers = new Map<string, AbortController>();
  const queue: TaskEnvelope[] = [];
  let loaded = false;
  let initError: SerializedError | undefined;
  let busy = false;
  let shuttingDown = false;
  let exiting = false;

  const pump = async (): Promise<void> => {
    if (busy || !loaded) return;
    if (shuttingDown) {
      if (!exiting) void endWorker(port);
      exiting = true;
      return;
    }
    const envelope = queue.shift();
    if (!envelope) return;
    busy = true;
    const id = String((envelope as { attemptId?: unknown }).attemptId);
    const controller = new AbortController();
    controllers.set(id, controller);
    const outcome: AttemptOutcome = initError
      ? { status: "failed", error: initError, stats: emptyStats(systemContext().clock.now(), systemContext().clock.now()) }
      : await runTask(
          envelope,
          {
            onRunning: () => port.send({ type: "running", attemptId: id }),
            onLog: (_stream, message) => port.send({ type: "log", attemptId: id, stream: "log", message }),
            onHeartbeat: (details) => port.send({ type: "heartbeat", attemptId: id, details }),
          },
          controller.signal,
        );
    controllers.delete(id);
    if (options.endMarkers) await writeEndMarker(id);
    try {
      port.send({ type: "outcome", attemptId: id, outcome });
    } catch (err) {
      port.send({ type: "outcome", attemptId: id, outcome: { status: "failed", error: serializeError(err), stats: outcome.stats ?? emptyStats(0, 0) } });
    }
    busy = false;
    void pump();
  };

  port.onMessage((message) => {
    if (message.type === "run") {
      queue.push(message.envelope);
      void pump();
    } else if (message.type === "abort") {
      controllers.get(message.attemptId)?.abort(new CancelledError(message.reason));
    } else if (message.type === "shutdown") {
      shuttingDown = true;
      queue.length = 0;
      void pump();
    }
  });

  try {
    if (entry) await import(entry);
    port.send({ type: "ready", workers: workerNames() });
  } catch (err) {
    initError = serializeError(
      new ConfigError(`could not load the backend's entry module ${entry}: ${err instanceof Error ? err.message : String(err)}: pass { entry } the module that defines your workers`, { cause: err }),
    );
    port.send({ type: "init-error", error: initError });
  }
  loaded = true;
  void pump();
}

/** Closes what the worker keeps warm, says what could not be closed on its stderr, then lets it exit. */
async function endWorker(port: TaskPort): Promise<void> {
  for (const err of await closeWarmResources()) {
    process.stderr.write(`[smelter] a warm resource of this worker could not be closed at its end: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  port.exit();
}

async function writeEndMarker(attemptId: string): Promise<void> {
  const line = `${STDIO_END_MARKER}${attemptId}\n`;
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write(line, () => resolve()))));
}
