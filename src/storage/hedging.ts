/**
 * The hedging rule of the ranged reader (ranged.ts), in one place so that the simulator's store
 * model (simulate/store-model.ts) runs the same rule: a GET still running `hedgeAfter` times its
 * expected time after it was sent (never sooner than `minHedgeDelayMs`) gets a hedge, a duplicate
 * GET; when neither has finished one delay later (the hedge is slow too), another; at most
 * `maxHedges` per GET. The first to succeed wins; the others are aborted.
 */

/** When hedges fire. */
export interface HedgeRule {
  /** Hedge a GET still running after this many times its expected time; 0 turns hedging off. */
  hedgeAfter: number;
  /** Never hedge sooner than this, ms (timer granularity, tiny GETs). */
  minHedgeDelayMs: number;
  /** Hedges of one GET at most. */
  maxHedges: number;
}

/** The ranged reader's defaults. */
export const DEFAULT_HEDGE_RULE: Readonly<HedgeRule> = { hedgeAfter: 3, minHedgeDelayMs: 10, maxHedges: 2 };

/**
 * When hedge `n` (1 = the first) of a GET expected to take `expectedMs` is sent, in ms after the
 * GET was, if no attempt has finished by then; undefined when there is no such hedge.
 */
export function hedgeAt(rule: HedgeRule, expectedMs: number, n: number): number | undefined {
  if (rule.hedgeAfter <= 0 || n < 1 || n > rule.maxHedges) return undefined;
  return n * Math.max(rule.minHedgeDelayMs, rule.hedgeAfter * expectedMs);
}

/**
 * A hedged GET on paper, for a model whose attempts' durations are known when sent: attempt `i`
 * (0: the GET, then its hedges) takes `duration(i)` ms from when it is sent (asked lazily, in
 * order, only for attempts sent). Returns when the first finishes, how many hedges were sent,
 * and which attempt won.
 */
export function hedgedGetMs(rule: HedgeRule, expectedMs: number, duration: (attempt: number) => number): { ms: number; hedges: number; winner: number } {
  let ms = duration(0);
  let winner = 0;
  let hedges = 0;
  for (let n = 1; ; n++) {
    const at = hedgeAt(rule, expectedMs, n);
    if (at === undefined || ms <= at) break;
    hedges = n;
    const done = at + duration(n);
    if (done < ms) {
      ms = done;
      winner = n;
    }
  }
  return { ms, hedges, winner };
}
