/**
 * What the command line loads before it works: a command loads its own module, not every
 * command's (DuckDB, the AWS SDK and the S3 server stay out of `smelter query2` until it runs a
 * query, so its workers start first); `smelter --help` still lists every command.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "smelter-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// A module hook that prints every module URL the process resolves to stderr.
const hooks = join(dir, "hooks.mjs");
writeFileSync(hooks, `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOADED " + r.url + "\\n"); return r; }\n`);
const register = join(dir, "register.mjs");
writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

function loaded(...args: string[]): { modules: string[]; stdout: string; status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", register, bin, ...args], { encoding: "utf8", timeout: 60_000 });
  const modules = r.stderr.split("\n").filter((l) => l.startsWith("LOADED ")).map((l) => l.slice("LOADED ".length));
  return { modules, stdout: r.stdout, status: r.status, stderr: r.stderr };
}

describe("smelter's startup", () => {
  test("smelter query2 loads neither DuckDB, the AWS SDK, the S3 server nor the other commands before it runs", () => {
    const r = loaded("query2", "--help");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--prefix-len/);
    for (const heavy of ["@duckdb/node-api", "@aws-sdk/", "s3rver", "hyparquet", "@opentelemetry/"]) {
      assert.deepEqual(r.modules.filter((m) => m.includes(`/node_modules/${heavy}`)), [], `${heavy} is not loaded`);
    }
    for (const other of ["sql", "datagen", "demo", "simulate", "deploy"]) {
      assert.ok(!r.modules.some((m) => m.endsWith(`/dist/src/cli/${other}.js`)), `cli/${other}.js is not loaded`);
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
