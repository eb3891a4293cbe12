/**
 * The pool shared by the `threads` and `processes` backends: warm workers started lazily (up to
 * `size`), one attempt per worker at a time, attempts beyond `size` wait in a queue (pending),
 * killing (abort, then stop the worker after a grace), crash / out-of-memory reporting, and
 * attribution of the worker's stdout/stderr lines to the attempt that printed them. A backend
 * only says how to start one worker ({@link PoolWorker}).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CancelledError, ConfigError, OutOfMemoryError, serializeError, TaskCrashedError } from "../job/errors.js";
import { systemContext, type Clock, type RuntimeContext, type TimerHandle } from "../job/runtime-context.js";
import { emptyStats, type AttemptStats } from "../job/stats.js";
import { STDIO_END_MARKER, type FromWorkerMessage, type ToWorkerMessage } from "../task-runtime/runtime.js";
import type { AttemptHandle, AttemptListener, AttemptOutcome, Backend, KillOutcome, TaskEnvelope } from "./contract.js";
import { localJobDirs } from "./local-job-dirs.js";

/** How long the pool waits, after an outcome arrived, for the end markers of the worker's stdout/stderr. */
const MARKER_WAIT_MS = 250;

/** Why a worker went away, as told by the backend that started it. */
export interface WorkerDeath {
  /** True when it ran out of memory. */
  outOfMemory: boolean;
  /** `exited with code 3`, `was killed by SIGKILL`. */
  description: string;
  /** The last telling lines the worker printed to stderr. */
  stderrTail?: string[];
  details?: unknown;
}

/** What a pool worker reports; the backend calls these. */
export interface PoolWorkerEvents {
  message(message: FromWorkerMessage): void;
  /** One line of the worker's stdout or stderr (end markers included). */
  line(stream: "stdout" | "stderr", line: string): void;
  /** The worker is gone (called once). */
  exit(death: WorkerDeath): void;
}

/** One running worker (a thread or a child process). */
export interface PoolWorker {
  readonly runtimeId: string;
  /** True when the worker writes end markers to its stdout/stderr after each attempt (pipes), so the pool waits for them before settling. */
  readonly stdioEndMarkers: boolean;
  send(message: ToWorkerMessage): void;
  /**
   * Asks the worker to end on its own (the pool's `close()`): it finishes what it runs, closes
   * what it keeps warm and exits; resolves once it is gone. The pool stops it by force if it is
   * still there after `killGraceMs`. Without this, `close()` stops workers by force.
   */
  shutdown?(): Promise<void>;
  /** Stops the worker by force; resolves once it is gone. */
  stop(): Promise<void>;
  /** Keeps the manager's event loop alive while the worker is busy; idle workers do not. */
  ref(): void;
  unref(): void;
}

export interface LocalPoolOptions {
  name: string;
  size: number;
  killGraceMs: number;
  /** Starts one worker; `clock` is the runtime context's, for its own timers. */
  spawn(events: PoolWorkerEvents, clock: Clock): PoolWorker;
}

interface Attempt {
  envelope: TaskEnvelope;
  listener: AttemptListener;
  launchedAt: number;
  slot?: Slot;
  settled: boolean;
  settle(outcome: AttemptOutcome): void;
  /** Resolves when the attempt no longer occupies a worker. */
  released: Promise<void>;
  release(): void;
  killing?: Promise<KillOutcome>;
}

interface Slot {
  worker: PoolWorker;
  ready: boolean;
  stopping: boolean;
  attempt?: Attempt;
  outcome?: AttemptOutcome;
  markers: number;
  markerTimer?: TimerHandle;
  /** Attempts this worker was given: the first one paid its cold start. */
  attempts: number;
}

