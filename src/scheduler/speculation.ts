/**
 * Which running tasks to duplicate (speculative re-execution of stragglers). Pure decisions over
 * a stage's state, evaluated by the stage after each success, on close, and on a timer.
 *
 * (a) `afterPercent`: once the stage is closed and `succeeded / total >= afterPercent%`, every
 *     running task gets a duplicate (Honeycomb's impatience). Note `>=`: at exactly 90% of
 *     10 tasks (9 done) it fires; the upstream Smelter had this comparison inverted.
 * (b) `lastTasks`: once closed and at most N tasks are unfinished, each gets a duplicate.
 * (c) `slowerThanMedian`: once `minFinished` tasks succeeded, an attempt running longer than
 *     k x the median duration of the succeeded ones gets a duplicate.
 * A task is duplicated at most `maxDuplicatesPerTask` times, and never while a duplicate of it
 * is still live.
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
  /** Durations (ms) of the winning attempts of succeeded tasks. */
  durations: readonly number[];
  now: number;
}

export function pickSpeculative(view: SpeculationView, policy: SpeculationPolicy): { task: TaskState; rule: SpeculationRule }[] {
  const picks: { task: TaskState; rule: SpeculationRule }[] = [];
  const eligible = [...view.active].filter((t) => canDuplicate(t, policy));
  if (eligible.length === 0) return picks;
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
  if (policy.slowerThanMedian !== undefined && view.durations.length >= policy.minFinished) {
    const limit = policy.slowerThanMedian * median(view.durations);
    for (const t of eligible) {
      const oldest = t.attempts.find((a) => a.live);
      if (oldest && view.now - (oldest.runningAt ?? oldest.launchedAt) > limit) take(t, "slowerThanMedian");
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
