/**
 * An attempt's outcome on a remote backend (Lambda, Fargate, Kubernetes): its run's, or, when
 * `cancel` comes first (a kill while queued, or one that cannot wait for the platform), a
 * cancelled outcome at once. The run's own outcome, arriving later, is then not taken.
 */
import type { AttemptOutcome } from "../../job/attempt.js";
import { CancelledError, serializeError } from "../../job/errors.js";
import type { RuntimeContext } from "../../job/runtime-context.js";
import { emptyStats } from "../../job/stats.js";

export interface CancellableAttempt {
  result: Promise<AttemptOutcome>;
  /** The outcome is decided (the run's or the cancel's). */
  settled(): boolean;
  /** Decides the outcome as cancelled, saying why (no effect once settled). */
  cancel(why: string): void;
}

export function cancellable(finished: Promise<AttemptOutcome>, attemptId: string, clock: RuntimeContext["clock"]): CancellableAttempt {
  const launchedAt = clock.now();
  let resolveCancelled!: (o: AttemptOutcome) => void;
  const cancelled = new Promise<AttemptOutcome>((r) => (resolveCancelled = r));
  let settled = false;
  const result = Promise.race([finished, cancelled]).then((outcome) => ((settled = true), outcome));
  return {
    result,
    settled: () => settled,
    cancel: (why) => resolveCancelled({ status: "failed", error: serializeError(new CancelledError(`attempt ${attemptId} was cancelled: ${why}`)), stats: emptyStats(launchedAt, clock.now()) }),
  };
}
