/**
 * `smelter.config.json` (or `--config FILE`): the settings of the commands that run jobs, so a
 * team writes its backend, stores and defaults once. Validated with zod (src/config/config-file.ts
 * reads it); a flag given on the command line always wins over the file, and the file over the
 * flag's default. See docs/cli/config.md.
 *
 *   { "backend": "lambda", "workers": 64,
 *     "stores": { "work": "s3://bucket/_smelter/", "s3Endpoint": "http://127.0.0.1:9000" },
 *     "defaults": { "threadsPerTask": 2, "quiet": false },
 *     "lambda": { "function": "smelter", "region": "eu-west-1" } }
 */
import type { Command } from "commander";
import { z } from "zod";
import { LOCAL_BACKENDS } from "../backends/index.js";
import { loadConfigFile } from "../config/config-file.js";
import { fargateConfigSchema } from "./fargate-flags.js";
import { kubernetesConfigSchema } from "./kubernetes-flags.js";
import { lambdaConfigSchema } from "./lambda-flags.js";

/** A backend's section: its schema, and the prefix of its flags (`lambda` -> `lambdaFunction` for the key `function`). */
export interface BackendSection {
  schema: z.ZodType<Record<string, unknown>>;
  flagPrefix: string;
}

/**
 * One section per remote backend, its schema exported from its flags file. Adding a backend is
 * one line here, e.g. `fargate: { schema: fargateConfigSchema, flagPrefix: "fargate" }` (from
 * src/cli/fargate-flags.ts) and `kubernetes: { schema: kubernetesConfigSchema, flagPrefix: "kube" }`.
 */
export const backendSections: Record<string, BackendSection> = {
  lambda: { schema: lambdaConfigSchema, flagPrefix: "lambda" },
  fargate: { schema: fargateConfigSchema, flagPrefix: "fargate" },
  kubernetes: { schema: kubernetesConfigSchema, flagPrefix: "kube" },
};

/** The backends a config may name. */
export function configBackends(): string[] {
  return [...LOCAL_BACKENDS, ...Object.keys(backendSections)];
}

/** Defaults for run flags that commands share; each applies only to commands that have the flag. */
const defaultsSchema = z.strictObject({
  workers: z.number({ message: "must be a number" }).int().min(1).max(1024).optional(),
  quiet: z.boolean().optional(),
  verbose: z.boolean().optional(),
  format: z.enum(["table", "json", "csv"], { message: "must be table, json or csv" }).optional(),
  limit: z.number({ message: "must be a number" }).int().min(0).optional(),
  threadsPerTask: z.number({ message: "must be a number" }).int().min(1).max(64).optional(),
  taskBytes: z.number({ message: "must be a number" }).int().min(1024, "must be at least 1024").optional(),
});

const storesSchema = z.strictObject({
  /** --work: where intermediate data, results and remote attempts' objects go. */
  work: z.string().regex(/^(s3|file):\/\/.+|^[^:]+$/, "must be an s3:// URL prefix or a local directory").optional(),
  /** --endpoint: the S3-compatible endpoint for s3:// URLs. */
  s3Endpoint: z.string().regex(/^https?:\/\/[^/]+/, "must be a URL such as http://127.0.0.1:9000").optional(),
});

/** The whole file's schema; the backend sections come from {@link backendSections}. */
export function configSchema() {
  const sections = Object.fromEntries(Object.entries(backendSections).map(([name, s]) => [name, s.schema.optional()]));
  const backends = configBackends();
  return z.strictObject({
    $schema: z.string().optional(),
    backend: z.string().refine((b) => backends.includes(b), { message: `must be one of ${backends.join(", ")}` }).optional(),
    workers: z.number({ message: "must be a number" }).int().min(1).max(1024).optional(),
    stores: storesSchema.optional(),
    defaults: defaultsSchema.optional(),
    ...sections,
  });
}
export type SmelterConfig = z.output<ReturnType<typeof configSchema>>;

/** The config as flag values (commander attribute names), before the command's own flags are laid over it. */
export function configFlagValues(config: SmelterConfig): Record<string, unknown> {
  const values: Record<string, unknown> = { ...config.defaults };
  if (config.backend !== undefined) values.backend = config.backend;
  if (config.workers !== undefined) values.workers = config.workers;
  if (config.stores?.work !== undefined) values.work = config.stores.work;
  for (const [name, section] of Object.entries(backendSections)) {
    const s = (config as Record<string, unknown>)[name] as Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(s ?? {})) values[`${section.flagPrefix}${key[0]!.toUpperCase()}${key.slice(1)}`] = value;
  }
  return values;
}

/** Adds `--config FILE` and, before the action runs, lays the config under the flags the user did not give. */
export function addConfigOption(cmd: Command): Command {
  return cmd.option("--config <file>", "settings file (default: ./smelter.config.json when it exists; flags override it; docs/cli/config.md)").hook("preAction", async (_cmd, action) => {
    await applyConfig(action);
  });
}

/** Loads the config for `cmd` and sets every option it has that was not given on the command line. Exported for tests. */
export async function applyConfig(cmd: Command, cwd?: string): Promise<SmelterConfig | undefined> {
  const explicit = cmd.opts<{ config?: string }>().config;
  const loaded = await loadConfigFile(configSchema(), { explicit, ...(cwd ? { cwd } : {}) });
  if (!loaded) return undefined;
  const values = configFlagValues(loaded.config);
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (!(key in values)) continue;
    const source = cmd.getOptionValueSource(key);
    if (source === "cli" || source === "env") continue; // the command line wins
    // Commander parses flags as text; the commands' zod schemas coerce both.
    cmd.setOptionValueWithSource(key, values[key], "config");
  }
  const endpoint = loaded.config.stores?.s3Endpoint;
  const root = rootOf(cmd);
  if (endpoint !== undefined && root.getOptionValueSource("endpoint") !== "cli") process.env.AWS_ENDPOINT_URL_S3 = endpoint;
  return loaded.config;
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}
