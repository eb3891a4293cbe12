/**
 * The task definition a user registers for the fargate backend (RegisterTaskDefinition's input as
 * JSON: `aws ecs register-task-definition --cli-input-json file://smelter-task.json`): one
 * container running Smelter's entry (bin/smelter-task.js) from an image that holds Smelter and the
 * user's worker module (the Dockerfile is in docs/backends/fargate.md), awsvpc networking, its logs
 * to CloudWatch Logs, x86_64 (Fargate Spot runs x86_64 only). Validated with zod: a size Fargate
 * does not offer is refused with the sizes it does.
 */
import { z } from "zod";
import { ConfigError } from "../../job/errors.js";
import { formatZodIssues } from "../../job/policy.js";

/** Fargate's CPU units and the memory (MiB) each allows: min, max, step. */
const FARGATE_SIZES: Record<number, { min: number; max: number; step: number }> = {
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

const ROLE = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const taskDefinitionOptionsSchema = z
  .strictObject({
    /** The task definition's family. @default "smelter" */
    family: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, "family may hold letters, digits, - and _ (255 at most)").default("smelter"),
    /** The image with Smelter and the worker module, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/smelter:1`. */
    image: z.string({ message: "image is required: the image built from the Dockerfile in docs/backends/fargate.md" }).min(1),
    /** CPU units (1024 = 1 vCPU). @default 1024 */
    cpu: z.number().int().default(1024),
    /** Memory, MiB. @default 2048 */
    memory: z.number().int().default(2048),
    /** The role the tasks run as: read the inputs, read and write the work prefix (fargateIamPolicies' `taskRole`). */
    taskRoleArn: z.string({ message: "taskRoleArn is required: the role the tasks run as (fargateIamPolicies' taskRole)" }).regex(ROLE, "taskRoleArn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
    /** The role ECS uses to pull the image and write the logs (fargateIamPolicies' `executionRole`). */
    executionRoleArn: z.string({ message: "executionRoleArn is required: the role ECS pulls the image and writes the logs with (fargateIamPolicies' executionRole)" }).regex(ROLE, "executionRoleArn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
    /** SMELTER_WORKER_MODULE: the worker module's path in the image. @default Smelter's built-in workers (query2, sql) */
    workerModule: z.string().min(1).default("/app/node_modules/smelter/dist/src/builtin-workers/builtin.js"),
    /** The CloudWatch Logs group of the tasks' output. @default "/smelter/<family>" */
    logGroup: z.string().min(1).optional(),
    region: z.string({ message: "region is required (the logs' region)" }).regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "region must look like us-east-1"),
    /** Seconds between SIGTERM and SIGKILL on StopTask or a Spot interruption (Fargate: at most 120). @default 30 */
    stopTimeout: z.number().int().min(2).max(120).default(30),
  })
  .superRefine((o, ctx) => {
    const size = FARGATE_SIZES[o.cpu];
    if (!size) return ctx.addIssue({ code: "custom", path: ["cpu"], message: `cpu must be one of ${Object.keys(FARGATE_SIZES).join(", ")} (CPU units, 1024 = 1 vCPU)` });
    if (o.memory < size.min || o.memory > size.max || (o.memory - size.min) % size.step !== 0) {
      ctx.addIssue({ code: "custom", path: ["memory"], message: `memory ${o.memory} MiB is not offered with cpu ${o.cpu}: use ${size.min} to ${size.max} MiB in steps of ${size.step}` });
    }
  });
export type TaskDefinitionOptions = z.input<typeof taskDefinitionOptionsSchema>;

/** The RegisterTaskDefinition input for the fargate backend. Throws ConfigError on bad options. */
export function fargateTaskDefinition(options: TaskDefinitionOptions) {
  const r = taskDefinitionOptionsSchema.safeParse(options);
  if (!r.success) throw new ConfigError(`bad task definition options: ${formatZodIssues(r.error)}`);
  const o = r.data;
  return {
    family: o.family,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
    cpu: String(o.cpu),
    memory: String(o.memory),
    taskRoleArn: o.taskRoleArn,
    executionRoleArn: o.executionRoleArn,
    containerDefinitions: [
      {
        name: "smelter",
        image: o.image,
        essential: true,
        command: ["node", "/app/node_modules/smelter/bin/smelter-task.js"],
        environment: [{ name: "SMELTER_WORKER_MODULE", value: o.workerModule }],
        stopTimeout: o.stopTimeout,
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": o.logGroup ?? `/smelter/${o.family}`, "awslogs-region": o.region, "awslogs-stream-prefix": "smelter", "awslogs-create-group": "true" } },
      },
    ],
  };
}
