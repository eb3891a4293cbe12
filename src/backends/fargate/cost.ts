/**
 * What a Fargate task costs as Smelter estimates it: Fargate bills the task's vCPUs and memory
 * (the task definition's `cpu` and `memory`) per second from the image pull to the task's stop,
 * with a one-minute minimum, at one price for on-demand (FARGATE) and a lower, varying one for
 * Spot (FARGATE_SPOT). The prices come from the report's price table (src/report/prices.ts,
 * `fargate.*`, overridable with `--prices`), passed in: this module holds no figures of its own.
 */

/** USD per vCPU-hour and GB-hour, on-demand and Spot, and the billing minimum (the price table's `fargate` part). */
export interface FargatePrices {
  vcpuHour: number;
  gbHour: number;
  spotVcpuHour: number;
  spotGbHour: number;
  minimumSeconds: number;
}

export interface FargateTaskUsage {
  /** The task's billed time, ms: from RunTask (the pull starts) to STOPPED. */
  billedMs: number;
  /** vCPUs of the task definition (`cpu` / 1024). */
  vcpu: number;
  /** Memory of the task definition, GB (`memory` / 1024). */
  memoryGb: number;
  /** Ran on FARGATE_SPOT. */
  spot: boolean;
}

/** The estimated USD cost of one task: billed seconds (rounded up, at least the minimum) x (vCPU x vCPU price + GB x GB price). */
export function fargateTaskCost(u: FargateTaskUsage, p: FargatePrices): { seconds: number; vcpuSeconds: number; gbSeconds: number; usd: number } {
  const seconds = Math.max(p.minimumSeconds, Math.ceil(Math.max(0, u.billedMs) / 1000));
  const vcpuSeconds = seconds * u.vcpu;
  const gbSeconds = seconds * u.memoryGb;
  const usd = (vcpuSeconds * (u.spot ? p.spotVcpuHour : p.vcpuHour) + gbSeconds * (u.spot ? p.spotGbHour : p.gbHour)) / 3600;
  return { seconds, vcpuSeconds, gbSeconds, usd };
}
