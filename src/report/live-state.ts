/**
 * What the live page (`--ui`) shows, kept up to date one event at a time in bounded memory, so
 * that a 100,000-task job costs the server what a 100-task job does:
 *  - per-stage counters (tasks, done, running, failed, attempts, retries, duplicates and wins);
 *  - the timeline, downsampled: every attempt while it runs; of the finished ones at most
 *    {@link MAX_FINISHED_BARS}, keeping every `stride`-th in finishing order (the stride doubles
 *    when the bars fill up), plus failures and speculated tasks' attempts (pinned, up to
 *    {@link MAX_PINNED_BARS}); each bar carries its finishing ordinal so the page drops the same ones;
 *  - the last 100 failures and the running cost (summed per attempt as it ends).
 * A poll (`state(since)`) returns one batch: the bars that changed since the page's last poll,
 * new log lines, and the counters. Nothing here keeps events.
 */
import type { AttemptCapacity } from "../job/attempt.js";
import { costLine, estimateCost, type CostEstimate } from "./cost.js";
import type { ReportEvent } from "./event-input.js";
import { OUTCOME_COLORS, STAGE_COLORS } from "./html.js";
import { DEFAULT_PRICES, type PriceTable } from "./prices.js";
import type { AttemptOutcome, TimelineAttempt } from "./timeline.js";

export const MAX_FINISHED_BARS = 2000;
const MAX_PINNED_BARS = 1000;
const MAX_FAILURES = 100;

export interface LiveLog {
  seq: number;
  line: string;
}

export interface LiveStage {
  name: string;
  tasks: number;
  succeeded: number;
  failed: number;
  running: number;
  attempts: number;
  retries: number;
  speculative: number;
  speculativeWon: number;
}

/** One timeline bar, times in ms from the job's start. */
export interface LiveBar {
  id: string;
  short: string;
  task: string;
  stageName: string;
  stageIndex: number;
  cause: "initial" | "retry" | "speculation";
  outcome: AttemptOutcome;
  runtime: string;
  laneName: string;
  launched: number;
  running: number | null;
  ended: number;
  error?: string;
  reason?: string;
  bytesRead?: number;
  /** Finishing ordinal (1-based); absent while running. */
  ord?: number;
  /** Kept whatever the stride (a failure, an attempt of a speculated task). */
  pinned?: true;
}

export interface LiveState {
  /** Pass back as `since` on the next poll. */
  seq: number;
  jobId: string;
  status: string;
  elapsedMs: number;
  stages: LiveStage[];
  lanes: string[];
  /** Bars changed since `since` (all kept bars when `since` is 0), and every running one. */
  attempts: LiveBar[];
  /** The page keeps finished bars whose `ord % stride === 0`, and pinned ones. */
  stride: number;
  /** Attempts finished so far, and how many of them the timeline keeps. */
  finished: number;
  shown: number;
  logs: string[];
  failures: { attemptId: string; message: string }[];
  jobError?: string;
  cost: string;
  colors: typeof OUTCOME_COLORS;
  stageColors: string[];
}

interface Open {
  bar: LiveBar;
  stage: number;
  slot: number;
  launchedAt: number;
  runningAt?: number;
  capacity?: AttemptCapacity;
}

export class LiveFeed {
  seq = 0;
  #jobId = "";
  #status = "running";
  #jobError: string | undefined;
  #start: number | undefined;
  #end: number | undefined;
  #stages = new Map<number, LiveStage & { index: number }>();
  #open = new Map<string, Open>();
  #bars = new Map<string, { bar: LiveBar; changed: number }>();
  #finished = 0;
  #keptFinished = 0;
  #pinned = 0;
  #stride = 1;
  #speculated = new Set<string>();
  #freeSlots: number[] = [];
  #lanes: string[] = [];
  #failures: { attemptId: string; message: string }[] = [];
  #cost: CostEstimate | undefined;

  constructor(private readonly o: { backend: string; prices?: PriceTable }) {}

