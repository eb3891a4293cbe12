#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with Node's test runner.
// Usage: node scripts/test.mjs [substring ...]   (only files whose path contains a substring)
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("../dist/test/", import.meta.url).pathname;
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
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...flags, ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
