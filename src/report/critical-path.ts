/**
 * The critical path: the chain of tasks the job's end waited on. Starting from the attempt that
 * ended last (the last winner, or the failure that ended the job), each step goes back to what
 * that task waited for:
 *  - `input`: the last task of an earlier stage to finish before it did (its input); when the
 *    task was launched after its inputs were all done, the input it was launched on;
 *  - `slot`: else, the attempt whose ending freed the slot it was launched into (an ending at
 *    most `slackMs` before its first launch);
 *  - nothing: it was launched as soon as it was pushed; the chain starts there.
 * A task's step spans from its first attempt's launch (retries and duplicates included) to the
 * ending of the attempt that settled it. Pure function.
 */
import type { TimelineAttempt } from "./timeline.js";

export interface CriticalStep {
  attemptId: string;
  taskId: string;
  stage: number;
  stageName: string;
  /** First launch of the task, epoch ms. */
  start: number;
  end: number;
  /** Attempts the task needed (retries and duplicates included). */
  attempts: number;
  /** What the next step waited for on this one: `input` or `slot`; `end` for the last step. */
  then: "input" | "slot" | "end";
}

export function criticalPath(attempts: readonly TimelineAttempt[], slackMs = 50): CriticalStep[] {
  const settled = attempts.filter((a) => a.outcome === "won" || a.outcome === "failed");
  const last = settled.reduce<TimelineAttempt | undefined>((m, a) => (!m || a.endedAt > m.endedAt ? a : m), undefined);
  if (!last) return [];
  const byEnd = (list: TimelineAttempt[]) => list.sort((a, b) => a.endedAt - b.endedAt);
  const winnersByStage = new Map<number, TimelineAttempt[]>();
  for (const a of attempts) {
    if (a.outcome !== "won") continue;
    const list = winnersByStage.get(a.stage);
    if (list) list.push(a);
    else winnersByStage.set(a.stage, [a]);
  }
  for (const list of winnersByStage.values()) byEnd(list);
  const all = byEnd([...attempts]);
  const taskStart = new Map<string, { start: number; attempts: number }>();
  for (const a of attempts) {
    const t = taskStart.get(a.taskId);
    taskStart.set(a.taskId, { start: Math.min(t?.start ?? Infinity, a.launchedAt), attempts: (t?.attempts ?? 0) + 1 });
  }
  const steps: CriticalStep[] = [];
  const seen = new Set<string>();
  let current: TimelineAttempt | undefined = last;
  let then: CriticalStep["then"] = "end";
  while (current && !seen.has(current.taskId)) {
    seen.add(current.taskId);
    const t = taskStart.get(current.taskId)!;
    steps.push({ attemptId: current.attemptId, taskId: current.taskId, stage: current.stage, stageName: current.stageName, start: t.start, end: current.endedAt, attempts: t.attempts, then });
    const cur: TimelineAttempt = current;
    let input: TimelineAttempt | undefined;
    for (const [stage, list] of winnersByStage) {
      if (stage >= cur.stage) continue;
      const c = latestBefore(list, cur.endedAt, (a) => !seen.has(a.taskId));
      if (c && (!input || c.endedAt > input.endedAt)) input = c;
    }
    const slot = latestBefore(all, t.start, (a) => a.taskId !== cur.taskId && !seen.has(a.taskId));
    if (input && (input.endedAt > t.start || !slot || input.endedAt >= slot.endedAt || t.start - input.endedAt <= slackMs)) {
      current = input;
      then = "input";
    } else if (slot && t.start - slot.endedAt <= slackMs) {
      current = slot;
      then = "slot";
    } else current = undefined;
  }
  return steps.reverse();
}

/** The attempt ending last at or before `time` that passes `ok`, in `sorted` (by end): a binary search, then a scan back. */
function latestBefore(sorted: readonly TimelineAttempt[], time: number, ok: (a: TimelineAttempt) => boolean): TimelineAttempt | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.endedAt <= time) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0; i--) if (ok(sorted[i]!)) return sorted[i];
  return undefined;
}
