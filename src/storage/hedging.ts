/**
 * The hedging rule of the ranged reader (ranged.ts), in one place so that the simulator's store
 * model (simulate/store-model.ts) runs the same rule. A GET gets a hedge, a duplicate GET:
 * - when no attempt has its response headers (the first byte) `firstByteAfter` times the usual
 *   time to first byte after it was sent (never sooner than `minFirstByteDelayMs`): a stalled
 *   request is seen long before a whole large GET would be late. Only where the store tells when
 *   headers arrive (S3) and the reader has seen some;
 * - when none has finished `hedgeAfter` times its expected time after it was sent (never sooner
 *   than `minHedgeDelayMs`): a body that flows too slowly, or a store that does not tell;
 * and again one delay later when the hedges are slow too, at most `maxHedges` per GET. The first
 * to succeed wins; the others are aborted.
 */

/** When hedges fire. */
export interface HedgeRule {
  /** Hedge a GET still running after this many times its expected time; 0 turns hedging off (both rules). */
  hedgeAfter: number;
  /** Never hedge sooner than this, ms (timer granularity, tiny GETs). */
  minHedgeDelayMs: number;
  /** Hedges of one GET at most. */
  maxHedges: number;
  /** Hedge a GET with no response headers after this many times the usual time to first byte; 0 turns this rule off. */
  firstByteAfter: number;
  /** Never hedge for a late first byte sooner than this, ms. */
  minFirstByteDelayMs: number;
}

/**
 * The ranged reader's defaults. First byte: 5x its median and at least 50 ms (S3's median ~14 ms,
 * p99 ~80 ms: about 2% of GETs hedged early, each aborted as soon as the other answers).
 */
export const DEFAULT_HEDGE_RULE: Readonly<HedgeRule> = { hedgeAfter: 3, minHedgeDelayMs: 10, maxHedges: 2, firstByteAfter: 5, minFirstByteDelayMs: 50 };

/** What the rule needs to know of a GET: its expected time, and its expected time to first byte when the store tells first bytes. */
export interface HedgeExpectation {
  totalMs: number;
  /** undefined: the store does not tell when headers arrive (or none seen yet): only the total rule applies. */
  firstByteMs?: number | undefined;
}

/**
 * When hedge `n` (1 = the first) of a GET is due, in ms after the GET was sent, if by then no
 * attempt has finished and (for the first-byte rule) none has its first byte; undefined when
 * there is no such hedge.
 */
export function hedgeAt(rule: HedgeRule, expected: HedgeExpectation, n: number, firstByteSeen: boolean): number | undefined {
  if (rule.hedgeAfter <= 0 || n < 1 || n > rule.maxHedges) return undefined;
  const total = n * Math.max(rule.minHedgeDelayMs, rule.hedgeAfter * expected.totalMs);
  if (firstByteSeen || rule.firstByteAfter <= 0 || expected.firstByteMs === undefined) return total;
  return Math.min(total, n * Math.max(rule.minFirstByteDelayMs, rule.firstByteAfter * expected.firstByteMs));
}

/** One attempt of a GET on paper, from when it is sent: its first byte and its end, ms. */
export interface AttemptTimes {
  firstByteMs: number;
  totalMs: number;
}

/**
 * A hedged GET on paper, for a model whose attempts' times are known when sent: attempt `i` (0:
 * the GET, then its hedges) is asked lazily, in order, only for attempts sent. Returns when the
 * first finishes, how many hedges were sent, and which attempt won.
 */
export function hedgedGetMs(rule: HedgeRule, expected: HedgeExpectation, attempt: (i: number) => AttemptTimes): { ms: number; hedges: number; winner: number } {
  const first = attempt(0);
  let end = first.totalMs;
  let firstByte = first.firstByteMs;
  let winner = 0;
  let hedges = 0;
  for (let n = 1; ; n++) {
    // Hedge n under the first-byte rule if no first byte came before it is due, else the total rule.
    const early = hedgeAt(rule, expected, n, false);
    const at = early !== undefined && firstByte > early ? early : hedgeAt(rule, expected, n, true);
    if (at === undefined || end <= at) break;
    hedges = n;
    const a = attempt(n);
    firstByte = Math.min(firstByte, at + a.firstByteMs);
    if (at + a.totalMs < end) {
      end = at + a.totalMs;
      winner = n;
    }
  }
  return { ms: end, hedges, winner };
}
