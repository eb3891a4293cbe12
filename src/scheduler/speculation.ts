/**
 * Which running tasks to duplicate (speculative re-execution of stragglers). Pure decisions over
 * a stage's state, evaluated by the stage after each success, on close, and on a timer.
 *
 * (a) `afterPercent`: once the stage is closed and `succeeded / total >= afterPercent%`, every
 *     running task gets a duplicate (Honeycomb's impatience). Note `>=`: at exactly 90% of
 *     10 tasks (9 done) it fires; the upstream Smelter had this comparison inverted.
 * (b) `lastTasks`: once closed and at most N tasks are unfinished, each gets a duplicate.
 * (c) `slowerThanMedian`: once `minFinished` tasks succeeded, an attempt running longer than
 *     k x the median duration of the succeeded ones gets a duplicate. A stage that reads other
 *     stages (`after`) counts running time from when those were all done (`inputsReadyAt`), not
 *     from its launch: its attempts start early and wait for their inputs, and that wait is
 *     nobody's straggling. When the task's youngest live attempt (its duplicate) is over the limit
 *     too, it gets another one, up to `maxDuplicatesPerTask`.
 * A task is duplicated at most `maxDuplicatesPerTask` times; rules (a) and (b) never while a
 * duplicate of it is still live.
 */
import type { SpeculationRule } from "../job/events.js";
import type { SpeculationPolicy } from "../job/policy.js";
import type { TaskState } from "./types.js";

export interface SpeculationView {
  closed: boolean;
  total: number;
  succeeded: number;
  /** Tasks neither succeeded nor failed. */
  unfinished: number;
  /** Tasks with at least one live attempt. */
  active: Iterable<TaskState>;
  /** Durations (ms) of the winning attempts of succeeded tasks (from `inputsReadyAt` at the earliest). */
  durations: readonly number[];
  now: number;
  /** When every stage this one reads was done (-Infinity: it reads none); undefined: not yet, rule (c) waits. @default -Infinity */
  inputsReadyAt?: number | undefined;
}

/** When an attempt's running time starts to count: its start, or its inputs' readiness if later. */
export function countedFrom(attempt: { launchedAt: number; runningAt?: number }, inputsReadyAt: number): number {
  return Math.max(attempt.runningAt ?? attempt.launchedAt, inputsReadyAt);
}

export function pickSpeculative(view: SpeculationView, policy: SpeculationPolicy): { task: TaskState; rule: SpeculationRule }[] {
  const picks: { task: TaskState; rule: SpeculationRule }[] = [];
  const active = [...view.active];
  const eligible = active.filter((t) => canDuplicate(t, policy));
  const taken = new Set<TaskState>();
  const take = (task: TaskState, rule: SpeculationRule) => {
    if (taken.has(task)) return;
    taken.add(task);
    picks.push({ task, rule });
  };
  if (policy.afterPercent !== undefined && view.closed && view.total > 0 && view.succeeded * 100 >= policy.afterPercent * view.total) {
    for (const t of eligible) take(t, "afterPercent");
  }
  if (policy.lastTasks !== undefined && view.closed && view.unfinished <= policy.lastTasks) {
    for (const t of eligible) take(t, "lastTasks");
  }
  const ready = "inputsReadyAt" in view ? view.inputsReadyAt : -Infinity;
  if (policy.slowerThanMedian !== undefined && ready !== undefined && view.durations.length >= policy.minFinished) {
    const limit = policy.slowerThanMedian * median(view.durations);
    for (const t of active) {
      if (t.status !== "active" || t.speculationQueued || t.duplicates >= policy.maxDuplicatesPerTask) continue;
      // The youngest live attempt: the original, or its duplicate when that one is slow too.
      const youngest = t.attempts.findLast((a) => a.live);
      if (youngest && view.now - countedFrom(youngest, ready) > limit) take(t, "slowerThanMedian");
    }
  }
  return picks;
}

function canDuplicate(task: TaskState, policy: SpeculationPolicy): boolean {
  if (task.status !== "active" || task.speculationQueued || task.duplicates >= policy.maxDuplicatesPerTask) return false;
  let live = 0;
  for (const a of task.attempts) {
    if (!a.live) continue;
    if (a.cause === "speculation") return false;
    live++;
  }
  return live > 0;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
