/**
 * A stage: tasks of one worker function that stream in while it runs, and results that stream
 * out in completion order. The stage owns its tasks' lifecycle: launch, timeouts, retries,
 * speculation, first-success-wins; the job and manager own the concurrency slots.
 */
import type { AttemptListener, AttemptOutcome, Backend, KillOutcome, ResultStore, TaskEnvelope } from "../backends/contract.js";
import {
  AttemptLostError,
  ConfigError,
  NoCapacityError,
  StartTimeoutError,
  TaskFailedError,
  TaskTimeoutError,
  serializeError,
  SmelterError,
  type SerializedError,
} from "../job/errors.js";
import type { LaunchCause, SmelterEvent, SpeculationRule, StageCounts } from "../job/events.js";
import { attemptId as formatAttemptId, taskId as formatTaskId } from "../job/ids.js";
import { retryDelay, type StagePolicy } from "../job/policy.js";
import { emptyStats, type AttemptStats } from "../job/stats.js";
import type { Clock } from "./clock.js";
import { AsyncQueue, Deque } from "./queue.js";
import { countedFrom, pickSpeculative } from "./speculation.js";
import { liveAttempts, type AttemptState, type TaskResult, type TaskState, type TaskStatus } from "./types.js";

/** What a stage needs from its job. */
export interface StageHost {
  readonly jobId: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly backend: Backend;
  /** Where attempts put outputs too large for their channel (none: such outputs are refused). */
  readonly results: ResultStore | undefined;
  emit(event: () => DistributiveOmit<SmelterEvent, "time" | "jobId">): void;
  /** Asks the manager to launch what it can (coalesced). */
  requestPump(): void;
  acquireSlot(): void;
  releaseSlot(): void;
  taskFailed(error: TaskFailedError): void;
  /** A `pushAll` source threw: the job fails with this error. */
  inputFailed(error: Error): void;
  stageChanged(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface LaunchItem {
  task: TaskState;
  cause: LaunchCause;
  rule?: SpeculationRule;
}

/** Largest JSON input a task may carry; big data goes through object storage. */
const DEFAULT_MAX_INPUT_BYTES = 1 << 20;

/** Stage dependencies (see `StageOptions.after`). */
export interface StageDependencies {
  /** Stages this one waits for (direct; the job follows them transitively). */
  after: Stage[];
  /** While it waits for them, slots of the manager left free for them. */
  reserveSlots: number;
}

export class Stage<I = unknown, O = unknown> {
  readonly number: number;
  readonly name: string;
  readonly worker: string;
  readonly policy: StagePolicy;
  readonly counts: StageCounts = { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0, retried: 0, speculated: 0, noCapacity: 0, abandoned: 0, closed: false };
  readonly dependencies: StageDependencies;
  /** Attempts holding a concurrency slot (running, or killed and not yet confirmed stopped). */
  slotsHeld = 0;
  #limit: number;

  #host: StageHost;
  /** Tasks not yet succeeded or failed; finished ones are dropped so 100,000-task stages stay small. */
  #unfinished = new Set<TaskState>();
  #nextIndex = 0;
  #launchQueue = new Deque<LaunchItem>();
  #active = new Set<TaskState>();
  #durations: number[] = [];
  #results = new AsyncQueue<TaskResult<O, I>>();
  #resultsEnded = false;
  #settled = false;
  #aborted = false;
  #tickTimer: ReturnType<Clock["setTimeout"]> | undefined;
  #settledWaiters: (() => void)[] = [];

  constructor(host: StageHost, number: number, name: string, worker: string, policy: StagePolicy, dependencies: StageDependencies = { after: [], reserveSlots: 0 }) {
    this.#host = host;
    this.dependencies = dependencies;
    this.number = number;
    this.name = name;
    this.worker = worker;
    this.policy = policy;
    this.#limit = policy.maxConcurrentTasks ?? Infinity;
  }

  /** Attempts of this stage that may run at once now (starts as `policy.maxConcurrentTasks`). */
  get maxConcurrentTasks(): number {
    return this.#limit;
  }

  /**
   * Changes the stage's concurrency limit while it runs (0 holds its tasks back). A map-reduce
   * uses this to let reducers start while the last map tasks finish without starving them.
   */
  set maxConcurrentTasks(limit: number) {
    if (!(limit >= 0)) throw new ConfigError(`stage ${this.name}: maxConcurrentTasks must be 0 or more (got ${limit})`);
    this.#limit = limit;
    this.#host.requestPump();
  }

  /** Adds one task; returns its id. Throws once the stage is closed. */
  push(input: I): string {
    if (this.counts.closed) throw new ConfigError(`stage ${this.name} is closed: no more tasks can be pushed`);
    checkInput(input, this.name);
    const index = this.#nextIndex++;
    const task: TaskState = {
      index,
      id: formatTaskId(this.#host.jobId, this.number, index),
      input,
      status: "queued",
      attempts: [],
      budgetUsed: 0,
      duplicates: 0,
      errors: [],
      refusals: 0,
    };
    this.#unfinished.add(task);
    this.counts.total++;
    this.counts.queued++;
    this.#launchQueue.push({ task, cause: "initial" });
    this.#host.emit(() => ({ type: "task-queued", ...this.#base(), taskId: task.id }));
    this.#host.requestPump();
    return task.id;
  }

  /**
   * Pushes every input of an iterable (sync or async) as it arrives, then closes the stage
   * unless `close: false`. Pipelining: pass another stage's `results()`, mapped.
   * Never rejects: if the iterable throws (and the job is not already stopping), the job fails
   * with that error, and `job.wait()` reports it.
   */
  async pushAll(inputs: Iterable<I> | AsyncIterable<I>, options: { close?: boolean } = {}): Promise<void> {
    try {
      for await (const input of inputs) {
        if (this.#aborted) return;
        this.push(input);
      }
    } catch (err) {
      if (!this.#aborted) this.#host.inputFailed(new SmelterError(`the inputs of stage ${this.name} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err, nonRetryable: true, type: "InputFailed" }));
      return;
    }
    if (options.close !== false && !this.#aborted) this.close();
  }

  /** No more tasks will come. Speculation rules (a) and (b) only fire after this. */
  close(): void {
    if (this.counts.closed) return;
    this.counts.closed = true;
    if (this.allSucceeded) this.succeededAt ??= this.#host.clock.now();
    this.#host.emit(() => ({ type: "stage-closed", ...this.#base(), tasks: this.counts.total }));
    this.#evaluateSpeculation();
    this.#checkDone();
    this.#host.requestPump(); // stages waiting for this one may start
  }

  /** Results in completion order; ends when every task finished; throws if the job fails. Iterate once. */
  results(): AsyncIterable<TaskResult<O, I>> {
    return this.#results;
  }

  /** Collects every result (in task order). */
  async collect(): Promise<TaskResult<O, I>[]> {
    const all: TaskResult<O, I>[] = [];
    for await (const r of this.#results) all.push(r);
    return all.sort((a, b) => a.index - b.index);
  }

  /** True once closed, every task finished and every attempt confirmed stopped. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves when the stage is settled (see `settled`). */
  whenSettled(): Promise<void> {
    if (this.#settled) return Promise.resolve();
    return new Promise((r) => this.#settledWaiters.push(r));
  }

  /** Launch-queue length (for the manager). */
  get launchable(): number {
    return this.#launchQueue.length;
  }

  /** Closed and nothing left to launch (no task queued or waiting for a retry). */
  get allLaunched(): boolean {
    return this.counts.closed && this.counts.queued === 0;
  }

  /** Closed and every task succeeded. */
  get allSucceeded(): boolean {
    return this.counts.closed && this.counts.succeeded === this.counts.total;
  }

  /** When every task had succeeded (the stage's output complete); undefined until then. */
  succeededAt: number | undefined;

  /** When every stage this one reads (`after`) had succeeded: -Infinity when it reads none, undefined until then. */
  get inputsReadyAt(): number | undefined {
    let at = -Infinity;
    for (const u of this.dependencies.after) {
      if (u.succeededAt === undefined) return undefined;
      at = Math.max(at, u.succeededAt);
    }
    return at;
  }

  // ---- launching ----------------------------------------------------------------------

  /** Launches the next queued attempt, if any. Called by the manager within the limits. */
  launchNext(): boolean {
    for (;;) {
      const item = this.#launchQueue.shift();
      if (!item) return false;
      const { task, cause } = item;
      if (cause === "speculation" ? task.status !== "active" : task.status !== "queued") {
        if (cause === "speculation") task.speculationQueued = false;
        continue;
      }
      this.#launch(task, cause, item.rule);
      return true;
    }
  }

  #launch(task: TaskState, cause: LaunchCause, rule?: SpeculationRule): void {
    const host = this.#host;
    const now = host.clock.now();
    const n = task.attempts.length + 1;
    const attempt: AttemptState = {
      n,
      id: formatAttemptId({ jobId: host.jobId, stage: this.number, task: task.index, attempt: n }),
      cause,
      rule,
      launchedAt: now,
      lastSignAt: now,
      live: true,
      holdsSlot: true,
      timers: [],
    };
    const original = task.attempts.find((a) => a.live);
    task.attempts.push(attempt);
    if (cause === "speculation") {
      task.duplicates++;
      task.speculationQueued = false;
      this.counts.speculated++;
    } else {
      task.budgetUsed++;
      if (cause === "retry") this.counts.retried++;
      this.#setStatus(task, "active");
    }
    this.#active.add(task);
    this.slotsHeld++;
    host.acquireSlot();

    const envelope = this.#envelope(task, attempt);
    try {
      attempt.handle = host.backend.launch(envelope, this.#listener(task, attempt));
    } catch (err) {
      const error = serializeError(err);
      attempt.handle = { runtimeId: "none", result: Promise.resolve({ status: "failed", error, stats: emptyStats(now, now) }), kill: async () => "stopped" };
    }
    const handle = attempt.handle;
    host.emit(() => ({ type: "attempt-launched", ...this.#base(), taskId: task.id, attemptId: attempt.id, runtimeId: handle.runtimeId, cause, ...(rule ? { rule } : {}) }));
    if (cause === "speculation" && rule) {
      host.emit(() => ({ type: "speculation-launched", ...this.#base(), taskId: task.id, attemptId: attempt.id, rule, of: original?.id ?? "" }));
    }
    const { startTimeout, attemptTimeout } = this.policy.timeouts;
    if (startTimeout !== undefined) {
      attempt.timers.push(host.clock.setTimeout(() => {
        if (attempt.live && attempt.runningAt === undefined) this.#giveUp(task, attempt, new StartTimeoutError(`attempt ${attempt.id} was still pending after ${startTimeout} ms (startTimeout)`));
      }, startTimeout));
    }
    if (attemptTimeout !== undefined) {
      attempt.timers.push(host.clock.setTimeout(() => {
        this.#giveUp(task, attempt, new TaskTimeoutError(`attempt ${attempt.id} ran longer than ${attemptTimeout} ms (attemptTimeout): killed`));
      }, attemptTimeout));
    }
    handle.result.then(
      (outcome) => this.#onOutcome(task, attempt, outcome),
      (err: unknown) => this.#onOutcome(task, attempt, { status: "failed", error: serializeError(err), stats: this.#schedulerStats(attempt) }),
    );
    this.#armTick();
  }

  #envelope(task: TaskState, attempt: AttemptState): TaskEnvelope {
    const host = this.#host;
    const { attemptTimeout } = this.policy.timeouts;
    return {
      attemptId: attempt.id,
      jobId: host.jobId,
      stage: this.number,
      task: task.index,
      attempt: attempt.n,
      worker: this.worker,
      input: task.input,
      maxOutputBytes: this.policy.maxOutputBytes,
      ...(attemptTimeout !== undefined ? { deadline: attempt.launchedAt + attemptTimeout } : {}),
      ...(host.results ? { resultUrl: `${host.results.url}${host.jobId}/results/${attempt.id}.json` } : {}),
      ...(task.lastHeartbeat ? { resume: task.lastHeartbeat } : {}),
    };
  }

  /** What the scheduler knows of an attempt the worker did not report on. */
  #schedulerStats(attempt: AttemptState): AttemptStats {
    return emptyStats(attempt.runningAt ?? attempt.launchedAt, this.#host.clock.now());
  }

  #listener(task: TaskState, attempt: AttemptState): AttemptListener {
    const host = this.#host;
    return {
      onRunning: (info) => {
        if (!attempt.live || attempt.runningAt !== undefined) return;
        attempt.runningAt = attempt.lastSignAt = host.clock.now();
        task.refusals = 0;
        const runtimeId = info?.runtimeId ?? attempt.handle?.runtimeId ?? "unknown";
        host.emit(() => ({ type: "attempt-running", ...this.#base(), taskId: task.id, attemptId: attempt.id, runtimeId, cold: info?.cold ?? false, ...(info?.capacity ? { capacity: info.capacity } : {}) }));
        this.#armHeartbeat(task, attempt);
      },
      onLog: (stream, message) => {
        attempt.lastSignAt = host.clock.now();
        host.emit(() => ({ type: "log", ...this.#base(), taskId: task.id, attemptId: attempt.id, stream, message }));
      },
      onHeartbeat: (details) => {
        if (!attempt.live) return;
        attempt.lastSignAt = host.clock.now();
        if (details !== undefined) task.lastHeartbeat = { attemptId: attempt.id, details };
        host.emit(() => ({ type: "heartbeat", ...this.#base(), taskId: task.id, attemptId: attempt.id, ...(details === undefined ? {} : { details }) }));
      },
    };
  }

  #armHeartbeat(task: TaskState, attempt: AttemptState): void {
    const timeout = this.policy.timeouts.heartbeatTimeout;
    if (timeout === undefined) return;
    const clock = this.#host.clock;
    const check = () => {
      if (!attempt.live) return;
      const quiet = clock.now() - attempt.lastSignAt;
      if (quiet >= timeout) {
        this.#giveUp(task, attempt, new AttemptLostError(`attempt ${attempt.id} sent no heartbeat or log for ${quiet} ms (heartbeatTimeout ${timeout} ms): presumed lost`));
      } else {
        attempt.timers.push(clock.setTimeout(check, timeout - quiet));
      }
    };
    attempt.timers.push(clock.setTimeout(check, timeout));
  }

  // ---- outcomes -----------------------------------------------------------------------

  async #onOutcome(task: TaskState, attempt: AttemptState, outcome: AttemptOutcome): Promise<void> {
    attempt.stats = outcome.stats ?? this.#schedulerStats(attempt);
    if (attempt.abandoned) {
      // Its kill could not be confirmed and its slot was freed: its output is never taken.
      const stats = attempt.stats;
      this.#host.emit(() => ({ type: "attempt-late-outcome", ...this.#base(), taskId: task.id, attemptId: attempt.id, status: outcome.status, stats }));
      return;
    }
    if (outcome.status === "succeeded" && outcome.outputUrl !== undefined && attempt.live) {
      // Read the output from the work store while the attempt still counts as live: a sibling
      // that finishes first wins, and this output is then dropped.
      outcome = await this.#fetchOutput(attempt, outcome);
    }
    // An attempt we are killing keeps its slot until kill() confirms it stopped.
    if (attempt.killReason === undefined) this.#releaseSlot(attempt);
    if (!attempt.live) return; // given up, or cancelled: already handled
    this.#endAttempt(task, attempt);
    attempt.handle = undefined;
    if (outcome.status === "succeeded") this.#onSuccess(task, attempt, outcome);
    else if (outcome.status === "no-capacity") this.#onNoCapacity(task, attempt, outcome);
    else this.#onFailure(task, attempt, outcome.error, outcome.stats);
    this.#checkDone();
  }

  async #fetchOutput(attempt: AttemptState, outcome: Extract<AttemptOutcome, { status: "succeeded" }>): Promise<AttemptOutcome> {
    const url = outcome.outputUrl!;
    const results = this.#host.results;
    try {
      if (!results) throw new ConfigError(`attempt ${attempt.id} wrote its output to ${url}, but the manager has no results store to read it from: give the Manager a \`results\` store`);
      const text = await results.read(url);
      return { status: "succeeded", output: JSON.parse(text) as unknown, stats: outcome.stats };
    } catch (err) {
      const error = err instanceof SmelterError ? err : new SmelterError(`could not read the output of attempt ${attempt.id} from ${url}: ${(err as Error)?.message ?? String(err)}`, { cause: err, type: "ResultUnreadable" });
      return { status: "failed", error: serializeError(error), stats: outcome.stats };
    }
  }

  /** The backend had no room: relaunch later without using the retry budget (or give up after too many refusals). */
  #onNoCapacity(task: TaskState, attempt: AttemptState, outcome: Extract<AttemptOutcome, { status: "no-capacity" }>): void {
    const host = this.#host;
    const capacity = this.policy.capacity;
    const stats = attempt.stats ?? this.#schedulerStats(attempt);
    this.counts.noCapacity++;
    if (attempt.cause === "speculation") {
      task.duplicates--;
      this.counts.speculated--;
      host.emit(() => ({ type: "attempt-no-capacity", ...this.#base(), taskId: task.id, attemptId: attempt.id, reason: outcome.reason, refusals: task.refusals, delayMs: 0, relaunch: false, stats }));
      return;
    }
    if (attempt.cause === "retry") this.counts.retried--;
    if (!this.#launchIsFree(task, attempt, "refusals")) {
      host.emit(() => ({ type: "attempt-no-capacity", ...this.#base(), taskId: task.id, attemptId: attempt.id, reason: outcome.reason, refusals: task.refusals, delayMs: 0, relaunch: false, stats }));
      const error = new NoCapacityError(`the ${host.backend.name} backend had no capacity for task ${task.id} ${task.refusals} times in a row (capacity.maxRelaunches ${capacity.maxRelaunches}): ${outcome.reason}`);
      return this.#onFailure(task, attempt, serializeError(error), stats);
    }
    const delayMs = Math.max(outcome.retryAfterMs ?? 0, retryDelay(capacity, task.refusals, host.random));
    host.emit(() => ({ type: "attempt-no-capacity", ...this.#base(), taskId: task.id, attemptId: attempt.id, reason: outcome.reason, refusals: task.refusals, delayMs, relaunch: true, stats }));
    if (liveAttempts(task).length > 0) return; // a duplicate still runs
    const cause = attempt.cause;
    this.#setStatus(task, "waiting-retry");
    task.retryTimer = host.clock.setTimeout(() => {
      task.retryTimer = undefined;
      if (task.status !== "waiting-retry") return;
      this.#setStatus(task, "queued");
      this.#launchQueue.pushFront({ task, cause });
      host.requestPump();
    }, delayMs);
  }

  /**
   * The one rule for "a relaunch does not spend the retry budget": a launch that ran nothing (the
   * backend had no capacity: `refusals`) or whose capacity the platform took back (Spot:
   * `preemptions`) gives its budget back, up to `capacity.maxRelaunches` times. False when it
   * counts after all (too many; a speculative duplicate never used the budget).
   */
  #launchIsFree(task: TaskState, attempt: AttemptState, why: "refusals" | "preemptions"): boolean {
    if (attempt.cause === "speculation") return false;
    const times = (task[why] = (task[why] ?? 0) + 1);
    if (times > this.policy.capacity.maxRelaunches) return false;
    task.budgetUsed--;
    return true;
  }

  #onSuccess(task: TaskState, attempt: AttemptState, outcome: Extract<AttemptOutcome, { status: "succeeded" }>): void {
    const host = this.#host;
    const won = task.status === "active";
    host.emit(() => ({ type: "attempt-succeeded", ...this.#base(), taskId: task.id, attemptId: attempt.id, stats: outcome.stats, won }));
    if (!won) return;
    this.#durations.push(host.clock.now() - countedFrom(attempt, this.inputsReadyAt ?? -Infinity));
    this.#setStatus(task, "succeeded");
    if (this.allSucceeded) this.succeededAt ??= host.clock.now();
    for (const other of liveAttempts(task)) this.#cancelAttempt(task, other, `lost the race to ${attempt.id}`);
    host.emit(() => ({ type: "task-succeeded", ...this.#base(), taskId: task.id, attemptId: attempt.id }));
    this.#results.push({ taskId: task.id, index: task.index, attemptId: attempt.id, input: task.input as I, output: outcome.output as O, stats: outcome.stats, attempts: task.attempts.length });
    task.input = undefined;
    this.#evaluateSpeculation();
  }

  #onFailure(task: TaskState, attempt: AttemptState, error: SerializedError, stats: AttemptStats): void {
    const retry = this.policy.retry;
    const retryable = !error.nonRetryable && !retry.nonRetryableErrorTypes.includes(error.type);
    // The platform took the capacity back (Spot): the retry does not spend the task's budget.
    if (error.type === "TaskPreempted") this.#launchIsFree(task, attempt, "preemptions");
    this.#host.emit(() => ({ type: "attempt-failed", ...this.#base(), taskId: task.id, attemptId: attempt.id, error, retryable, stats }));
    if (task.status !== "active") return;
    task.errors.push({ attemptId: attempt.id, error });
    if (!retryable) return this.#failTask(task, error);
    if (liveAttempts(task).length > 0) return; // a duplicate still runs and may yet succeed
    if (task.budgetUsed >= retry.maxAttempts) return this.#failTask(task, error);
    const delayMs = retryDelay(retry, task.budgetUsed, this.#host.random);
    this.#setStatus(task, "waiting-retry");
    this.#host.emit(() => ({ type: "retry-scheduled", ...this.#base(), taskId: task.id, nextAttempt: task.attempts.length + 1, delayMs, reason: error }));
    task.retryTimer = this.#host.clock.setTimeout(() => {
      task.retryTimer = undefined;
      if (task.status !== "waiting-retry") return;
      this.#setStatus(task, "queued");
      this.#launchQueue.pushFront({ task, cause: "retry" });
      this.#host.requestPump();
    }, delayMs);
  }

  #failTask(task: TaskState, error: SerializedError): void {
    this.#setStatus(task, "failed");
    for (const other of liveAttempts(task)) this.#cancelAttempt(task, other, `task ${task.id} failed`);
    this.#host.emit(() => ({ type: "task-failed", ...this.#base(), taskId: task.id, error }));
    this.#host.taskFailed(new TaskFailedError(task.id, this.worker, task.errors));
  }

  /** Stops waiting for an attempt (timeout, lost): kill it in the background and fail it now. */
  #giveUp(task: TaskState, attempt: AttemptState, error: SmelterError): void {
    if (!attempt.live) return;
    this.#endAttempt(task, attempt);
    attempt.killReason = error.message;
    this.#kill(task, attempt, error.message);
    this.#onFailure(task, attempt, serializeError(error), this.#schedulerStats(attempt));
    this.#checkDone();
  }

  /** Our decision to stop an attempt that is no longer needed (lost a race, job stopping). */
  #cancelAttempt(task: TaskState, attempt: AttemptState, reason: string): void {
    if (!attempt.live) return;
    this.#endAttempt(task, attempt);
    attempt.killReason = reason;
    this.#host.emit(() => ({ type: "attempt-cancelled", ...this.#base(), taskId: task.id, attemptId: attempt.id, reason }));
    this.#kill(task, attempt, reason);
  }

  /**
   * Asks the backend to stop an attempt. The slot is held until the kill is confirmed; a kill
   * the backend cannot confirm ("abandoned"), or that takes longer than cancelTimeout, abandons
   * the attempt: its slot is freed and whatever it reports later is ignored.
   */
  #kill(task: TaskState, attempt: AttemptState, reason: string): void {
    const host = this.#host;
    const clock = host.clock;
    const base = () => ({ ...this.#base(), taskId: task.id, attemptId: attempt.id });
    host.emit(() => ({ type: "kill-requested", ...base(), reason }));
    const timeout = this.policy.timeouts.cancelTimeout;
    const timer = clock.setTimeout(() => done("abandoned", `the kill was not confirmed within ${timeout} ms (cancelTimeout)`), timeout);
    const done = (result: KillOutcome, why: string): void => {
      clock.clearTimeout(timer);
      if (!attempt.holdsSlot) return;
      const stats = attempt.stats ?? this.#schedulerStats(attempt);
      if (result === "abandoned") {
        attempt.abandoned = true;
        this.counts.abandoned++;
        host.emit(() => ({ type: "attempt-abandoned", ...base(), reason: why, stats }));
      } else {
        host.emit(() => ({ type: "kill-confirmed", ...base(), stats }));
      }
      this.#releaseSlot(attempt);
    };
    const handle = attempt.handle;
    if (!handle) return done("stopped", "");
    handle.kill(reason).then(
      (result) => done(result === "abandoned" ? "abandoned" : "stopped", `the ${host.backend.name} backend cannot stop it`),
      (err: unknown) => done("abandoned", `the kill failed: ${(err as Error)?.message ?? String(err)}`),
    );
  }

  #endAttempt(task: TaskState, attempt: AttemptState): void {
    attempt.live = false;
    for (const t of attempt.timers) this.#host.clock.clearTimeout(t);
    attempt.timers = [];
    if (!task.attempts.some((a) => a.live)) this.#active.delete(task);
  }

  #releaseSlot(attempt: AttemptState): void {
    if (!attempt.holdsSlot) return;
    attempt.holdsSlot = false;
    if (!attempt.live) attempt.handle = undefined; // let the backend's closures go
    this.slotsHeld--;
    this.#host.releaseSlot();
    this.#checkDone();
  }

  // ---- speculation, completion, abort ------------------------------------------------

  #evaluateSpeculation(): void {
    const s = this.policy.speculation;
    if (this.#aborted || (s.afterPercent === undefined && s.lastTasks === undefined && s.slowerThanMedian === undefined)) return;
    const c = this.counts;
    const picks = pickSpeculative(
      { closed: c.closed, total: c.total, succeeded: c.succeeded, unfinished: c.total - c.succeeded - c.failed, active: this.#active, durations: this.#durations, now: this.#host.clock.now(), inputsReadyAt: this.inputsReadyAt },
      s,
    );
    for (const { task, rule } of picks) {
      task.speculationQueued = true;
      this.#launchQueue.pushFront({ task, cause: "speculation", rule });
    }
    if (picks.length) this.#host.requestPump();
  }

  /** Rule (c) needs a clock tick while attempts run. */
  #armTick(): void {
    const s = this.policy.speculation;
    if (s.slowerThanMedian === undefined || this.#tickTimer !== undefined) return;
    this.#tickTimer = this.#host.clock.setTimeout(() => {
      this.#tickTimer = undefined;
      if (this.#active.size === 0 || this.#aborted) return;
      this.#evaluateSpeculation();
      this.#armTick();
    }, s.checkInterval);
  }

  #checkDone(): void {
    const c = this.counts;
    const finished = c.closed && c.succeeded + c.failed === c.total;
    if ((finished || this.#aborted) && !this.#resultsEnded) {
      this.#resultsEnded = true;
      this.#results.end();
    }
    if ((finished || this.#aborted) && this.slotsHeld === 0 && !this.#settled) {
      this.#settled = true;
      this.#host.clock.clearTimeout(this.#tickTimer);
      if (!this.#aborted) this.#host.emit(() => ({ type: "stage-done", ...this.#base(), counts: { ...this.counts } }));
      for (const w of this.#settledWaiters.splice(0)) w();
    }
    this.#host.stageChanged();
  }

  /** Stops everything: no new launches, retries dropped, live attempts killed. Results end with `error`. */
  abort(error: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.counts.closed = true;
    this.#launchQueue.clear();
    this.#results.fail(error);
    this.#resultsEnded = true;
    for (const task of this.#unfinished) {
      if (task.status === "cancelled") continue;
      this.#host.clock.clearTimeout(task.retryTimer);
      for (const a of liveAttempts(task)) this.#cancelAttempt(task, a, error.message);
      this.#setStatus(task, "cancelled");
    }
    this.#checkDone();
  }

  #setStatus(task: TaskState, status: TaskStatus): void {
    const c = this.counts;
    const bucket = (s: TaskStatus): "queued" | "running" | "succeeded" | "failed" | undefined =>
      s === "queued" || s === "waiting-retry" ? "queued" : s === "active" ? "running" : s === "succeeded" ? "succeeded" : s === "failed" ? "failed" : undefined;
    const from = bucket(task.status);
    const to = bucket(status);
    if (from) c[from]--;
    if (to) c[to]++;
    task.status = status;
    if (status === "succeeded" || status === "failed") this.#unfinished.delete(task);
  }

  #base(): { stage: number; stageName: string } {
    return { stage: this.number, stageName: this.name };
  }
}

function checkInput(input: unknown, stage: string): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch (err) {
    throw new ConfigError(`a task input of stage ${stage} is not JSON (${(err as Error).message}): task inputs must be small JSON; put data in object storage`);
  }
  if (json !== undefined && json.length > DEFAULT_MAX_INPUT_BYTES) {
    throw new ConfigError(`a task input of stage ${stage} is ${json.length} bytes, over the ${DEFAULT_MAX_INPUT_BYTES}-byte limit: put the data in object storage and pass its URL`);
  }
}
