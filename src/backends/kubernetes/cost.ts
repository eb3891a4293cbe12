/**
 * What a Kubernetes attempt costs as Smelter estimates it: nothing by default (a cluster you
 * already pay for: its nodes cost the same whether Smelter's pods run or not), or, when you give
 * prices, the pod's requests times its time from launch to end (pending included, as a node's
 * capacity is held from scheduling on): vCPU-seconds x price per vCPU-second + GB-seconds x price
 * per GB-second. For node pools that scale with demand, use your nodes' price per vCPU and GB
 * (e.g. an m7i.large at $0.1008/h for 2 vCPU and 8 GB: about $0.000007 per vCPU-s and $0.0000017
 * per GB-s when split by AWS's Fargate ratio).
 */
import { z } from "zod";

export const kubernetesPricesSchema = z.strictObject({
  /** USD per vCPU-second of the pod's CPU request. @default 0 */
  vcpuSecond: z.number().nonnegative().default(0),
  /** USD per GB-second of the pod's memory request. @default 0 */
  gbSecond: z.number().nonnegative().default(0),
});
export type KubernetesPrices = z.input<typeof kubernetesPricesSchema>;

export interface KubernetesCostInput {
  /** Launch to end of the attempt, ms. */
  ms: number;
  /** The CPU request: `500m`, `1`, `2.5`. */
  cpu: string;
  /** The memory request: `512Mi`, `2Gi`. */
  memory: string;
  prices?: KubernetesPrices;
}

/** The estimated USD cost of one attempt: 0 unless prices are given. */
export function kubernetesAttemptCost(o: KubernetesCostInput): number {
  const p = kubernetesPricesSchema.parse(o.prices ?? {});
  const seconds = Math.max(0, o.ms) / 1000;
  return seconds * cpuCores(o.cpu) * p.vcpuSecond + seconds * (memoryBytes(o.memory) / 1e9) * p.gbSecond;
}

/** `500m` -> 0.5, `2` -> 2. */
export function cpuCores(q: string): number {
  return q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** `512Mi` -> 536870912, `1G` -> 1e9. */
export function memoryBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) return NaN;
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]]! : 1);
}
