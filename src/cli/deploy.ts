/**
 * `smelter deploy lambda`: builds the function's zip (scripts/build-lambda-zip.mjs: the worker
 * module, Smelter, DuckDB's Linux binding) or takes one (`--zip`), creates or updates the function
 * (src/backends/lambda/deploy.ts), and prints the least-privilege IAM policies for its role and
 * for the manager (src/backends/lambda/iam.ts). See docs/cli/deploy.md.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseFlags } from "./common.js";
import { AWS_REGION_PATTERN } from "./lambda-flags.js";

const BUILD_SCRIPT = new URL("../../../scripts/build-lambda-zip.mjs", import.meta.url).pathname;

const deployFlagsSchema = z.object({
  worker: z.string({ message: "--worker is required: the module that defines your workers (one file)" }).min(1),
  function: z.string({ message: "--function is required: the function's name" }).regex(/^[A-Za-z0-9_-]{1,64}$|^arn:/, "--function must be a name (letters, digits, - and _) or an ARN"),
  role: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, "--role must be an IAM role ARN such as arn:aws:iam::123456789012:role/smelter-fn").optional(),
  zip: z.string().min(1).optional(),
  arch: z.enum(["x64", "arm64"], { message: "--arch must be x64 or arm64" }).default("x64"),
  memory: z.coerce.number({ message: "--memory must be a number" }).int().min(128, "--memory must be 128 to 10240 (MB)").max(10_240, "--memory must be 128 to 10240 (MB)").default(2048),
  timeout: z.coerce.number({ message: "--timeout must be a number" }).int().min(1, "--timeout must be 1 to 900 (seconds)").max(900, "--timeout must be 1 to 900 (seconds)").default(900),
  runtime: z.enum(["nodejs22.x", "nodejs24.x"], { message: "--runtime must be nodejs22.x or nodejs24.x" }).default("nodejs22.x"),
  region: z.string().regex(AWS_REGION_PATTERN, "--region must look like us-east-1").optional(),
  endpoint: z.string().regex(/^https?:\/\/[^/]+/, "--endpoint must be a URL such as http://127.0.0.1:9001").optional(),
  work: z.string().regex(/^s3:\/\/.+/, "--work must be the job's s3:// work prefix").optional(),
  input: z.array(z.string().regex(/^s3:\/\/.+/, "--input must be an s3:// prefix")).default([]),
});

export function register(program: Command): void {
  const deploy = program.command("deploy").description("deploy Smelter's workers to a platform");
  deploy
    .command("lambda")
    .description("bundle your worker module, Smelter and DuckDB's Linux binding into a zip, create or update the Lambda function, print its IAM policies")
    .option("--worker <file>", "the module that defines your workers with defineWorker (one file; bundle first with esbuild if needed)")
    .option("--function <name>", "the function's name")
    .option("--role <arn>", "its execution role (needed to create it)")
    .option("--zip <file>", "a zip built before (scripts/build-lambda-zip.mjs) instead of building one")
    .option("--arch <arch>", "x64 or arm64", "x64")
    .option("--memory <mb>", "memory size, MB", "2048")
    .option("--timeout <s>", "timeout, seconds", "900")
    .option("--runtime <name>", "nodejs22.x or nodejs24.x", "nodejs22.x")
    .option("--region <region>", "its region (default: AWS_REGION)")
    .option("--lambda-endpoint <url>", "a custom Lambda endpoint")
    .option("--work <url>", "the jobs' s3:// work prefix, for the IAM policies")
    .option("--input <url...>", "s3:// prefixes the tasks read, for the IAM policies")
    .action(async (raw: Record<string, unknown>) => {
      const f = parseFlags(deployFlagsSchema, { ...raw, endpoint: raw.lambdaEndpoint, input: raw.input ?? [] });
      if (f.zip && !existsSync(f.zip)) throw new ConfigError(`--zip ${f.zip} does not exist`);
      const zipFile = f.zip ? { path: f.zip, cleanup: () => {} } : buildZip(f.worker, f.arch);
      try {
        const { deployLambda } = await import("../backends/lambda/deploy.js");
        const result = await deployLambda({
          functionName: f.function,
          zip: readFileSync(zipFile.path),
          workerModule: basename(f.worker),
          ...(f.role ? { role: f.role } : {}),
          arch: f.arch,
          memoryMb: f.memory,
          timeoutSeconds: f.timeout,
          runtime: f.runtime,
          ...(f.region ? { region: f.region } : {}),
          ...(f.endpoint ? { endpoint: f.endpoint } : {}),
        });
        process.stdout.write(`[smelter] ${result.action} ${result.functionArn} (${f.runtime}, ${f.arch === "x64" ? "x86_64" : "arm64"}, SMELTER_WORKER_MODULE=${basename(f.worker)})\n`);
        if (result.action === "updated") process.stdout.write(`[smelter] only the code was updated: memory, timeout and environment are left as they are\n`);
        if (f.work) {
          const { lambdaIamPolicies } = await import("../backends/lambda/iam.js");
          const policies = lambdaIamPolicies({ functionArn: result.functionArn, work: f.work, inputs: f.input });
          process.stdout.write(`\n# The function's execution role:\n${JSON.stringify(policies.functionRole, null, 2)}\n\n# Whoever runs smelter --backend lambda:\n${JSON.stringify(policies.manager, null, 2)}\n`);
        } else {
          process.stdout.write(`[smelter] give --work s3://bucket/prefix/ (and --input ...) to print the least-privilege IAM policies\n`);
        }
        process.stdout.write(`[smelter] run a job on it: smelter query2 ... --backend lambda --lambda-function ${f.function}\n`);
      } finally {
        zipFile.cleanup();
      }
    });
}

/** Builds the zip with scripts/build-lambda-zip.mjs into a temporary directory. */
function buildZip(worker: string, arch: string): { path: string; cleanup(): void } {
  if (!existsSync(BUILD_SCRIPT)) throw new ConfigError(`the zip builder ${BUILD_SCRIPT} is not here (it ships with Smelter's source): build the zip in a checkout and pass --zip`);
  const dir = mkdtempSync(join(tmpdir(), "smelter-deploy-"));
  const path = join(dir, "smelter-lambda.zip");
  const r = spawnSync(process.execPath, [BUILD_SCRIPT, "--worker", worker, "--out", path, "--arch", arch], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new ConfigError(`building the zip failed (exit ${r.status ?? r.error?.message}): see the lines above`);
  }
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
