/**
 * What the command line loads before it works: a command loads its own module, not every
 * command's (DuckDB, the AWS SDK and the S3 server stay out of `smelter query2` until it runs a
 * query, so its workers start first); `smelter --help` still lists every command. The CommonJS
 * packages every process loads at its start are loaded with `require`, not `import` (src/duckdb/index.ts).
 * bin/smelter.js runs the bundle `npm run build` makes (scripts/bundle.mjs) and its pool workers
 * fork theirs: neither process loads a module of dist/src beside it (a second copy of Smelter), and
 * both load DuckDB's API from the one-file copy the build makes beside the bundles.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "smelter-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// A module hook that prints every module URL the process resolves with `import` to stderr, and
// at exit every module in the CommonJS cache (what `require` loaded, which the hook does not see).
const hooks = join(dir, "hooks.mjs");
// Written to fd 2 at once: on Node 24 the hooks run on a thread of their own, whose process.stderr a pool worker never flushed.
writeFileSync(hooks, `import { writeSync } from "node:fs";\nexport async function resolve(s, c, next) { const r = await next(s, c); writeSync(2, "LOADED " + r.url + "\\n"); return r; }\n`);
const register = join(dir, "register.mjs");
writeFileSync(
  register,
  [
    `import { createRequire, register } from "node:module";`,
    `import { pathToFileURL } from "node:url";`,
    `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    `const cache = createRequire(import.meta.url).cache;`,
    `const required = () => { for (const f of Object.keys(cache)) process.stderr.write("REQUIRED " + pathToFileURL(f).href + "\\n"); };`,
    `process.on("exit", required);`,
    // A pool worker is stopped with SIGTERM, which ends it without "exit": tell what it required first.
    `if (process.send) process.once("SIGTERM", () => { process.off("exit", required); required(); process.exit(0); });`,
    "",
  ].join("\n"),
);

// The command line from its compiled modules rather than the bundle: which modules a command
// loads is a property of that module graph, which the bundle's chunks keep.
const fromModules = join(dir, "from-modules.mjs");
writeFileSync(fromModules, `const { main } = await import(${JSON.stringify(new URL("../../../dist/src/cli/main.js", import.meta.url).href)}); await main(process.argv);\n`);

/** The modules a `smelter` process loaded (and, with `workers`, those its pool workers loaded, from their stderr lines "[pid-N] LOADED ..."). */
function loaded(args: string[], o: { script?: string; workers?: boolean } = {}): { modules: string[]; workerModules: string[]; stdout: string; status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", register, o.script ?? bin, ...args], { encoding: "utf8", timeout: 60_000 });
  const lines = r.stderr.split("\n");
  const pick = (re: RegExp) => lines.filter((l) => re.test(l)).map((l) => l.replace(re, ""));
  return { modules: pick(/^(LOADED|REQUIRED) /), workerModules: pick(/^\[pid-\d+\] (LOADED|REQUIRED) /), stdout: r.stdout, status: r.status, stderr: r.stderr };
}

