/**
 * What a job cost, and what it would cost elsewhere, from its attempts and a price table:
 *  - compute, per place: `local` (threads, processes, inline: 0), `lambda` (GB-seconds of the
 *    running phase, billed per ms, plus one request per attempt), `fargate` and `fargate-spot`
 *    (vCPU- and GB-seconds from launch to end, pending included, one-minute minimum per attempt),
 *    `kubernetes` (the pod's requests from launch to end, pending included: $0 unless priced);
 *    at the size each attempt ran with when its backend said (a task's cpu and memory, a pod's
 *    requests: `TimelineAttempt.capacity`), else the table's; on `fargate-spot`, an attempt that
 *    ran on-demand (a Spot fallback) at on-demand prices;
 *  - storage: S3 GET and PUT requests and bytes moved, from the attempts' counters;
 *  - waste: the compute of attempts whose work was not used, split into failures (what retries
 *    cost), lost races (what speculation cost) and cancellations.
 * Pure functions.
 */
import type { PriceTable } from "./prices.js";
import { runMs, type TimelineAttempt } from "./timeline.js";

export type ComputePlace = "local" | "lambda" | "fargate" | "fargate-spot" | "kubernetes";
export const COMPUTE_PLACES: readonly ComputePlace[] = ["local", "lambda", "fargate", "fargate-spot", "kubernetes"];

export interface CostLine {
  /** `storage` for S3 lines, else the compute place. */
  scope: ComputePlace | "storage";
  item: string;
  quantity: number;
  unit: string;
  unitPrice: number;
  usd: number;
}

export interface PlaceCost {
  place: ComputePlace;
  compute: number;
  /** Compute of attempts whose result was not used, by why. */
  failures: number;
  speculation: number;
  cancelled: number;
}

export interface CostEstimate {
  /** The backend the job ran on, and the place it maps to (what the job actually cost). */
  backend: string;
  actual: ComputePlace;
  prices: PriceTable;
  lines: CostLine[];
  places: PlaceCost[];
  storage: number;
  /** The actual place's compute plus storage. */
  total: number;
}

/** The compute place of a backend name: local backends cost nothing to run. */
export function placeOf(backend: string): ComputePlace {
  if (backend === "lambda") return "lambda";
  if (backend === "kubernetes") return "kubernetes";
  if (backend === "fargate-spot") return "fargate-spot";
  if (backend === "fargate" || backend === "ecs") return "fargate";
  return "local";
}

/** Billed compute quantities of one attempt at one place. */
function attemptUsage(a: TimelineAttempt, place: ComputePlace, p: PriceTable): { lines: { item: string; quantity: number; unit: string; unitPrice: number }[] } {
  if (place === "local") return { lines: [] };
  if (place === "lambda") {
    const gbSeconds = (a.runningAt === undefined ? 0 : Math.ceil(runMs(a)) / 1000) * (p.lambda.memoryMb / 1024);
    return {
      lines: [
        { item: `Lambda compute (${p.lambda.memoryMb} MB)`, quantity: gbSeconds, unit: "GB-s", unitPrice: p.lambda.gbSecond },
        { item: "Lambda requests", quantity: 1, unit: "requests", unitPrice: p.lambda.requestsPerMillion / 1e6 },
      ],
    };
  }
  if (place === "kubernetes") {
    const seconds = Math.max(0, a.endedAt - a.launchedAt) / 1000;
    const k = p.kubernetes;
    const { vcpu, memoryGb } = sizeOf(a, k);
    return {
      lines: [
        { item: `Kubernetes vCPU (${vcpu} vCPU requested)`, quantity: seconds * vcpu, unit: "vCPU-s", unitPrice: k.vcpuSecond },
        { item: `Kubernetes memory (${memoryGb} GB requested)`, quantity: seconds * memoryGb, unit: "GB-s", unitPrice: k.gbSecond },
      ],
    };
  }
  // On fargate-spot, an attempt its backend ran on-demand (a Spot fallback) is billed on-demand.
  const spot = place === "fargate-spot" && a.capacity?.spot !== false;
  const seconds = Math.max(p.fargate.minimumSeconds, Math.ceil((a.endedAt - a.launchedAt) / 1000));
  const label = spot ? "Fargate Spot" : "Fargate";
  const { vcpu, memoryGb } = sizeOf(a, p.fargate);
  return {
    lines: [
      { item: `${label} vCPU (${vcpu} vCPU)`, quantity: seconds * vcpu, unit: "vCPU-s", unitPrice: (spot ? p.fargate.spotVcpuHour : p.fargate.vcpuHour) / 3600 },
      { item: `${label} memory (${memoryGb} GB)`, quantity: seconds * memoryGb, unit: "GB-s", unitPrice: (spot ? p.fargate.spotGbHour : p.fargate.gbHour) / 3600 },
    ],
  };
}

/** The size an attempt ran with, when its backend said, else the price table's assumption. */
function sizeOf(a: TimelineAttempt, assumed: { vcpu: number; memoryGb: number }): { vcpu: number; memoryGb: number } {
  return { vcpu: a.capacity?.vcpu ?? assumed.vcpu, memoryGb: a.capacity?.memoryGb ?? assumed.memoryGb };
}

