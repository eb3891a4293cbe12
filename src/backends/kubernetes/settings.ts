/**
 * The kubernetes backend's settings as one zod schema: what the CLI flags fill in and what a
 * config file's `backends.kubernetes` section holds (`kubernetesSettingsSchema`, exported for it).
 * Everything that is data lives here; the programmatic-only parts (a ready KubeConfig, the remote
 * attempt I/O) are options of `kubernetesBackend` itself.
 */
import { z } from "zod";
import { channelSettingsSchema } from "../channel-settings.js";

/** A CPU quantity as Kubernetes writes it: `500m`, `1`, `1.5`. */
const cpuQuantity = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, "cpu must be a Kubernetes CPU quantity such as 500m, 1 or 2.5");
/** A memory quantity: `512Mi`, `2Gi`, `1G`, `1000000`. */
const memoryQuantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "memory must be a Kubernetes memory quantity such as 512Mi or 2Gi");
/** A DNS-1123 name (namespaces, service accounts). */
const dnsName = (what: string) => z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${what} must be a Kubernetes name: lowercase letters, digits and '-'`).max(63);
const ms = (what: string) => z.number({ message: `${what} must be a number of milliseconds` }).int().min(0);

export const kubernetesSettingsSchema = z.strictObject({
  /** A kubeconfig file. @default the usual lookup: KUBECONFIG, ~/.kube/config, then the in-cluster service account */
  kubeconfig: z.string().min(1).optional(),
  /** The kubeconfig context to use. @default its current-context */
  context: z.string().min(1).optional(),
  /** Where the Jobs run. It must exist; the manager needs the generated Role in it. */
  namespace: dnsName("namespace").default("default"),
  /** The worker image: Smelter, its dependencies and your worker module (docs/backends/kubernetes.md). */
  image: z.string({ message: "the kubernetes backend needs an image: one built with Smelter and your worker module (docs/backends/kubernetes.md)" }).min(1, "the image must not be empty"),
  /** The container's command: Smelter's container entry. */
  command: z.array(z.string().min(1)).min(1).default(["node", "/app/node_modules/smelter/bin/smelter-task.js"]),
  /** `SMELTER_WORKER_MODULE` in the container: your worker module's path inside the image (the file that calls defineWorker). @default unset: the image's own */
  workerModule: z.string().min(1).optional(),
  /** The pods' service account (its cloud role reads and writes the job's bucket: IRSA, Workload Identity). @default the namespace's default */
  serviceAccountName: dnsName("serviceAccountName").optional(),
  /** CPU request and limit of each task's container. */
  cpu: cpuQuantity.default("1"),
  /** Memory request and limit of each task's container (beyond it the container is OOMKilled). */
  memory: memoryQuantity.default("2Gi"),
  /** Jobs at once, at most. */
  concurrency: z.number().int().min(1).max(10_000).default(10),
  /** Extra environment of the container (never credentials: give the service account a cloud role). */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names are letters, digits and _"), z.string()).default({}),
  /** Extra labels on each Job and pod. */
  labels: z.record(z.string(), z.string()).default({}),
  /** The pods' nodeSelector. */
  nodeSelector: z.record(z.string(), z.string()).optional(),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
  /** How long a finished Job stays before the cluster deletes it, should the manager not (it deletes each Job it read). */
  ttlSecondsAfterFinished: z.number().int().min(0).default(600),
  /** SIGTERM to SIGKILL on a kill, seconds. */
  terminationGracePeriodSeconds: z.number().int().min(0).default(30),
  /** A pod the scheduler cannot place for this long is a no-capacity outcome (retried without spending the retry budget). */
  unschedulableMs: ms("unschedulableMs").default(60_000),
  /** A pod that is placed but not running after this long fails with StartTimeout (an image that cannot be pulled, a node that never starts it). */
  startTimeoutMs: ms("startTimeoutMs").default(300_000),
  /** The scheduler's wait before relaunching a no-capacity attempt. */
  noCapacityRetryMs: ms("noCapacityRetryMs").default(5_000),
  /** How long a kill waits for the Job's deletion to be confirmed; past it the attempt is abandoned. */
  killTimeoutMs: ms("killTimeoutMs").default(60_000),
  /** Heartbeats and log lines while pods run (src/backends/channel-settings.ts; the CLI's default is `auto`). @default { transport: "off" }: they come with the reply */
  channel: channelSettingsSchema.default({ transport: "off" }),
  /** Retry an OOMKilled attempt (same memory limit, so it usually fails again). @default false: OutOfMemory is not retried */
  retryOutOfMemory: z.boolean().default(false),
});

export type KubernetesSettings = z.input<typeof kubernetesSettingsSchema>;

/** A pod's requests as the cost estimate prices them: `500m` -> 0.5 vCPU, `2Gi` -> 2 GB (GiB, as Fargate's task memory). */
export function podCapacity(s: { cpu: string; memory: string }): { vcpu: number; memoryGb: number } {
  const vcpu = s.cpu.endsWith("m") ? Number(s.cpu.slice(0, -1)) / 1000 : Number(s.cpu);
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(s.memory);
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const bytes = m ? Number(m[1]) * (m[2] ? unit[m[2]]! : 1) : NaN;
  return { vcpu, memoryGb: bytes / 2 ** 30 };
}
export type ResolvedKubernetesSettings = z.output<typeof kubernetesSettingsSchema>;
