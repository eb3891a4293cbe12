#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with Node's test runner.
// Usage: node scripts/test.mjs [substring ...]   (only files whose path contains a substring)
// First installs the test servers the selected files use when they are missing (TOOLS below:
// each install script is idempotent and returns at once when the tool is there). An install that
// fails is reported and the tests go on: the ones needing that server then fail within seconds,
// saying why. SMELTER_SKIP_TOOL_INSTALL=1 skips the installs.
// The tests run with TMPDIR set to a directory of their own, removed when they end: what a test
// file leaves in its temp directories (fixtures, generated data) does not pile up in /tmp.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const repo = new URL("..", import.meta.url).pathname;
const root = join(repo, "dist/test/");

/** Test servers installed by the project's own scripts; a test file needs one when its compiled code imports `usedBy`. */
const TOOLS = [
  { name: "versitygw (the complete S3 server)", script: "scripts/install-s3-server.sh", usedBy: "helpers/s3-complete.js", override: "SMELTER_VERSITYGW" },
  { name: "aws-lambda-rie (the Lambda Runtime Interface Emulator)", script: "scripts/install-lambda-rie.sh", usedBy: "tooling/lambda-front.js" },
];

const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("-"));
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.js"))
  // a compiled test whose source was renamed or deleted is stale: skip it
  .filter((f) => existsSync(new URL(`../test/${f.slice(0, -3)}.ts`, import.meta.url)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .map((f) => join(root, f));
if (files.length === 0) {
  console.error(`no test files matched under ${root}: run "npm run build" first`);
  process.exit(1);
}

if (process.env.SMELTER_SKIP_TOOL_INSTALL !== "1") {
  for (const tool of TOOLS) {
    if (tool.override && process.env[tool.override]) continue;
    const users = files.filter((f) => readFileSync(f, "utf8").includes(tool.usedBy));
    if (users.length === 0) continue;
    const r = spawnSync("bash", [join(repo, tool.script)], { stdio: ["ignore", "inherit", "inherit"], cwd: repo });
    if (r.status !== 0) {
      console.error(`\n[smelter] could not install ${tool.name} with ${tool.script} (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): the ${users.length} test file(s) that use it will fail; the reason is above\n`);
    }
  }
}

// --test-force-exit (Node 20.14+): once every test has finished, a handle left open (a server a
// test forgot) cannot keep a test file alive; servers' children die with it (see test/helpers/).
const [major, minor] = process.versions.node.split(".").map(Number);
const forceExit = major >= 22 || (major === 20 && minor >= 14) ? ["--test-force-exit"] : [];
const runTmp = mkdtempSync(join(tmpdir(), "smelter-tests-"));
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...forceExit, ...flags, ...files], { stdio: "inherit", env: { ...process.env, TMPDIR: runTmp } });
rmSync(runTmp, { recursive: true, force: true });
process.exit(r.status ?? 1);
