/**
 * `--backend lambda` and its settings as flags, validated with zod: the function, its region and
 * endpoint, how many invocations at once, and where payloads and results over Lambda's 6 MB limit
 * go. The backend is created with a check invocation, so a wrong name, region, endpoint or
 * credentials fail before the job starts, in Smelter's words. See docs/backends/lambda.md.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { Backend } from "../backends/contract.js";
import { checkedBackend, defaultRemoteStore, withSlash } from "./remote-store-flag.js";

/** The flags' shape, all optional (commands extend the run flags with it); {@link lambdaBackendFromFlags} checks what lambda needs. */
export const lambdaFlagsShape = {
  lambdaFunction: z.string().min(1).optional(),
  lambdaRegion: z.string().min(1).optional(),
  lambdaEndpoint: z.string().min(1).optional(),
  lambdaConcurrency: z.coerce.number({ message: "--lambda-concurrency must be a number" }).int().min(1, "--lambda-concurrency must be at least 1").max(10_000).optional(),
  lambdaStore: z.string().min(1).optional(),
};

export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const S3_PREFIX = /^s3:\/\/.+/;

const requiredSchema = z.object({
  lambdaFunction: z.string({ message: "--backend lambda needs --lambda-function: the name or ARN of a function deployed with Smelter's handler (docs/backends/lambda.md)" }).min(1),
  lambdaRegion: z.string().regex(AWS_REGION_PATTERN, "--lambda-region must look like us-east-1").optional(),
  lambdaEndpoint: z.url({ message: "--lambda-endpoint must be a URL such as http://127.0.0.1:9001" }).optional(),
  lambdaStore: z.string().regex(S3_PREFIX, "--lambda-store must be an s3:// URL prefix the function can read and write").optional(),
});

/**
 * The `lambda` section of smelter.config.json (src/cli/config.ts): the same settings as the
 * flags, each key the flag's name without `--lambda-` (`function` is `--lambda-function`).
 */
export const lambdaConfigSchema = z.strictObject({
  function: z.string().min(1, "must be the function's name or ARN"),
  region: z.string().regex(AWS_REGION_PATTERN, "must look like us-east-1").optional(),
  endpoint: z.url({ message: "must be a URL such as http://127.0.0.1:9001" }).optional(),
  concurrency: z.number({ message: "must be a number" }).int().min(1, "must be at least 1").max(10_000).optional(),
  store: z.string().regex(S3_PREFIX, "must be an s3:// URL prefix the function can read and write").optional(),
});

/** Adds the lambda flags to a command that has --backend. */
export function addLambdaOptions(cmd: Command): Command {
  return cmd
    .option("--lambda-function <name>", "--backend lambda: the function's name or ARN (deployed with Smelter's handler)")
    .option("--lambda-region <region>", "--backend lambda: its region (default: AWS_REGION)")
    .option("--lambda-endpoint <url>", "--backend lambda: a custom Lambda endpoint")
    .option("--lambda-concurrency <n>", "--backend lambda: invocations at once (default: --workers, else 100)")
    .option("--lambda-store <url>", "--backend lambda: where payloads and results over 6 MB go (default: <--work>/lambda/, or the s3:// input's bucket under _smelter/lambda/)");
}

/** Creates the lambda backend from validated flags and checks that the function answers. Throws ConfigError / a clear SmelterError. */
export async function lambdaBackendFromFlags(flags: Record<string, unknown>): Promise<Backend> {
  const r = requiredSchema.safeParse(flags);
  if (!r.success) {
    const { ConfigError } = await import("../job/errors.js");
    throw new ConfigError(`bad flags: ${r.error.issues.map((i) => i.message).join("; ")} (see --help)`);
  }
  const f = r.data;
  const [{ lambdaBackend }, { urlObjects }] = await Promise.all([import("../backends/lambda/backend.js"), import("../lambda.js")]);
  const concurrency = (flags.lambdaConcurrency ?? flags.workers) as number | undefined;
  const store = f.lambdaStore ? withSlash(f.lambdaStore) : defaultRemoteStore("lambda", flags);
  const backend = lambdaBackend({
    functionName: f.lambdaFunction,
    ...(f.lambdaRegion ? { region: f.lambdaRegion } : {}),
    ...(f.lambdaEndpoint ? { endpoint: f.lambdaEndpoint } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(store ? { store, objects: urlObjects } : {}),
  });
  return checkedBackend(backend);
}
