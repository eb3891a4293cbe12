#!/usr/bin/env node
// Builds the deployment zip of a Smelter Lambda function (runtime nodejs22.x or nodejs24.x,
// handler index.handler): your worker module, Smelter (packed from this checkout) with its
// production dependencies, DuckDB's Linux binding for the chosen architecture, and index.mjs
// re-exporting smelter/lambda's handler. Also writes the least-privilege IAM policies.
//
//   node scripts/build-lambda-zip.mjs --worker path/to/workers.js [--out smelter-lambda.zip]
//     [--arch x64|arm64] [--function-arn arn:aws:lambda:REGION:ACCOUNT:function:NAME]
//     [--work s3://bucket/_smelter/] [--input s3://bucket/data/ ...]
//
// Then: set the function's environment SMELTER_WORKER_MODULE=<the worker file's name>, give its
// execution role <out>.function-policy.json, and the manager <out>.manager-policy.json.
// See docs/backends/lambda.md. Needs npm (it installs from the registry) and zip.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const repo = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    worker: { type: "string" },
    out: { type: "string", default: "smelter-lambda.zip" },
    arch: { type: "string", default: "x64" },
    "function-arn": { type: "string" },
    work: { type: "string" },
    input: { type: "string", multiple: true, default: [] },
  },
});
const fail = (message) => {
  process.stderr.write(`[smelter] ${message}\n`);
  process.exit(1);
};
if (!values.worker) fail("--worker is required: the module that defines your workers with defineWorker (bundle a multi-file module into one file first, e.g. with esbuild)");
const worker = resolve(values.worker);
if (!existsSync(worker) || !statSync(worker).isFile()) fail(`--worker ${values.worker} is not a file`);
if (!["x64", "arm64"].includes(values.arch)) fail(`--arch must be x64 or arm64 (Lambda's x86_64 or arm64), not ${values.arch}`);
const out = resolve(values.out);
if (!existsSync(join(repo, "dist/src/lambda.js"))) fail("dist/ is missing: run npm run build first");

const run = (cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r.stdout;
};

const stage = mkdtempSync(join(tmpdir(), "smelter-lambda-zip-"));
try {
  // Smelter as a package (what `npm publish` would ship: package.json, dist/, bin/).
  const tarball = run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", stage], repo).trim().split("\n").pop();
  writeFileSync(join(stage, "package.json"), JSON.stringify({ name: "smelter-function", private: true, type: "module" }, null, 2));
  // Linux binaries for the function's architecture (DuckDB's binding is an optional dependency per platform).
  run("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--os=linux", `--cpu=${values.arch}`, "--libc=glibc", `./${tarball}`], stage);
  rmSync(join(stage, tarball));
  const binding = join(stage, "node_modules/@duckdb", `node-bindings-linux-${values.arch}`);
  if (!existsSync(binding)) fail(`DuckDB's Linux ${values.arch} binding was not installed (${binding}): check npm's --os/--cpu support (npm >= 10)`);
  cpSync(worker, join(stage, basename(worker)));
  writeFileSync(join(stage, "index.mjs"), `// Smelter's Lambda handler; the workers come from SMELTER_WORKER_MODULE (${basename(worker)}).\nexport { handler } from "smelter/lambda";\n`);
  rmSync(out, { force: true });
  run("zip", ["-q", "-r", "-y", out, "."], stage);
  process.stdout.write(`[smelter] wrote ${out} (${(statSync(out).size / 1e6).toFixed(1)} MB): runtime nodejs22.x, handler index.handler, architecture ${values.arch === "x64" ? "x86_64" : "arm64"}, environment SMELTER_WORKER_MODULE=${basename(worker)}\n`);
  if (values["function-arn"] && values.work) {
    const { lambdaIamPolicies } = await import(join(repo, "dist/src/backends/lambda/iam.js"));
    const policies = lambdaIamPolicies({ functionArn: values["function-arn"], work: values.work, inputs: values.input });
    const base = out.replace(/\.zip$/, "");
    writeFileSync(`${base}.function-policy.json`, `${JSON.stringify(policies.functionRole, null, 2)}\n`);
    writeFileSync(`${base}.manager-policy.json`, `${JSON.stringify(policies.manager, null, 2)}\n`);
    process.stdout.write(`[smelter] wrote ${base}.function-policy.json (the execution role) and ${base}.manager-policy.json (who runs smelter)\n`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