/** Why an attempt's compute was wasted, or undefined when its result was used. */
function wasteOf(a: TimelineAttempt): "failures" | "speculation" | "cancelled" | undefined {
  switch (a.outcome) {
    case "won":
      return undefined;
    case "failed":
      return "failures";
    case "lost":
    case "succeeded":
      return "speculation";
    default:
      return "cancelled";
  }
}

export function estimateCost(attempts: readonly TimelineAttempt[], backend: string, prices: PriceTable): CostEstimate {
  const lines: CostLine[] = [];
  const places: PlaceCost[] = [];
  for (const place of COMPUTE_PLACES) {
    const sums = new Map<string, CostLine>();
    const pc: PlaceCost = { place, compute: 0, failures: 0, speculation: 0, cancelled: 0 };
    for (const a of attempts) {
      let usd = 0;
      for (const l of attemptUsage(a, place, prices).lines) {
        const line = sums.get(l.item) ?? { scope: place, item: l.item, quantity: 0, unit: l.unit, unitPrice: l.unitPrice, usd: 0 };
        line.quantity += l.quantity;
        line.usd += l.quantity * l.unitPrice;
        sums.set(l.item, line);
        usd += l.quantity * l.unitPrice;
      }
      pc.compute += usd;
      const waste = wasteOf(a);
      if (waste) pc[waste] += usd;
    }
    if (place === "local") lines.push({ scope: "local", item: "local workers (this machine)", quantity: attempts.reduce((s, a) => s + runMs(a), 0) / 1000, unit: "worker-s", unitPrice: 0, usd: 0 });
    lines.push(...sums.values());
    places.push(pc);
  }
  const counter = (k: string) => attempts.reduce((s, a) => s + (a.counters[k] ?? 0), 0);
  const gets = counter("readRequests");
  const puts = counter("writeRequests");
  const moved = counter("bytesRead") + counter("bytesWritten");
  const storageLines: CostLine[] = [
    { scope: "storage", item: "S3 GET requests", quantity: gets, unit: "requests", unitPrice: prices.s3.getPerThousand / 1000, usd: (gets * prices.s3.getPerThousand) / 1000 },
    { scope: "storage", item: "S3 PUT requests", quantity: puts, unit: "requests", unitPrice: prices.s3.putPerThousand / 1000, usd: (puts * prices.s3.putPerThousand) / 1000 },
    { scope: "storage", item: "bytes read and written", quantity: moved / 1e9, unit: "GB", unitPrice: prices.s3.transferPerGb, usd: (moved / 1e9) * prices.s3.transferPerGb },
  ];
  lines.push(...storageLines);
  const storage = storageLines.reduce((s, l) => s + l.usd, 0);
  const actual = placeOf(backend);
  const compute = places.find((p) => p.place === actual)!.compute;
  return { backend, actual, prices, lines, places, storage, total: compute + storage };
}

/** `$0`, `$0.0042`, `$12.35`: cents for large sums, two significant digits for small ones. */
export function usd(x: number): string {
  if (x === 0) return "$0";
  if (x >= 1) return `$${x.toFixed(2)}`;
  const decimals = Math.min(20, 1 - Math.floor(Math.log10(x)));
  return `$${x.toFixed(decimals).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "")}`;
}

/** The one line the CLI prints at the end of a job. */
export function costLine(c: CostEstimate): string {
  const at = (place: ComputePlace) => c.places.find((p) => p.place === place)!;
  const actual = at(c.actual);
  const wasted = actual.failures + actual.speculation + actual.cancelled;
  const elsewhere = c.actual === "local" ? at("lambda") : actual;
  const share = elsewhere.compute > 0 ? Math.round((100 * (elsewhere.failures + elsewhere.speculation + elsewhere.cancelled)) / elsewhere.compute) : 0;
  const gets = c.lines.find((l) => l.item === "S3 GET requests")?.quantity ?? 0;
  const puts = c.lines.find((l) => l.item === "S3 PUT requests")?.quantity ?? 0;
  const parts = [
    `[smelter] cost: ${usd(c.total)} (${c.actual === "local" ? `compute $0 on ${c.backend}` : `compute ${usd(actual.compute)} on ${c.backend}${wasted > 0 ? `, ${usd(wasted)} of it retries/speculation/cancelled` : ""}`}; storage ${usd(c.storage)}: ${gets.toLocaleString("en-US")} GET, ${puts.toLocaleString("en-US")} PUT)`,
  ];
  if (c.actual === "local") parts.push(`on Lambda ${c.prices.lambda.memoryMb} MB ${usd(at("lambda").compute)}, Fargate ${usd(at("fargate").compute)} (Spot ${usd(at("fargate-spot").compute)})`);
  parts.push(`${share}% of compute on failed, lost and cancelled attempts; prices ${c.prices.region} ${c.prices.asOf}`);
  return parts.join("; ");
}
