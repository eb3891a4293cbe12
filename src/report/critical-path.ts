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
  const winners = attempts.filter((a) => a.outcome === "won");
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
    const input = latest(winners.filter((a) => a.stage < cur.stage && a.endedAt <= cur.endedAt && !seen.has(a.taskId)));
    const slot = latest(attempts.filter((a) => a.taskId !== cur.taskId && a.endedAt <= t.start && !seen.has(a.taskId)));
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

function latest(list: TimelineAttempt[]): TimelineAttempt | undefined {
  return list.reduce<TimelineAttempt | undefined>((m, a) => (!m || a.endedAt > m.endedAt ? a : m), undefined);
}
