/**
 * The fargate backend's settings as data, validated with zod: what a user writes in flags or in a
 * config file (`fargateSettingsSchema` is exported for `smelter.config.json`). Only plain JSON
 * values here; the SDK client and the object access are options of the backend itself.
 */
import { z } from "zod";
import { channelSettingsSchema } from "../channel-settings.js";

const ARN_OR_NAME = /^(arn:aws[\w-]*:ecs:[a-z0-9-]+:\d{12}:[a-z-]+\/.+|[A-Za-z0-9_:/.-]+)$/;

/** Smelter's settings for the fargate backend. */
export const fargateSettingsSchema = z.strictObject({
  /** The ECS cluster's name or ARN. */
  cluster: z.string({ message: "the ECS cluster is required (cluster)" }).min(1, "the ECS cluster is required (cluster)").regex(ARN_OR_NAME, "cluster must be a cluster name or an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)"),
  /** The task definition (`family`, `family:revision` or its ARN) whose container runs Smelter's task entry (docs/backends/fargate.md). */
  taskDefinition: z
    .string({ message: "the task definition is required (taskDefinition)" })
    .min(1, "the task definition is required (taskDefinition)")
    .regex(ARN_OR_NAME, "taskDefinition must be family, family:revision or a task definition ARN (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REV)"),
  /** The container of the task definition that runs the task. @default "smelter" */
  container: z.string().min(1).default("smelter"),
  /** Subnets of the tasks' network interface (awsvpc). */
  subnets: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, "subnets must be subnet ids such as subnet-0123abcd")).min(1, "at least one subnet is required (subnets)"),
  /** Security groups of the tasks' network interface. */
  securityGroups: z.array(z.string().regex(/^sg-[0-9a-f]+$/, "security groups must be ids such as sg-0123abcd")).min(1, "at least one security group is required (securityGroups)"),
  /** Give tasks a public IP (a public subnet without a NAT gateway needs it to reach S3 and the image registry). @default false */
  assignPublicIp: z.boolean().default(false),
  /** The AWS region. @default the SDK's (AWS_REGION, then its config files) */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "region must look like us-east-1").optional(),
  /** A custom ECS endpoint (a test endpoint, a VPC endpoint). @default AWS's own */
  endpoint: z.url({ message: "endpoint must be a URL such as http://127.0.0.1:5000" }).optional(),
  /** Tasks at once, at most. Lowered while ECS throttles. @default 50 */
  concurrency: z.number().int().min(1).max(5000).default(50),
  /** Fargate Spot: run tasks on the FARGATE_SPOT capacity provider, falling back to FARGATE (on-demand). @default off */
  spot: z
    .strictObject({
      /** A task interrupted this many times runs its next attempts on-demand. @default 2 */
      fallbackAfterPreemptions: z.number().int().min(1).default(2),
      /** A Spot task still not running after this many ms is stopped and the attempt relaunched on-demand. @default 120000 */
      startTimeoutMs: z.number().int().min(1).default(120_000),
    })
    .optional(),
  /** Heartbeats and log lines while tasks run (src/backends/channel-settings.ts). @default { transport: "auto" } */
  channel: channelSettingsSchema.default({ transport: "auto" }),
  /** Platform version. @default LATEST */
  platformVersion: z.string().min(1).optional(),
  /** Where envelopes too large for the container overrides, and replies, go when the job has no work store: a URL prefix ending in `/`. */
  store: z.string().regex(/^[a-z0-9]+:\/\/.+\/$/, "store must be a URL prefix ending in / such as s3://bucket/_smelter/fargate/").optional(),
  /** How often running tasks are described (one DescribeTasks per 100 tasks), ms. @default 2000 */
  pollIntervalMs: z.number().int().min(10).default(2000),
  /** How long a kill waits for DescribeTasks to say STOPPED before it is reported abandoned, ms. @default 60000 */
  stopConfirmMs: z.number().int().min(1).default(60_000),
  /** Base of the jittered delay before a throttled or capacity-refused launch is tried again, ms. @default 1000 */
  throttleRetryMs: z.number().int().min(0).default(1000),
});
export type FargateSettings = z.input<typeof fargateSettingsSchema>;
export type ResolvedFargateSettings = z.output<typeof fargateSettingsSchema>;