describe("smelter's startup", () => {
  test("smelter query2 loads neither DuckDB, the AWS SDK, the S3 server nor the other commands before it runs", () => {
    const r = loaded(["query2", "--help"], { script: fromModules });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--prefix-len/);
    for (const heavy of ["@duckdb/node-api", "@aws-sdk/", "s3rver", "hyparquet", "@opentelemetry/"]) {
      assert.deepEqual(r.modules.filter((m) => m.includes(`/node_modules/${heavy}`)), [], `${heavy} is not loaded`);
    }
    for (const other of ["sql", "datagen", "demo", "simulate", "deploy"]) {
      assert.ok(!r.modules.some((m) => m.endsWith(`/dist/src/cli/${other}.js`)), `cli/${other}.js is not loaded`);
    }
  });

  test("bin/smelter.js runs the bundle, and neither it nor its pool workers load a second copy of Smelter from dist/src", async () => {
    const ownModules = (modules: string[]) => modules.filter((m) => m.includes("/dist/src/"));
    const help = loaded(["query2", "--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.ok(help.modules.some((m) => m.endsWith("/dist/src/bundle/smelter.js")), "the bundle runs");
    assert.deepEqual(ownModules(help.modules).filter((m) => !m.includes("/dist/src/bundle/")), [], "no module of dist/src outside the bundle");
    for (const heavy of ["@duckdb/node-api", "@aws-sdk/", "s3rver", "@opentelemetry/"]) assert.deepEqual(help.modules.filter((m) => m.includes(`/node_modules/${heavy}`)), [], `${heavy} is not loaded`);
    // A query on the inline backend (the workers run in this process) and on processes (they fork the pool bundle).
    const csv = join(dir, "visits.csv");
    writeFileSync(csv, "1.2.3.4,u,2000-01-01,1.5,a,B,C,w,1\n1.2.3.5,u,2000-01-01,2.5,a,B,C,w,1\n");
    for (const backend of ["inline", "processes"]) {
      const r = loaded(["query2", "--input", csv, "--backend", backend, "--workers", "1", "--format", "csv", "--quiet"]);
      assert.equal(r.status, 0, r.stderr);
      const [header, ...rows] = r.stdout.trim().split("\n");
      assert.equal(header, "prefix,adRevenue");
      assert.deepEqual(rows.sort(), ["1.2.3.4,1.5", "1.2.3.5,2.5"]);
      assert.deepEqual(ownModules(r.modules).filter((m) => !m.includes("/dist/src/bundle/")), [], `${backend}: the command line loads no module of dist/src outside its bundle`);
      // DuckDB's API from its one-file copy for the installed version (scripts/bundle.mjs), not the package's ~180 files.
      const version = (JSON.parse(readFileSync(new URL("../../../node_modules/@duckdb/node-api/package.json", import.meta.url), "utf8")) as { version: string }).version;
      const duckdbApi = `/dist/src/bundle/duckdb-node-api-${version}.cjs`;
      const fromPackage = (modules: string[]) => modules.filter((m) => m.includes("/node_modules/@duckdb/node-api/lib/"));
      assert.ok(r.modules.some((m) => m.endsWith(duckdbApi)), `${backend}: the command line loads ${duckdbApi}`);
      assert.deepEqual(fromPackage(r.modules), [], `${backend}: the command line loads no file of @duckdb/node-api/lib`);
      if (backend === "processes") {
        assert.ok(r.workerModules.some((m) => m.endsWith("/dist/src/bundle/builtin-processes.js")), "the workers run the processes bundle");
        assert.ok(r.workerModules.some((m) => m.endsWith(duckdbApi)), `the workers load ${duckdbApi}`);
        assert.deepEqual(fromPackage(r.workerModules), [], "the workers load no file of @duckdb/node-api/lib");
        assert.deepEqual(ownModules(r.workerModules).filter((m) => !m.endsWith("/dist/src/bundle/builtin-processes.js") && !m.endsWith(duckdbApi)), [], "the workers load nothing else of dist/src");
      }
    }
  });

  test("the bundles hold zod's English locale only (its ~50 others were ~400 KB every process parsed), and zod still speaks English", () => {
    const bundleDir = new URL("../../../dist/src/bundle/", import.meta.url).pathname;
    const withZod = readdirSync(bundleDir).filter((f) => f.endsWith(".js") && readFileSync(join(bundleDir, f), "utf8").includes("// node_modules/zod/v4/core/schemas.js"));
    assert.ok(withZod.includes("builtin-processes.js") && withZod.length >= 3, `zod is bundled (${withZod.join(", ")})`);
    for (const f of withZod) {
      const locales = [...readFileSync(join(bundleDir, f), "utf8").matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/(\S+)$/gm)].map((m) => m[1]);
      assert.deepEqual(locales, ["en.js"], f);
    }
    // A message of zod's own (not one Smelter wrote), from its English locale.
    const config = join(dir, "unknown-key.json");
    writeFileSync(config, '{"nosuch": 1}\n');
    const r = spawnSync(process.execPath, [bin, "query2", "--input", join(dir, "none"), "--config", config], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Unrecognized key: "nosuch"/);
  });

  test("the CommonJS packages every process loads at its start are loaded with require, not import", () => {
    // Importing CommonJS from ESM makes Node scan each re-exported module for export names first:
    // @duckdb/node-api cost 230 CPU-ms that way against 92 with require (docs/performance.md).
    const src = new URL("../../../src/", import.meta.url).pathname;
    const imports: string[] = [];
    for (const f of readdirSync(src, { recursive: true, encoding: "utf8" })) {
      if (!f.endsWith(".ts")) continue;
      const text = readFileSync(join(src, f), "utf8");
      for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"(@duckdb\/node-api|@aws-sdk\/client-s3|@smithy\/signature-v4)";/gms)) imports.push(`${f}: ${m[1]}`);
      // Nor a dynamic import, in any thread: pool threads load DuckDB with require too.
      for (const line of text.split("\n")) if (/(?<!typeof\s+)\bimport\(\s*"(@duckdb\/node-api|@aws-sdk\/client-s3|@smithy\/signature-v4)"\s*\)/.test(line)) imports.push(`${f}: ${line.trim()}`);
    }
    assert.deepEqual(imports, [], "value imports of these packages: load them with createRequire(import.meta.url)(...) instead");
    // And what a process that opens DuckDB and an S3 store loads: those packages, through require only.
    const probe = join(dir, "probe.mjs");
    const dist = new URL("../../../dist/src/", import.meta.url).href;
    writeFileSync(probe, `const { openDuckDb } = await import(${JSON.stringify(`${dist}duckdb/index.js`)}); (await openDuckDb()).close(); await import(${JSON.stringify(`${dist}storage/s3.js`)});\n`);
    const r = spawnSync(process.execPath, ["--import", register, probe], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const pkg of ["@duckdb/node-api", "@aws-sdk/client-s3", "@smithy/signature-v4"]) {
      const lines = r.stderr.split("\n").filter((l) => l.includes(`/node_modules/${pkg}/`));
      assert.ok(lines.some((l) => l.startsWith("REQUIRED ")), `${pkg} is loaded`);
      assert.deepEqual(lines.filter((l) => l.startsWith("LOADED ")), [], `${pkg} is not imported`);
    }
  });

  test("smelter --help lists every command; an unknown one is refused in Smelter's words", () => {
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(help.status, 0, help.stderr);
    for (const command of ["demo", "query2", "pi", "s3", "datagen", "explain", "sql", "report", "logs", "simulate", "deploy", "clean"]) {
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, "m"), command);
    }
    const bad = spawnSync(process.execPath, [bin, "nosuch"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^\[smelter\] unknown command 'nosuch'/);
  });

  test("a global option before the command still picks the command's module", () => {
    const r = spawnSync(process.execPath, [bin, "--endpoint", "http://127.0.0.1:1", "query2", "--help"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: smelter query2/);
  });
});
