/**
 * The typed event stream of a job. Consumed by callback (`on`) or as an async iterator
 * (`stream()`); memory stays bounded: with no listener nothing is kept, and an iterator that
 * falls behind by more than its buffer drops the oldest events and says how many it dropped.
 */
import { serializeError, type SerializedError } from "./errors.js";
import type { AttemptCapacity } from "./attempt.js";
import type { AttemptStats } from "./stats.js";

export type LaunchCause = "initial" | "retry" | "speculation";
export type SpeculationRule = "afterPercent" | "lastTasks" | "slowerThanMedian";

interface Base {
  /** Epoch ms on the scheduler's clock. */
  time: number;
  jobId: string;
}
interface StageBase extends Base {
  stage: number;
  stageName: string;
}
interface TaskBase extends StageBase {
  taskId: string;
}
interface AttemptBase extends TaskBase {
  attemptId: string;
}

export type SmelterEvent =
  | (Base & { type: "job-started"; name: string; /** The backend's name (absent in files written before it was added). */ backend?: string })
  | (StageBase & { type: "stage-started"; worker: string })
  | (StageBase & { type: "stage-closed"; tasks: number })
  | (TaskBase & { type: "task-queued" })
  | (AttemptBase & { type: "attempt-launched"; runtimeId: string; cause: LaunchCause; rule?: SpeculationRule })
  /** `runtimeId` here is final; at launch it may still be a placeholder (a pool worker not yet assigned, a container being placed). `cold`: a worker was started for it. `capacity`: what it runs on, when the backend says (the cost estimate prices it). */
  | (AttemptBase & { type: "attempt-running"; runtimeId: string; cold: boolean; capacity?: AttemptCapacity })
  | (AttemptBase & { type: "log"; stream: "stdout" | "stderr" | "log"; message: string })
  | (AttemptBase & { type: "heartbeat"; details?: unknown })
  | (TaskBase & { type: "retry-scheduled"; nextAttempt: number; delayMs: number; reason: SerializedError })
  | (AttemptBase & { type: "speculation-launched"; rule: SpeculationRule; of: string })
  | (AttemptBase & { type: "attempt-succeeded"; stats: AttemptStats; won: boolean })
  /** `stats`: the worker's, or (a timeout gave up on it) the scheduler's view until `kill-confirmed` brings the worker's. */
  | (AttemptBase & { type: "attempt-failed"; error: SerializedError; retryable: boolean; stats: AttemptStats })
  | (AttemptBase & { type: "attempt-cancelled"; reason: string })
  /** The backend had no room for the attempt: relaunched after `delayMs` (0 and `relaunch: false` for a speculative duplicate, dropped), without using the retry budget. */
  | (AttemptBase & { type: "attempt-no-capacity"; reason: string; refusals: number; delayMs: number; relaunch: boolean; stats: AttemptStats })
  /** The scheduler asked the backend to stop the attempt (lost a race, timed out, job stopping). */
  | (AttemptBase & { type: "kill-requested"; reason: string })
  /** The backend confirmed the attempt stopped; `stats` are the worker's when it reported them. */
  | (AttemptBase & { type: "kill-confirmed"; stats: AttemptStats })
  /** The kill could not be confirmed (the backend cannot stop it, or `cancelTimeout` passed): slot freed, anything it reports later is ignored. */
  | (AttemptBase & { type: "attempt-abandoned"; reason: string; stats: AttemptStats })
  /** An abandoned or given-up attempt reported after all: never taken, recorded for its cost. */
  | (AttemptBase & { type: "attempt-late-outcome"; status: "succeeded" | "failed" | "no-capacity"; stats: AttemptStats })
  | (TaskBase & { type: "task-succeeded"; attemptId: string })
  | (TaskBase & { type: "task-failed"; error: SerializedError })
  | (StageBase & { type: "stage-done"; counts: StageCounts })
  | (Base & { type: "job-done"; status: "succeeded" | "failed" | "cancelled"; error?: SerializedError })
  /** A listener of this job's events threw while handling event `of`; the others still got it. */
  | (Base & { type: "listener-failed"; of: string; error: SerializedError });

