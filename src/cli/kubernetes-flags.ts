/**
 * `--backend kubernetes` and its settings as flags, validated with zod (the flags fill
 * `kubernetesSettingsSchema`, the schema a config file's kubernetes section uses too): the
 * kubeconfig and context, the namespace, the worker image and its command, the pods' service
 * account, CPU and memory, Jobs at once, and where replies go. The backend is checked before the
 * job starts (the API server answers, the credentials work, the namespace exists, RBAC allows
 * listing Jobs), so those fail in Smelter's words first. See docs/backends/kubernetes.md.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { Backend } from "../backends/contract.js";
import { ConfigError } from "../job/errors.js";
import { formatZodIssues } from "../job/policy.js";
import { kubernetesSettingsSchema } from "../backends/kubernetes/settings.js";
import { checkedBackend, defaultRemoteStore } from "./remote-store-flag.js";

/** The flags' shape, all optional (commands extend the run flags with it); {@link kubernetesBackendFromFlags} checks what kubernetes needs. */
export const kubernetesFlagsShape = {
  kubeconfig: z.string().min(1).optional(),
  kubeContext: z.string().min(1).optional(),
  kubeNamespace: z.string().min(1).optional(),
  kubeImage: z.string().min(1).optional(),
  /** Words, or a JSON array as text (flag), or an array (smelter.config.json). */
  kubeCommand: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** smelter.config.json's `kubernetes.kubeconfig` (the config hook prefixes keys with `kube`). */
  kubeKubeconfig: z.string().min(1).optional(),
  kubeWorkerModule: z.string().min(1).optional(),
  kubeServiceAccount: z.string().min(1).optional(),
  kubeCpu: z.string().min(1).optional(),
  kubeMemory: z.string().min(1).optional(),
  kubeConcurrency: z.coerce.number({ message: "--kube-concurrency must be a number" }).int().min(1, "--kube-concurrency must be at least 1").max(10_000).optional(),
  kubeStore: z.string().regex(/^s3:\/\/.+/, "--kube-store must be an s3:// URL prefix the pods can read and write").optional(),
  kubeStartTimeout: z.coerce.number({ message: "--kube-start-timeout must be a number of milliseconds" }).int().min(0).optional(),
  kubeChannel: z.enum(["auto", "http", "store", "off"], { message: "--kube-channel must be auto, http, store or off" }).optional(),
  kubeChannelHost: z.string().min(1).optional(),
  kubeChannelUrl: z.string().min(1).optional(),
};

/** What the kubernetes flags read besides their own. */
const flagsSchema = z.object({ ...kubernetesFlagsShape, workers: z.number().int().min(1).optional() });

const settingFields = kubernetesSettingsSchema.shape;

/**
 * The `kubernetes` section of smelter.config.json (src/cli/config.ts): the flags' settings, each key
 * the flag's name without `--kube-` (`image` is `--kube-image`, `kubeconfig` is `--kubeconfig`),
 * validated by the same field schemas as the backend's settings (src/backends/kubernetes/settings.ts).
 */
export const kubernetesConfigSchema = z.strictObject({
  image: settingFields.image,
  kubeconfig: settingFields.kubeconfig,
  context: settingFields.context,
  namespace: settingFields.namespace.unwrap().optional(),
  command: z.array(z.string().min(1)).min(1, "must list the command's words").optional(),
  workerModule: settingFields.workerModule,
  serviceAccount: settingFields.serviceAccountName,
  cpu: settingFields.cpu.unwrap().optional(),
  memory: settingFields.memory.unwrap().optional(),
  concurrency: settingFields.concurrency.unwrap().optional(),
  store: z.string().regex(/^s3:\/\/.+/, "must be an s3:// URL prefix the pods can read and write").optional(),
  startTimeout: settingFields.startTimeoutMs.unwrap().optional(),
});

/** The flag naming each setting, for messages. */
const FLAG_OF: Record<string, string> = {
  kubeconfig: "--kubeconfig", context: "--kube-context", namespace: "--kube-namespace", image: "--kube-image", command: "--kube-command",
  workerModule: "--kube-worker-module", serviceAccountName: "--kube-service-account", cpu: "--kube-cpu", memory: "--kube-memory", concurrency: "--kube-concurrency", startTimeoutMs: "--kube-start-timeout",
  channel: "--kube-channel / --kube-channel-host / --kube-channel-url",
};

