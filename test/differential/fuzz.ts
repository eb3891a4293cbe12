/**
 * `npm run fuzz -- [--seed N] [--case FAMILY[,FAMILY]] [--count N | --time SECONDS] [--include-known] [--keep] [--no-s3] [--verbose]`
 *
 * Runs differential cases (test/differential/): for seeds N, N+1, ... every family (or those
 * named), until --count seeds are done (default 1 with --seed, else 20) or --time seconds have
 * passed. Prints each failing case with its seed and replay command, then a summary: cases run,
 * passed, failed (with seeds), skipped as known failures. Exit code 1 if any case failed.
 * --include-known runs the cases of known failure classes too (and says which now pass);
 * --keep leaves each case's generated files in place and prints where.
 */
import { parseArgs } from "node:util";
import { FAMILIES } from "./cases.js";
import { describeCase, DifferentialEnv, replayCommand, runCase, type Outcome } from "./harness.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    case: { type: "string" },
    count: { type: "string" },
    time: { type: "string" },
    "include-known": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "no-s3": { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`[smelter] fuzz: ${message}\n`);
  process.exit(2);
}

const families = values.case ? values.case.split(",") : Object.keys(FAMILIES);
for (const f of families) if (!FAMILIES[f]) fail(`unknown case ${f}: one of ${Object.keys(FAMILIES).join(", ")}`);
const start = values.seed !== undefined ? Number(values.seed) : 1000 + Math.floor(Math.random() * 1_000_000);
if (!Number.isInteger(start) || start < 0) fail(`--seed takes a whole number, not ${values.seed}`);
const seconds = values.time !== undefined ? Number(values.time) : undefined;
const count = values.count !== undefined ? Number(values.count) : seconds !== undefined ? Infinity : values.seed !== undefined ? 1 : 20;
if (!(count >= 1) || (seconds !== undefined && !(seconds > 0))) fail("--count and --time take positive numbers");

const env = await new DifferentialEnv().open({ s3: !values["no-s3"] });
const outcomes: Outcome[] = [];
const began = Date.now();
let n = 0;
process.stderr.write(`[smelter] fuzz: seeds from ${start}, cases ${families.join(", ")}${seconds ? `, for ${seconds} s` : ""}\n`);
try {
  outer: for (let seed = start; n < count; seed++, n++) {
    for (const family of families) {
      if (seconds !== undefined && Date.now() - began > seconds * 1000) break outer;
      const o = await runCase(env, seed, family, { runKnown: values["include-known"], keep: values.keep });
      outcomes.push(o);
      const line = `${o.status.toUpperCase().padEnd(4)} ${family} seed ${seed}: ${o.detail}`;
      if (o.status === "fail") process.stdout.write(`\n${line}\n  ${describeCase(o.spec)}\n  replay: ${replayCommand(o.spec)}\n`);
      else if (values.verbose || o.known) process.stdout.write(`${line}\n${values.verbose ? `  ${describeCase(o.spec)}\n` : ""}`);
    }
  }
} finally {
  await env.close();
}

const by = (s: Outcome["status"]) => outcomes.filter((o) => o.status === s);
const failed = by("fail");
const knownPassing = outcomes.filter((o) => o.known && o.status === "pass");
process.stdout.write(`\n${outcomes.length} cases run in ${((Date.now() - began) / 1000).toFixed(1)} s: ${by("pass").length} passed, ${failed.length} failed, ${by("skip").length} skipped (known failures)\n`);
const passed = by("pass");
const refusedBoth = passed.filter((o) => o.detail.includes("both refused")).length;
const refusedClearly = passed.filter((o) => o.detail.includes("refused clearly")).length;
process.stdout.write(`  passed: ${passed.length - refusedBoth - refusedClearly} equal results, ${refusedBoth} both refused, ${refusedClearly} refused clearly (quoted newlines, forced broadcast)\n`);
if (failed.length > 0) process.stdout.write(`failed: ${failed.map((o) => `${o.spec.family}#${o.spec.seed}`).join(" ")}\n`);
const classes = new Map<string, number>();
for (const o of by("skip")) classes.set(o.known!.id, (classes.get(o.known!.id) ?? 0) + 1);
for (const [id, k] of classes) process.stdout.write(`  known ${id}: ${k} skipped\n`);
if (knownPassing.length > 0) process.stdout.write(`known-failure cases that now pass: ${knownPassing.map((o) => `${o.spec.family}#${o.spec.seed} (${o.known!.id})`).join(" ")}\n`);
process.exit(failed.length > 0 ? 1 : 0);
