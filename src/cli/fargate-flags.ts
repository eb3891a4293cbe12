/**
 * `--backend fargate` and its settings as flags, validated with zod (the backend's own settings
 * schema, src/backends/fargate/settings.ts, which a config file reuses): the cluster, task
 * definition, network, region and endpoint, Spot, how many tasks at once, and where envelopes and
 * replies go. The backend is created with a check (DescribeClusters, DescribeTaskDefinition), so a
 * wrong cluster, task definition, endpoint or credentials fail before the job starts, in Smelter's
 * words. See docs/backends/fargate.md.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { Backend } from "../backends/contract.js";
import { fargateSettingsSchema } from "../backends/fargate/settings.js";
import { ConfigError } from "../job/errors.js";
import { checkedBackend, defaultRemoteStore, withSlash } from "./remote-store-flag.js";

/** The flags' shape, all optional (commands extend the run flags with it); {@link fargateBackendFromFlags} checks what fargate needs. */
export const fargateFlagsShape = {
  fargateCluster: z.string().min(1).optional(),
  fargateTaskDefinition: z.string().min(1).optional(),
  fargateContainer: z.string().min(1).optional(),
  fargateSubnets: z.union([z.string().min(1), z.array(z.string())]).optional(),
  fargateSecurityGroups: z.union([z.string().min(1), z.array(z.string())]).optional(),
  fargatePublicIp: z.boolean().optional(),
  fargateRegion: z.string().min(1).optional(),
  fargateEndpoint: z.string().min(1).optional(),
  fargateSpot: z.boolean().optional(),
  fargateSpotFallback: z.coerce.number({ message: "--fargate-spot-fallback must be a number" }).int().min(1, "--fargate-spot-fallback must be at least 1").optional(),
  fargateConcurrency: z.coerce.number({ message: "--fargate-concurrency must be a number" }).int().min(1, "--fargate-concurrency must be at least 1").max(5000).optional(),
  fargateStore: z.string().min(1).optional(),
  fargatePollMs: z.coerce.number({ message: "--fargate-poll-ms must be a number" }).int().min(10, "--fargate-poll-ms must be at least 10").optional(),
  fargateWorkerModule: z.string().min(1).optional(),
  fargateChannel: z.enum(["auto", "http", "store", "off"], { message: "--fargate-channel must be auto, http, store or off" }).optional(),
  fargateChannelHost: z.string().min(1).optional(),
  fargateChannelUrl: z.string().min(1).optional(),
};

/** Adds the fargate flags to a command that has --backend. */
export function addFargateOptions(cmd: Command): Command {
  return cmd
    .option("--fargate-cluster <name>", "--backend fargate: the ECS cluster's name or ARN")
    .option("--fargate-task-definition <family>", "--backend fargate: the task definition (family[:revision] or ARN) whose container runs bin/smelter-task.js")
    .option("--fargate-container <name>", "--backend fargate: its container's name (default: smelter)")
    .option("--fargate-subnets <ids>", "--backend fargate: subnet ids, comma-separated (awsvpc)")
    .option("--fargate-security-groups <ids>", "--backend fargate: security group ids, comma-separated")
    .option("--fargate-public-ip", "--backend fargate: give tasks a public IP (a public subnet without NAT)")
    .option("--fargate-region <region>", "--backend fargate: its region (default: AWS_REGION)")
    .option("--fargate-endpoint <url>", "--backend fargate: a custom ECS endpoint")
    .option("--fargate-spot", "--backend fargate: run on Fargate Spot, falling back to on-demand")
    .option("--fargate-spot-fallback <n>", "--backend fargate: a task preempted N times runs on-demand (default: 2)")
    .option("--fargate-concurrency <n>", "--backend fargate: tasks at once (default: --workers, else 50)")
    .option("--fargate-store <url>", "--backend fargate: where envelopes and replies go (default: <--work>/fargate/, or the s3:// input's bucket under _smelter/fargate/)")
    .option("--fargate-poll-ms <ms>", "--backend fargate: how often tasks are described (default: 2000)")
    .option("--fargate-worker-module <path>", "--backend fargate: SMELTER_WORKER_MODULE for the container (default: the task definition's)")
    .option("--fargate-channel <how>", "--backend fargate: heartbeats and logs while tasks run: auto (HTTP, else the work store), http, store, off (default: auto)")
    .option("--fargate-channel-host <addr>", "--backend fargate: the address the manager's channel listens on (default: 127.0.0.1; tasks on AWS need one they can reach)")
    .option("--fargate-channel-url <url>", "--backend fargate: the channel URL tasks dial (default: http://<host>:<port>)");
}

/** A comma-separated flag, or a config file's list. */
const list = (value: string | string[] | undefined): string[] | undefined => (Array.isArray(value) ? value : value?.split(",").map((s) => s.trim()).filter(Boolean));

/**
 * The `fargate` section of smelter.config.json (src/cli/config.ts): the keys are the flags' names
 * without `--fargate-` (camelCase), each checked by the backend's own settings schema; what is
 * missing is named when the backend is used (a flag may give it).
 *   "fargate": { "cluster": "smelter", "taskDefinition": "smelter:3", "subnets": ["subnet-0a1b"], "securityGroups": ["sg-0a1b"], "spot": true }
 */