export type SmelterEventType = SmelterEvent["type"];

/** Live counts of one stage (what progress bars show). */
export interface StageCounts {
  /** Tasks pushed so far. */
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Retries launched. */
  retried: number;
  /** Speculative duplicates launched. */
  speculated: number;
  /** Launches the backend had no capacity for (relaunched without using the retry budget). */
  noCapacity: number;
  /** Attempts whose kill could not be confirmed. */
  abandoned: number;
  /** True once no more tasks will come. */
  closed: boolean;
}

type Listener = (event: SmelterEvent) => void;

/** Events that describe the job's shape: a listener that subscribes late still gets them first. */
const SHAPE_EVENTS: ReadonlySet<SmelterEventType> = new Set(["job-started", "stage-started"]);

export class EventBus {
  #listeners = new Set<Listener>();
  /** The job-started and stage-started events emitted so far (one per stage: few). */
  #shape: SmelterEvent[] = [];

  /**
   * Calls `listener` for every event; returns a function that unsubscribes. A listener added after
   * the job started first gets the job-started and stage-started events it missed, in order, so an
   * events file, the stats or a report attached late still know the job's backend and stages.
   */
  on(listener: Listener): () => void {
    for (const e of this.#shape) {
      try {
        listener(e);
      } catch (err) {
        this.#reportListenerError(listener, e, err);
      }
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when someone listens: emitters may skip building events nobody reads. */
  get hasListeners(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Calls every listener. One that throws does not break the scheduler nor stop the others: the
   * others get a `listener-failed` event naming the error; with no other listener, the error
   * goes to `process.emitWarning` (a listener-failed event is never itself re-reported).
   */
  emit(event: SmelterEvent): void {
    if (SHAPE_EVENTS.has(event.type)) this.#shape.push(event);
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.#reportListenerError(l, event, err);
      }
    }
  }

  #reportListenerError(failed: Listener, event: SmelterEvent, err: unknown): void {
    const others = [...this.#listeners].filter((l) => l !== failed);
    if (event.type === "listener-failed" || others.length === 0) {
      process.emitWarning(`[smelter] an event listener threw on ${event.type}: ${err instanceof Error ? err.message : String(err)}`, "SmelterListenerWarning");
      return;
    }
    const report: SmelterEvent = { type: "listener-failed", of: event.type, error: serializeError(err), time: event.time, jobId: event.jobId };
    for (const l of others) {
      try {
        l(report);
      } catch (again) {
        process.emitWarning(`[smelter] an event listener threw on listener-failed: ${again instanceof Error ? again.message : String(again)}`, "SmelterListenerWarning");
      }
    }
  }

  /**
   * The events from now on as an async iterator, ending after `job-done` (or when `until` says so).
   * Keeps at most `bufferSize` unread events; older ones are dropped and counted in `dropped`.
   */
  stream(options: { bufferSize?: number; until?: (e: SmelterEvent) => boolean } = {}): AsyncIterableIterator<SmelterEvent> & { readonly dropped: number } {
    const bufferSize = options.bufferSize ?? 10_000;
    const until = options.until ?? ((e: SmelterEvent) => e.type === "job-done");
    const buffer: SmelterEvent[] = [];
    let head = 0;
    let done = false;
    let dropped = 0;
    let wake: (() => void) | undefined;
    const off = this.on((e) => {
      if (done) return;
      buffer.push(e);
      if (buffer.length - head > bufferSize) {
        head++;
        dropped++;
      }
      if (until(e)) {
        done = true;
        off();
      }
      wake?.();
    });
    const it = {
      get dropped() {
        return dropped;
      },
      [Symbol.asyncIterator]() {
        return it;
      },
      async next(): Promise<IteratorResult<SmelterEvent>> {
        for (;;) {
          if (head < buffer.length) {
            const value = buffer[head++]!;
            if (head > 1024 && head * 2 > buffer.length) {
              buffer.splice(0, head);
              head = 0;
            }
            return { value, done: false };
          }
          if (done) return { value: undefined, done: true };
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<SmelterEvent>> {
        done = true;
        off();
        return { value: undefined, done: true };
      },
    };
    return it;
  }
}
