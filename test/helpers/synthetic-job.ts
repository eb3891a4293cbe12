/**
 * A synthetic job of many tasks, as an event stream through a real {@link EventBus}: what the
 * live page's server (src/cli/live-ui.ts) sees of a job, without running one. One stage of
 * `tasks` tasks on `concurrency` slots; every `retryEvery`-th task fails once and succeeds on a
 * retry, every `speculateEvery`-th gets a speculative duplicate that wins; a log line every
 * `logEvery` tasks. Events carry the clock's time when emitted. Used by the 100,000-task browser
 * test and `npm run bench live-ui`.
 */
import { EventBus, type SmelterEvent } from "../../src/job/events.js";
import { emptyStats } from "../../src/job/stats.js";
import { systemContext, type RuntimeContext } from "../../src/job/runtime-context.js";

export interface SyntheticJobOptions {
  tasks: number;
  concurrency?: number;
  retryEvery?: number;
  speculateEvery?: number;
  logEvery?: number;
}

export interface SyntheticCounts {
  tasks: number;
  attempts: number;
  retries: number;
  speculative: number;
  speculativeWon: number;
  failedAttempts: number;
  events: number;
}

type Omitted = SmelterEvent extends infer E ? (E extends SmelterEvent ? Omit<E, "time" | "jobId"> : never) : never;

/** What the stream will hold (the page must show these). */
export function expectedCounts(o: SyntheticJobOptions): Omit<SyntheticCounts, "events"> {
  const every = (k: number | undefined) => (k ? Math.floor((o.tasks - 1) / k) + 1 : 0); // tasks 0, k, 2k, ...
  const retries = every(o.retryEvery);
  const speculative = every(o.speculateEvery);
  return { tasks: o.tasks, attempts: o.tasks + retries + speculative, retries, speculative, speculativeWon: speculative, failedAttempts: retries };
}

export class SyntheticJob {
  readonly events = new EventBus();
  readonly context: RuntimeContext = systemContext();
  readonly id = "jsynth1";
  readonly name = "synthetic";
  #emitted = 0;

  constructor(readonly o: SyntheticJobOptions) {}

  /** Emits the whole job, `perTick` events at a time, waiting `tickMs` between chunks (0: yield to the event loop only). */
  async replay(perTick: number, tickMs: number): Promise<number> {
    const it = this.#stream();
    for (;;) {
      for (let i = 0; i < perTick; i++) {
        const next = it.next();
        if (next.done) return this.#emitted;
        this.#emit(next.value);
      }
      await new Promise((r) => (tickMs > 0 ? setTimeout(r, tickMs) : setImmediate(r)));
    }
  }

  #emit(e: Omitted): void {
    this.#emitted++;
    this.events.emit({ ...e, time: this.context.clock.now(), jobId: this.id } as SmelterEvent);
  }

  *#stream(): Generator<Omitted> {
    const { tasks, concurrency = 64, retryEvery, speculateEvery, logEvery } = this.o;
    const st = { stage: 1, stageName: "map" };
    const tid = (t: number) => `${this.id}-s01-t${String(t).padStart(5, "0")}`;
    const stats = () => ({ ...emptyStats(0, 5), counters: { bytesRead: 65536, readRequests: 1, writeRequests: 1, bytesWritten: 4096 } });
    yield { type: "job-started", name: this.name };
    yield { ...st, type: "stage-started", worker: "synthetic" };
    const active: { task: number; attempts: string[] }[] = [];
    let next = 0;
    let slot = 0;
    const launch = function* (task: number, n: number, cause: "initial" | "retry" | "speculation") {
      const taskId = tid(task);
      const attemptId = `${taskId}-a${n}`;
      const runtimeId = `slot-${slot++ % concurrency}`;
      yield { ...st, type: "attempt-launched", taskId, attemptId, runtimeId, cause, ...(cause === "speculation" ? { rule: "slowerThanMedian" } : {}) } as Omitted;
      if (cause === "speculation") yield { ...st, type: "speculation-launched", taskId, attemptId, rule: "slowerThanMedian", of: `${taskId}-a1` } as Omitted;
      yield { ...st, type: "attempt-running", taskId, attemptId, runtimeId, cold: false } as Omitted;
      return attemptId;
    };
    while (next < tasks || active.length) {
      while (next < tasks && active.length < concurrency) {
        const task = next++;
        yield { ...st, type: "task-queued", taskId: tid(task) };
        active.push({ task, attempts: [yield* launch(task, 1, "initial")] });
      }
      const t = active.shift()!;
      const taskId = tid(t.task);
      if (logEvery && t.task % logEvery === 0) yield { ...st, type: "log", taskId, attemptId: t.attempts[0]!, stream: "log", message: `task ${t.task} read 64 KiB` };
      if (retryEvery && t.task % retryEvery === 0) {
        const error = { name: "Error", type: "Error", message: `synthetic failure of task ${t.task}`, nonRetryable: false };
        yield { ...st, type: "attempt-failed", taskId, attemptId: t.attempts[0]!, error, retryable: true, stats: stats() };
        yield { ...st, type: "retry-scheduled", taskId, nextAttempt: 2, delayMs: 0, reason: error };
        t.attempts = [yield* launch(t.task, 2, "retry")];
      }
      if (speculateEvery && t.task % speculateEvery === 0) {
        const dup = yield* launch(t.task, t.attempts.length + (retryEvery && t.task % retryEvery === 0 ? 2 : 1), "speculation");
        yield { ...st, type: "attempt-succeeded", taskId, attemptId: dup, won: true, stats: stats() };
        yield { ...st, type: "attempt-cancelled", taskId, attemptId: t.attempts[0]!, reason: `lost the race to ${dup}` };
        yield { ...st, type: "task-succeeded", taskId, attemptId: dup };
        continue;
      }
      yield { ...st, type: "attempt-succeeded", taskId, attemptId: t.attempts[0]!, won: true, stats: stats() };
      yield { ...st, type: "task-succeeded", taskId, attemptId: t.attempts[0]! };
    }
    yield { ...st, type: "stage-closed", tasks };
    yield { ...st, type: "stage-done", counts: { total: tasks, queued: 0, running: 0, succeeded: tasks, failed: 0, retried: 0, speculated: 0, noCapacity: 0, abandoned: 0, closed: true } };
    yield { type: "job-done", status: "succeeded" };
  }
}
