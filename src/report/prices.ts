/**
 * The dated price table the cost estimate uses, and `--prices FILE` overrides of it (JSON, any
 * subset of the fields, validated with zod). USD, AWS us-east-1, Linux x86.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";

export const priceTableSchema = z.object({
  asOf: z.string(),
  region: z.string(),
  sources: z.array(z.string()),
  lambda: z.object({
    /** Per GB-second of configured memory. */
    gbSecond: z.number().nonnegative(),
    /** Per million invocations. */
    requestsPerMillion: z.number().nonnegative(),
    /** The memory a task would be given, MB (the estimate's assumption). */
    memoryMb: z.number().int().min(128).max(10240),
  }),
  fargate: z.object({
    vcpuHour: z.number().nonnegative(),
    gbHour: z.number().nonnegative(),
    spotVcpuHour: z.number().nonnegative(),
    spotGbHour: z.number().nonnegative(),
    /** The size a task would be given (the estimate's assumption). */
    vcpu: z.number().positive(),
    memoryGb: z.number().positive(),
    /** Fargate bills per second with a one-minute minimum per task. */
    minimumSeconds: z.number().nonnegative(),
  }),
  /** Your cluster: $0 unless you price its capacity (nodes you pay for anyway cost the same whether Smelter's pods run or not). */
  kubernetes: z.object({
    /** Per vCPU-second of a pod's CPU request. */
    vcpuSecond: z.number().nonnegative(),
    /** Per GB-second of a pod's memory request. */
    gbSecond: z.number().nonnegative(),
    /** The requests a task's pod would have (the estimate's assumption). */
    vcpu: z.number().positive(),
    memoryGb: z.number().positive(),
  }),
  s3: z.object({
    /** GET and other reads, per 1,000 requests. */
    getPerThousand: z.number().nonnegative(),
    /** PUT, COPY, POST, LIST, per 1,000 requests. */
    putPerThousand: z.number().nonnegative(),
    /** Data transfer out per GB: 0 within one region (workers and bucket side by side). */
    transferPerGb: z.number().nonnegative(),
  }),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

/**
 * Prices as listed on AWS's pricing pages for us-east-1 (Linux, x86). Fargate on-demand checked
 * against a copy of the pricing page dated June 2026; Fargate Spot changes with supply and demand
 * (50-70% below on-demand): the figure here is the common 70%-off rate; override it with the
 * current one from the "Current Spot price" table.
 */
export const DEFAULT_PRICES: PriceTable = {
  asOf: "2026-06",
  region: "us-east-1",
  sources: ["https://aws.amazon.com/lambda/pricing/", "https://aws.amazon.com/fargate/pricing/", "https://aws.amazon.com/s3/pricing/"],
  lambda: { gbSecond: 0.0000166667, requestsPerMillion: 0.2, memoryMb: 2048 },
  fargate: { vcpuHour: 0.04048, gbHour: 0.004445, spotVcpuHour: 0.012144, spotGbHour: 0.0013335, vcpu: 1, memoryGb: 2, minimumSeconds: 60 },
  kubernetes: { vcpuSecond: 0, gbSecond: 0, vcpu: 1, memoryGb: 2 },
  s3: { getPerThousand: 0.0004, putPerThousand: 0.005, transferPerGb: 0 },
};

const overrideSchema = z.strictObject({
  asOf: z.string().optional(),
  region: z.string().optional(),
  sources: z.array(z.string()).optional(),
  lambda: priceTableSchema.shape.lambda.partial().strict().optional(),
  fargate: priceTableSchema.shape.fargate.partial().strict().optional(),
  kubernetes: priceTableSchema.shape.kubernetes.partial().strict().optional(),
  s3: priceTableSchema.shape.s3.partial().strict().optional(),
});

/** The default table with `override` (a parsed JSON value) laid over it. */
export function withOverrides(override: unknown, where = "the price table"): PriceTable {
  const r = overrideSchema.safeParse(override);
  if (!r.success) throw new ConfigError(`${where} is not a valid price table: ${r.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ")} (fields: lambda.gbSecond, lambda.requestsPerMillion, lambda.memoryMb, fargate.vcpuHour, fargate.gbHour, fargate.spotVcpuHour, fargate.spotGbHour, fargate.vcpu, fargate.memoryGb, fargate.minimumSeconds, kubernetes.vcpuSecond, kubernetes.gbSecond, kubernetes.vcpu, kubernetes.memoryGb, s3.getPerThousand, s3.putPerThousand, s3.transferPerGb, asOf, region, sources)`);
  const o = r.data;
  const d = DEFAULT_PRICES;
  return {
    asOf: o.asOf ?? (o.lambda || o.fargate || o.kubernetes || o.s3 ? `${d.asOf}, with overrides` : d.asOf),
    region: o.region ?? d.region,
    sources: o.sources ?? d.sources,
    lambda: { ...d.lambda, ...o.lambda },
    fargate: { ...d.fargate, ...o.fargate },
    kubernetes: { ...d.kubernetes, ...o.kubernetes },
    s3: { ...d.s3, ...o.s3 },
  };
}

/** Reads `--prices FILE`. */
export async function readPriceFile(path: string): Promise<PriceTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (err as Error).message;
    throw new ConfigError(`cannot read the price file ${path}: ${why}: check the path of --prices (docs/report.md shows the format)`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the price file ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return withOverrides(value, `the price file ${path}`);
}