  /** Takes the next event (log lines and heartbeats are the caller's). */
  add(e: ReportEvent): void {
    this.seq++;
    this.#jobId ||= e.jobId;
    this.#start ??= e.time;
    if (!("stage" in e)) {
      if (e.type === "job-done") {
        this.#status = e.status;
        this.#end = e.time;
        if (e.error) this.#jobError = `${e.error.name}: ${e.error.message}`;
      }
      return;
    }
    const stage = this.#stage(e.stage, e.stageName);
    switch (e.type) {
      case "task-queued":
        stage.tasks++;
        return;
      case "stage-closed":
        stage.tasks = Math.max(stage.tasks, e.tasks);
        return;
      case "task-succeeded":
        stage.succeeded++;
        return;
      case "task-failed":
        stage.failed++;
        return;
      case "speculation-launched":
        this.#speculated.add(e.taskId);
        this.#pin(e.of);
        this.#pin(e.attemptId);
        return;
      case "attempt-launched": {
        stage.attempts++;
        if (e.cause === "retry") stage.retries++;
        if (e.cause === "speculation") stage.speculative++;
        const slot = this.#freeSlots.length ? this.#freeSlots.pop()! : this.#lanes.push(`slot ${this.#lanes.length + 1}`) - 1;
        const bar: LiveBar = {
          id: e.attemptId, short: e.attemptId.split("-").slice(-2).join("-"), task: e.taskId, stageName: e.stageName, stageIndex: stage.index,
          cause: e.cause, outcome: "unfinished", runtime: e.runtimeId, laneName: this.#lanes[slot]!, launched: e.time - this.#start, running: null, ended: e.time - this.#start,
        };
        this.#open.set(e.attemptId, { bar, stage: e.stage, slot, launchedAt: e.time });
        this.#bars.set(e.attemptId, { bar, changed: this.seq });
        if (this.#speculated.has(e.taskId)) this.#pin(e.attemptId);
        return;
      }
      case "attempt-running": {
        const a = this.#open.get(e.attemptId);
        if (!a) return;
        a.runningAt = e.time;
        if (e.capacity) a.capacity = e.capacity;
        a.bar.running = e.time - this.#start;
        a.bar.runtime = e.runtimeId;
        this.#touch(e.attemptId);
        return;
      }
      case "attempt-succeeded":
        if (e.won && this.#open.get(e.attemptId)?.bar.cause === "speculation") stage.speculativeWon++;
        return this.#ended(e.attemptId, e.time, e.won ? "won" : "lost", e.stats?.counters);
      case "attempt-failed": {
        const message = `${e.error.name}: ${e.error.message}`;
        this.#failures.push({ attemptId: e.attemptId, message });
        if (this.#failures.length > MAX_FAILURES) this.#failures.shift();
        const bar = this.#open.get(e.attemptId)?.bar;
        if (bar) bar.error = message;
        this.#pin(e.attemptId);
        return this.#ended(e.attemptId, e.time, "failed", e.stats?.counters);
      }
      case "attempt-cancelled":
        return this.#ended(e.attemptId, e.time, "cancelled", undefined, e.reason);
      case "attempt-no-capacity":
        return this.#ended(e.attemptId, e.time, "cancelled", e.stats?.counters, `no capacity: ${e.reason}`);
      case "attempt-abandoned":
        return this.#ended(e.attemptId, e.time, "abandoned", undefined, e.reason);
      default:
        return;
    }
  }

  /** The batch for a page that last saw `since` (0: everything kept); running bars are drawn up to `now`. */
  state(o: { since: number; now: number; logs: readonly LiveLog[] }): LiveState {
    const start = this.#start ?? o.now;
    const end = this.#end ?? Math.max(o.now, start);
    const attempts: LiveBar[] = [];
    for (const { bar, changed } of this.#bars.values()) {
      if (bar.outcome === "unfinished") attempts.push({ ...bar, ended: Math.max(bar.ended, end - start) });
      else if (o.since === 0 || changed > o.since) attempts.push(bar);
    }
    const open = [...this.#open.values()].map((a) => this.#timelineAttempt(a, end, "unfinished"));
    const cost = this.#cost ? mergeCost(this.#cost, estimateCost(open, this.o.backend, this.#prices)) : estimateCost(open, this.o.backend, this.#prices);
    return {
      seq: this.seq,
      jobId: this.#jobId,
      status: this.#status,
      elapsedMs: end - start,
      stages: [...this.#stages.entries()].sort(([, a], [, b]) => a.index - b.index).map(([n, { index: _i, ...s }]) => ({ ...s, running: open.filter((a) => a.stage === n).length })),
      lanes: this.#lanes,
      attempts,
      stride: this.#stride,
      finished: this.#finished,
      shown: this.#bars.size - this.#open.size,
      logs: o.logs.filter((l) => l.seq > o.since).map((l) => l.line),
      failures: this.#failures.slice(),
      ...(this.#jobError ? { jobError: this.#jobError } : {}),
      cost: costLine(cost).replace(/^\[smelter\] /, ""),
      colors: OUTCOME_COLORS,
      stageColors: STAGE_COLORS,
    };
  }

  get #prices(): PriceTable {
    return this.o.prices ?? DEFAULT_PRICES;
  }

  #stage(n: number, name: string) {
    let s = this.#stages.get(n);
    if (!s) {
      s = { index: this.#stages.size, name, tasks: 0, succeeded: 0, failed: 0, running: 0, attempts: 0, retries: 0, speculative: 0, speculativeWon: 0 };
      this.#stages.set(n, s);
    }
    return s;
  }

  #touch(attemptId: string): void {
    const kept = this.#bars.get(attemptId);
    if (kept) kept.changed = this.seq;
  }

  #pin(attemptId: string): void {
    const kept = this.#bars.get(attemptId);
    if (!kept || kept.bar.pinned || this.#pinned >= MAX_PINNED_BARS) return;
    kept.bar.pinned = true;
    kept.changed = this.seq;
    this.#pinned++;
    if (kept.bar.ord !== undefined && kept.bar.ord % this.#stride === 0) this.#keptFinished--; // counted apart now
  }

  #timelineAttempt(a: Open, endedAt: number, outcome: AttemptOutcome, counters: Record<string, number> = {}): TimelineAttempt {
    return { attemptId: a.bar.id, taskId: a.bar.task, stage: a.stage, stageName: a.bar.stageName, cause: a.bar.cause, runtimeId: a.bar.runtime, lane: a.slot, launchedAt: a.launchedAt, ...(a.runningAt !== undefined ? { runningAt: a.runningAt } : {}), ...(a.capacity ? { capacity: a.capacity } : {}), endedAt, outcome, counters };
  }

  #ended(attemptId: string, time: number, outcome: AttemptOutcome, counters?: Record<string, number>, reason?: string): void {
    const a = this.#open.get(attemptId);
    if (!a) return;
    this.#open.delete(attemptId);
    // Free slots sorted high to low, so pop() reuses the lowest: the timeline stays compact.
    let lo = 0;
    for (let hi = this.#freeSlots.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (this.#freeSlots[mid]! > a.slot) lo = mid + 1;
      else hi = mid;
    }
    this.#freeSlots.splice(lo, 0, a.slot);
    const ended = this.#timelineAttempt(a, time, outcome, counters);
    const one = estimateCost([ended], this.o.backend, this.#prices);
    this.#cost = this.#cost ? mergeCost(this.#cost, one) : one;
    const bar = a.bar;
    bar.outcome = outcome;
    bar.ended = time - (this.#start ?? time);
    if (reason) bar.reason = reason;
    if (counters?.bytesRead) bar.bytesRead = counters.bytesRead;
    bar.ord = ++this.#finished;
    this.#touch(attemptId);
    if (bar.pinned) return;
    if (bar.ord % this.#stride !== 0) {
      this.#bars.delete(attemptId);
      return;
    }
    if (++this.#keptFinished <= MAX_FINISHED_BARS) return;
    this.#stride *= 2; // downsample: keep every other one of the kept finished bars
    this.#keptFinished = 0;
    for (const [id, kept] of this.#bars) {
      const b = kept.bar;
      if (b.ord === undefined || b.pinned) continue;
      if (b.ord % this.#stride === 0) this.#keptFinished++;
      else this.#bars.delete(id);
    }
  }
}

/** The sum of two estimates of the same backend and prices (each attempt is priced on its own: sums add up). */
function mergeCost(a: CostEstimate, b: CostEstimate): CostEstimate {
  const lines = a.lines.map((l) => {
    const m = b.lines.find((x) => x.scope === l.scope && x.item === l.item);
    return m ? { ...l, quantity: l.quantity + m.quantity, usd: l.usd + m.usd } : l;
  });
  const places = a.places.map((p) => {
    const m = b.places.find((x) => x.place === p.place)!;
    return { place: p.place, compute: p.compute + m.compute, failures: p.failures + m.failures, speculation: p.speculation + m.speculation, cancelled: p.cancelled + m.cancelled };
  });
  return { ...a, lines, places, storage: a.storage + b.storage, total: a.total + b.total };
}