/** Builds a backend from a way to start workers. */
export function createLocalPool(options: LocalPoolOptions): Backend {
  const { name, size, killGraceMs } = options;
  const slots = new Set<Slot>();
  const queue: Attempt[] = [];
  let closed = false;
  const jobDirs = localJobDirs();
  let context: RuntimeContext = systemContext();
  const clock = () => context.clock;
  /** Stats of an outcome the worker did not send (it died, was killed, never started). */
  const schedulerStats = (a: Attempt): AttemptStats => emptyStats(a.launchedAt, clock().now());
  /** Workers killed by a signal in a row before they were ready. */
  let killedWhileStarting = 0;

  /** Idle ready workers take queued attempts; more workers start while attempts outnumber those starting. */
  const pump = (): void => {
    if (closed) return;
    let starting = 0;
    for (const slot of slots) {
      if (slot.stopping || slot.attempt) continue;
      if (!slot.ready) starting += 1;
      else if (queue.length > 0) assign(slot, queue.shift()!);
    }
    while (queue.length > starting && slots.size < size) {
      spawnSlot();
      starting += 1;
    }
  };

  const spawnSlot = (): Slot => {
    const slot: Slot = { worker: undefined as unknown as PoolWorker, ready: false, stopping: false, markers: 0, attempts: 0 };
    slot.worker = options.spawn({
      message: (m) => onMessage(slot, m),
      line: (stream, line) => onLine(slot, stream, line),
      exit: (death) => onExit(slot, death),
    }, clock());
    slots.add(slot);
    return slot;
  };

  const assign = (slot: Slot, attempt: Attempt): void => {
    slot.attempt = attempt;
    slot.outcome = undefined;
    slot.markers = 0;
    attempt.slot = slot;
    slot.attempts += 1;
    slot.worker.ref();
    slot.worker.send({ type: "run", envelope: attempt.envelope });
  };

  const current = (slot: Slot, attemptId: string): Attempt | undefined => {
    const a = slot.attempt;
    return a && !a.settled && a.envelope.attemptId === attemptId ? a : undefined;
  };

  const onMessage = (slot: Slot, m: FromWorkerMessage): void => {
    switch (m.type) {
      case "ready":
        slot.ready = true;
        killedWhileStarting = 0;
        pump();
        return;
      case "init-error":
        // The entry module cannot be loaded (and will not be by the next worker either): fail
        // every queued attempt with the reason, then retire the worker.
        slot.stopping = true;
        for (const a of queue.splice(0)) {
          a.settle({ status: "failed", error: m.error, stats: schedulerStats(a) });
          a.release();
        }
        void slot.worker.stop();
        return;
      case "running":
        current(slot, m.attemptId)?.listener.onRunning({ runtimeId: slot.worker.runtimeId, cold: slot.attempts === 1 });
        return;
      case "log":
        current(slot, m.attemptId)?.listener.onLog("log", m.message);
        return;
      case "heartbeat":
        current(slot, m.attemptId)?.listener.onHeartbeat(m.details);
        return;
      case "outcome":
        if (slot.attempt?.envelope.attemptId !== m.attemptId) return;
        slot.outcome = m.outcome;
        if (!slot.worker.stdioEndMarkers || slot.markers >= 2) return finish(slot, m.outcome);
        slot.markerTimer = clock().setTimeout(() => finish(slot, m.outcome), MARKER_WAIT_MS);
        return;
    }
  };

  const onLine = (slot: Slot, stream: "stdout" | "stderr", line: string): void => {
    const at = line.indexOf(STDIO_END_MARKER);
    const text = at >= 0 ? line.slice(0, at) : line;
    if (at < 0 || text) {
      const a = slot.attempt;
      if (a && !a.settled) a.listener.onLog(stream, text);
      else process.stderr.write(`[${slot.worker.runtimeId}] ${text}\n`);
    }
    if (at >= 0 && slot.attempt?.envelope.attemptId === line.slice(at + STDIO_END_MARKER.length).trim()) {
      slot.markers += 1;
      if (slot.markers >= 2 && slot.outcome) finish(slot, slot.outcome);
    }
  };

  const finish = (slot: Slot, outcome: AttemptOutcome): void => {
    const a = slot.attempt;
    clock().clearTimeout(slot.markerTimer);
    slot.markerTimer = undefined;
    slot.attempt = undefined;
    slot.outcome = undefined;
    if (!a) return;
    a.settle(outcome);
    a.release();
    slot.worker.unref();
    pump();
  };

  const onExit = (slot: Slot, death: WorkerDeath): void => {
    slots.delete(slot);
    // Killed by a signal while loading its entry module: something outside did it, not the
    // module; start another, unless it keeps happening.
    const signal = (death.details as { signal?: string | null } | undefined)?.signal;
    if (!slot.ready && !slot.stopping && signal && !death.outOfMemory && ++killedWhileStarting < 3) {
      process.stderr.write(`[smelter] ${slot.worker.runtimeId} ${death.description} while loading its entry module (from outside Smelter); starting another\n`);
    } else if (!slot.ready && !slot.stopping) {
      // It died while starting (before its entry module loaded): starting another would most
      // likely die the same way, so fail what waits instead of respawning in a loop.
      const why = signal
        ? `${death.description} while loading its entry module, ${killedWhileStarting} times in a row: something outside Smelter kills the workers (the OOM killer, a process manager?); it can be retried`
        : `${death.description} while starting, before the entry module was loaded: check that the entry module can be imported on its own`;
      const error = new TaskCrashedError(`${slot.worker.runtimeId} ${why}${stderrTail(death)}`, { details: death.details });
      for (const a of queue.splice(0)) {
        a.settle({ status: "failed", error: serializeError(error), stats: schedulerStats(a) });
        a.release();
      }
    }
    const a = slot.attempt;
    if (a) {
      const { attemptId, worker } = a.envelope;
      const what = `${slot.worker.runtimeId} ${death.description} while running attempt ${attemptId} (worker "${worker}")`;
      const tail = stderrTail(death);
      const details = { ...(death.details as object | undefined), stderr: death.stderrTail ?? [] };
      const error = death.outOfMemory
        ? new OutOfMemoryError(`${what}: give workers more memory (maxMemoryMb) or make tasks smaller; it can be retried${tail}`, { details })
        : new TaskCrashedError(`${what}: the worker died (process.exit, a signal, a native crash or an uncaught error); it can be retried${tail}`, { details });
      finish(slot, slot.outcome ?? { status: "failed", error: serializeError(error), stats: schedulerStats(a) });
    }
    pump();
  };

  const stopSlot = async (slot: Slot): Promise<void> => {
    slot.stopping = true;
    await slot.worker.stop();
  };

  /** Whether `done` is still pending after `killGraceMs` (it then goes on unawaited). */
  const outlastsGrace = async (done: Promise<unknown>): Promise<boolean> => {
    let timer: TimerHandle | undefined;
    const graceOver = new Promise<boolean>((resolve) => (timer = clock().setTimeout(() => resolve(true), killGraceMs)));
    const timedOut = await Promise.race([done.then(() => false), graceOver]);
    clock().clearTimeout(timer);
    return timedOut;
  };

  /** The pool's end for one worker: asked to shut down (its running attempt aborted), stopped by force if it outlasts the grace. */
  const closeSlot = async (slot: Slot): Promise<void> => {
    const { worker, attempt } = slot;
    if (!worker.shutdown || slot.stopping) return stopSlot(slot);
    slot.stopping = true;
    worker.ref(); // the manager's process waits for the thread to end
    if (attempt) worker.send({ type: "abort", attemptId: attempt.envelope.attemptId, reason: `the ${name} backend was closed` });
    if (await outlastsGrace(worker.shutdown())) await worker.stop();
  };

  const kill = async (a: Attempt, reason: string): Promise<KillOutcome> => {
    const cancelled: AttemptOutcome = { status: "failed", error: serializeError(new CancelledError(`attempt ${a.envelope.attemptId} was cancelled: ${reason}`)), stats: schedulerStats(a) };
    const queued = queue.indexOf(a);
    if (queued >= 0) {
      queue.splice(queued, 1);
      a.settle(cancelled);
      a.release();
      return "stopped";
    }
    a.settle(cancelled);
    const slot = a.slot;
    if (!slot || slot.attempt !== a) return "stopped";
    a.killing ??= (async (): Promise<KillOutcome> => {
      slot.worker.send({ type: "abort", attemptId: a.envelope.attemptId, reason });
      if (await outlastsGrace(a.released)) await stopSlot(slot);
      await a.released;
      return "stopped";
    })();
    return a.killing;
  };

  return {
    name,
    maxConcurrency: size,
    attach(host) {
      context = host.context;
    },
    prestart() {
      if (closed) return;
      while (slots.size < size) spawnSlot();
    },
    launch(envelope: TaskEnvelope, listener: AttemptListener): AttemptHandle {
      let resolveResult!: (o: AttemptOutcome) => void;
      let release!: () => void;
      const attempt: Attempt = {
        envelope,
        listener,
        launchedAt: clock().now(),
        settled: false,
        settle(outcome) {
          if (attempt.settled) return;
          attempt.settled = true;
          resolveResult(outcome);
        },
        released: new Promise<void>((r) => (release = r)),
        release: () => release(),
      };
      const result = new Promise<AttemptOutcome>((r) => (resolveResult = r));
      if (closed) {
        attempt.settle({ status: "failed", error: serializeError(new ConfigError(`the ${name} backend is closed: create a new one to launch attempt ${envelope.attemptId}`)), stats: schedulerStats(attempt) });
        attempt.release();
      } else {
        jobDirs.add(envelope.jobId);
        queue.push(attempt);
        pump();
      }
      return {
        runtimeId: `${name}-pending`,
        result,
        kill: (reason: string) => kill(attempt, reason),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const a of queue.splice(0)) {
        a.settle({ status: "failed", error: serializeError(new CancelledError(`the ${name} backend was closed before attempt ${a.envelope.attemptId} started`)), stats: schedulerStats(a) });
        a.release();
      }
      for (const s of slots) {
        const a = s.attempt;
        if (a) a.settle({ status: "failed", error: serializeError(new CancelledError(`attempt ${a.envelope.attemptId} was cancelled: the ${name} backend was closed`)), stats: schedulerStats(a) });
      }
      await Promise.all([...slots].map((s) => closeSlot(s)));
      await jobDirs.removeAll();
    },
  };
}

function stderrTail(death: WorkerDeath): string {
  return death.stderrTail?.length ? `\nits last stderr lines:\n  ${death.stderrTail.join("\n  ")}` : "";
}

/**
 * Checks a pool backend's `script` option (a file that registers the workers and then serves
 * tasks, run instead of the backend's bootstrap importing `entry`): it must exist.
 */
export function checkScript(script: string | undefined, backend: string): void {
  if (script !== undefined && !existsSync(script)) throw new ConfigError(`the ${backend} backend's script ${script} does not exist: build it, or leave \`script\` out to import \`entry\``);
}

/**
 * Resolves a backend's `entry` option (a path, a file URL string, or a URL) to a URL string that
 * `import()` accepts. Defaults to the main script (process.argv[1]).
 */
export function resolveEntry(entry: string | URL | undefined, backend: string): string {
  const value = entry ?? process.argv[1];
  if (value === undefined || value === "") {
    throw new ConfigError(`the ${backend} backend needs an entry module that defines the workers: pass { entry: "path/to/workers.js" } (there is no main script to default to)`);
  }
  if (value instanceof URL) return value.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) return value;
  return pathToFileURL(resolve(value)).href;
}
