#!/usr/bin/env node
// Keeps package-lock.json installable with `npm ci` everywhere.
// @duckdb/node-bindings lists one optional package per platform. When the registry npm talks
// to lacks some of them (the mirror on our build machines has only the Linux ones), `npm install`
// leaves them out of the lock file, and `npm ci` then refuses the lock ("Missing: ... from lock
// file"). This adds an entry for each missing platform package, marked optional with its os/cpu
// (and libc), so npm skips it on other platforms and fetches it on its own. Run after `npm install`.
// `--check` changes nothing and exits 1 when an entry is missing (what .ci/run does first).
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const packages = lock.packages;
let added = 0;
for (const entry of Object.values(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey]) continue;
    const m = /-(darwin|linux|win32)-(arm64|x64)(-musl)?$/.exec(dep);
    if (!m) continue;
    packages[depKey] = { version, cpu: [m[2]], license: entry.license ?? "MIT", optional: true, os: [m[1]], ...(m[1] === "linux" ? { libc: [m[3] ? "musl" : "glibc"] } : {}) };
    added++;
  }
}
if (process.argv.includes("--check")) {
  if (added > 0) {
    console.error(`package-lock.json lacks ${added} platform package(s) of an optional dependency, so "npm ci" would refuse it: run "node scripts/fix-lock.mjs" and commit package-lock.json`);
    process.exit(1);
  }
} else {
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`fix-lock: ${added} platform package(s) added`);
}