export const fargateConfigSchema = z.strictObject({
  cluster: fargateSettingsSchema.shape.cluster.optional(),
  taskDefinition: fargateSettingsSchema.shape.taskDefinition.optional(),
  container: z.string().min(1).optional(),
  subnets: fargateSettingsSchema.shape.subnets.optional(),
  securityGroups: fargateSettingsSchema.shape.securityGroups.optional(),
  publicIp: z.boolean().optional(),
  region: fargateSettingsSchema.shape.region,
  endpoint: fargateSettingsSchema.shape.endpoint,
  spot: z.boolean().optional(),
  spotFallback: z.number({ message: "must be a number" }).int().min(1, "must be at least 1").optional(),
  concurrency: z.number({ message: "must be a number" }).int().min(1, "must be at least 1").max(5000).optional(),
  store: fargateSettingsSchema.shape.store,
  pollMs: z.number({ message: "must be a number" }).int().min(10, "must be at least 10").optional(),
  workerModule: z.string().min(1).optional(),
  channel: z.enum(["auto", "http", "store", "off"], { message: "must be auto, http, store or off" }).optional(),
  channelHost: z.string().min(1).optional(),
  channelUrl: z.url({ message: "must be a URL such as http://10.0.0.5:7070" }).optional(),
});

/** The fargate backend's settings from the flags, checked by its settings schema with the flags' names in the messages. Throws ConfigError. */
export async function fargateSettingsFromFlags(flags: Record<string, unknown>) {
  const f = z.object(fargateFlagsShape).parse(flags);
  const missing = [
    !f.fargateCluster && "--fargate-cluster (the ECS cluster)",
    !f.fargateTaskDefinition && "--fargate-task-definition (a task definition running Smelter's task entry)",
    !f.fargateSubnets && "--fargate-subnets (subnet ids for the tasks' network interface)",
    !f.fargateSecurityGroups && "--fargate-security-groups (security group ids)",
  ].filter((m): m is string => Boolean(m));
  if (missing.length) throw new ConfigError(`--backend fargate needs ${missing.join(", ")}: see docs/backends/fargate.md`);
  const concurrency = f.fargateConcurrency ?? (flags.workers as number | undefined);
  const store = f.fargateStore ? withSlash(f.fargateStore) : defaultRemoteStore("fargate", flags);
  const settings = {
    cluster: f.fargateCluster,
    taskDefinition: f.fargateTaskDefinition,
    ...(f.fargateContainer ? { container: f.fargateContainer } : {}),
    subnets: list(f.fargateSubnets),
    securityGroups: list(f.fargateSecurityGroups),
    ...(f.fargatePublicIp ? { assignPublicIp: true } : {}),
    ...(f.fargateRegion ? { region: f.fargateRegion } : {}),
    ...(f.fargateEndpoint ? { endpoint: f.fargateEndpoint } : {}),
    ...(f.fargateSpot ? { spot: f.fargateSpotFallback ? { fallbackAfterPreemptions: f.fargateSpotFallback } : {} } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(store ? { store } : {}),
    ...(f.fargatePollMs ? { pollIntervalMs: f.fargatePollMs } : {}),
    ...(f.fargateChannel || f.fargateChannelHost || f.fargateChannelUrl
      ? { channel: { transport: f.fargateChannel ?? "auto", ...(f.fargateChannelHost ? { host: f.fargateChannelHost } : {}), ...(f.fargateChannelUrl ? { advertiseUrl: f.fargateChannelUrl } : {}) } }
      : {}),
  };
  const r = fargateSettingsSchema.safeParse(settings);
  if (!r.success) throw new ConfigError(`bad flags: ${r.error.issues.map((i) => `--fargate-${kebab(String(i.path[0] ?? ""))}: ${i.message}`).join("; ")} (see --help)`);
  if (!r.data.store) throw new ConfigError("--backend fargate needs a place for envelopes and replies: an s3:// --work, an s3:// input, or --fargate-store s3://bucket/prefix/");
  return r.data;
}

/** Creates the fargate backend from validated flags and checks the cluster and task definition. Throws ConfigError / a clear SmelterError. */
export async function fargateBackendFromFlags(flags: Record<string, unknown>): Promise<Backend> {
  const settings = await fargateSettingsFromFlags(flags);
  const [{ fargateBackend }, { urlObjects }] = await Promise.all([import("../backends/fargate/backend.js"), import("../url-objects.js")]);
  const workerModule = flags.fargateWorkerModule;
  const backend = fargateBackend({ ...settings, objects: urlObjects, ...(typeof workerModule === "string" ? { environment: { SMELTER_WORKER_MODULE: workerModule } } : {}) });
  return checkedBackend(backend);
}

function kebab(name: string): string {
  const map: Record<string, string> = { taskDefinition: "task-definition", securityGroups: "security-groups", assignPublicIp: "public-ip", pollIntervalMs: "poll-ms", channel: "channel / --fargate-channel-url" };
  return map[name] ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