/** Adds the kubernetes flags to a command that has --backend. */
export function addKubernetesOptions(cmd: Command): Command {
  return cmd
    .option("--kube-image <image>", "--backend kubernetes: the worker image (Smelter, its dependencies, your worker module)")
    .option("--kubeconfig <file>", "--backend kubernetes: the kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--kube-context <name>", "--backend kubernetes: the kubeconfig context (default: its current one)")
    .option("--kube-namespace <ns>", "--backend kubernetes: where the Jobs run (default: default)")
    .option("--kube-command <cmd>", "--backend kubernetes: the container's command, words split on spaces or a JSON array (default: node /app/node_modules/smelter/bin/smelter-task.js)")
    .option("--kube-worker-module <path>", "--backend kubernetes: SMELTER_WORKER_MODULE in the image (default: Smelter's built-in workers under /app)")
    .option("--kube-service-account <name>", "--backend kubernetes: the pods' service account (its cloud role reads and writes the bucket)")
    .option("--kube-cpu <q>", "--backend kubernetes: CPU request and limit per task (default: 1)")
    .option("--kube-memory <q>", "--backend kubernetes: memory request and limit per task (default: 2Gi)")
    .option("--kube-concurrency <n>", "--backend kubernetes: Jobs at once (default: --workers, else 10)")
    .option("--kube-store <url>", "--backend kubernetes: where envelopes and replies go (default: <--work>/kubernetes/, or the s3:// input's bucket under _smelter/kubernetes/)")
    .option("--kube-start-timeout <ms>", "--backend kubernetes: a pod not running after this long fails (default: 300000)")
    .option("--kube-channel <how>", "--backend kubernetes: heartbeats and logs while pods run: auto (HTTP, else the work store), http, store, off (default: auto)")
    .option("--kube-channel-host <addr>", "--backend kubernetes: the address the manager's channel listens on (default: 127.0.0.1; pods in a cluster need one they can reach)")
    .option("--kube-channel-url <url>", "--backend kubernetes: the channel URL pods dial (default: http://<host>:<port>)");
}

/** Where Smelter's built-in workers are in an image built by the documented recipe. */
const IMAGE_BUILTIN_WORKERS = "/app/node_modules/smelter/dist/src/builtin-workers/builtin.js";

/** Creates the kubernetes backend from the flags and checks it. Throws ConfigError / a clear SmelterError. */
export async function kubernetesBackendFromFlags(flags: Record<string, unknown>): Promise<Backend> {
  const [{ kubernetesBackend }, { remoteStore }] = await Promise.all([import("../backends/kubernetes/backend.js"), import("../url-objects.js")]);
  const parsed = flagsSchema.safeParse(flags);
  if (!parsed.success) throw new ConfigError(`bad flags: ${formatZodIssues(parsed.error)} (see --help)`);
  const f = parsed.data;
  if (!f.kubeImage) throw new ConfigError("bad flags: --backend kubernetes needs --kube-image: an image built with Smelter and your worker module (docs/backends/kubernetes.md) (see --help)");
  const storeUrl = f.kubeStore ?? defaultRemoteStore("kubernetes", flags);
  if (!storeUrl) throw new ConfigError("bad flags: --backend kubernetes needs an s3:// place for envelopes and replies: give --work s3://bucket/prefix/ or --kube-store s3://bucket/prefix/ (the pods' role must read and write it) (see --help)");
  const settings = {
    image: f.kubeImage,
    ...((f.kubeconfig ?? f.kubeKubeconfig) ? { kubeconfig: f.kubeconfig ?? f.kubeKubeconfig } : {}),
    ...(f.kubeContext ? { context: f.kubeContext } : {}),
    ...(f.kubeNamespace ? { namespace: f.kubeNamespace } : {}),
    ...(f.kubeCommand ? { command: commandWords(f.kubeCommand) } : {}),
    workerModule: f.kubeWorkerModule ?? IMAGE_BUILTIN_WORKERS,
    ...(f.kubeServiceAccount ? { serviceAccountName: f.kubeServiceAccount } : {}),
    ...(f.kubeCpu ? { cpu: f.kubeCpu } : {}),
    ...(f.kubeMemory ? { memory: f.kubeMemory } : {}),
    ...((f.kubeConcurrency ?? f.workers) ? { concurrency: f.kubeConcurrency ?? f.workers } : {}),
    ...(f.kubeStartTimeout !== undefined ? { startTimeoutMs: f.kubeStartTimeout } : {}),
    // Heartbeats and logs live: over HTTP on 127.0.0.1 when the pods can reach it, else batched to the store.
    channel: { transport: f.kubeChannel ?? "auto", ...(f.kubeChannelHost ? { host: f.kubeChannelHost } : {}), ...(f.kubeChannelUrl ? { advertiseUrl: f.kubeChannelUrl } : {}) },
  };
  const r = kubernetesSettingsSchema.safeParse(settings);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${FLAG_OF[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`);
    throw new ConfigError(`bad flags: ${problems.join("; ") || formatZodIssues(r.error)} (see --help)`);
  }
  return checkedBackend(kubernetesBackend({ ...settings, store: remoteStore(storeUrl) }));
}

/** `node /app/x.js` or `["node", "/app/x.js"]` (or already an array, from the config file) -> the words. */
function commandWords(text: string | string[]): string[] {
  if (Array.isArray(text)) return text;
  if (text.trimStart().startsWith("[")) {
    const r = z.array(z.string().min(1)).min(1).safeParse(safeJson(text));
    if (!r.success) throw new ConfigError(`bad flags: --kube-command is not a JSON array of strings: ${text} (see --help)`);
    return r.data;
  }
  return text.split(/\s+/).filter((w) => w !== "");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
