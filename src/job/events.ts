/**
 * The typed event stream of a job. Consumed by callback (`on`) or as an async iterator
 * (`stream()`); memory stays bounded: with no listener nothing is kept, and an iterator that
 * falls behind by more than its buffer drops the oldest events and says how many it dropped.
 */
import type { SerializedError } from "./errors.js";
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
  | (Base & { type: "job-started"; name: string })
  | (StageBase & { type: "stage-started"; worker: string })
  | (StageBase & { type: "stage-closed"; tasks: number })
  | (TaskBase & { type: "task-queued" })
  | (AttemptBase & { type: "attempt-launched"; runtimeId: string; cause: LaunchCause; rule?: SpeculationRule })
  /** `runtimeId` here is final; at launch it may still be a placeholder (a pool worker not yet assigned, a container being placed). */
  | (AttemptBase & { type: "attempt-running"; runtimeId: string })
  | (AttemptBase & { type: "log"; stream: "stdout" | "stderr" | "log"; message: string })
  | (AttemptBase & { type: "heartbeat"; details?: unknown })
  | (TaskBase & { type: "retry-scheduled"; nextAttempt: number; delayMs: number; reason: SerializedError })
  | (AttemptBase & { type: "speculation-launched"; rule: SpeculationRule; of: string })
  | (AttemptBase & { type: "attempt-succeeded"; stats: AttemptStats; won: boolean })
  | (AttemptBase & { type: "attempt-failed"; error: SerializedError; retryable: boolean })
  | (AttemptBase & { type: "attempt-cancelled"; reason: string })
  | (TaskBase & { type: "task-succeeded"; attemptId: string })
  | (TaskBase & { type: "task-failed"; error: SerializedError })
  | (StageBase & { type: "stage-done"; counts: StageCounts })
  | (Base & { type: "job-done"; status: "succeeded" | "failed" | "cancelled"; error?: SerializedError });

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
  /** True once no more tasks will come. */
  closed: boolean;
}

type Listener = (event: SmelterEvent) => void;

export class EventBus {
  #listeners = new Set<Listener>();

  /** Calls `listener` for every event; returns a function that unsubscribes. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** True when someone listens: emitters may skip building events nobody reads. */
  get hasListeners(): boolean {
    return this.#listeners.size > 0;
  }

  emit(event: SmelterEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not break the scheduler.
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
