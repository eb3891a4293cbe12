/**
 * What a Lambda attempt costs as Smelter estimates it: duration billed per millisecond at the
 * function's memory size (GB-seconds) plus the per-request charge, at AWS's published on-demand
 * prices for us-east-1 (December 2026: x86_64 $0.0000166667 per GB-s, arm64 $0.0000133334, $0.20
 * per million requests; the first price tier, no free tier, no Savings Plans). Duration here is the
 * worker function's wall time, so an estimate is a floor: a cold start's init and the handler's
 * own work are billed too.
 */

/** USD per GB-second and per request, by architecture (us-east-1, first tier). */
export const LAMBDA_PRICES = {
  x86_64: { perGbSecond: 0.0000166667, perRequest: 0.2 / 1_000_000 },
  arm64: { perGbSecond: 0.0000133334, perRequest: 0.2 / 1_000_000 },
} as const;

export interface LambdaCostInput {
  /** The attempt's wall time, ms (its stats' `wallMs`). */
  wallMs: number;
  /** The function's memory size, MB (128 to 10,240). */
  memoryMb: number;
  /** @default "x86_64" */
  architecture?: keyof typeof LAMBDA_PRICES;
}

/** The estimated USD cost of one invocation: ceil(ms) x GB x price per GB-s / 1000 + the request charge. */
export function lambdaAttemptCost(o: LambdaCostInput): number {
  const price = LAMBDA_PRICES[o.architecture ?? "x86_64"];
  const gbSeconds = (Math.ceil(Math.max(1, o.wallMs)) / 1000) * (o.memoryMb / 1024);
  return gbSeconds * price.perGbSecond + price.perRequest;
}
