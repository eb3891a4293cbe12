/**
 * smelter.config.json (src/cli/config.ts, src/config/config-file.ts): found in the working
 * directory or given by --config, validated with errors naming the file, key and line, laid under
 * the flags (the command line wins), and used by a real `smelter pi` run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Command } from "commander";
import { addResultOptions, addRunFlags } from "../../src/cli/common.js";
import { backendSections, configSchema } from "../../src/cli/config.js";
import { CONFIG_FILE_NAME, loadConfigFile } from "../../src/config/config-file.js";
import { ConfigError } from "../../src/job/errors.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "smelter-config-"));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

/** Parses `args` on a command with the run and result flags; resolves with what its action got. */
async function parse(...args: string[]): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> = {};
  const cmd = addResultOptions(addRunFlags(new Command("x")), { work: "w", taskBytes: "t" }).action((raw: Record<string, unknown>) => {
    got = raw;
  });
  cmd.exitOverride();
  await cmd.parseAsync(["node", "x", ...args]);
  return got;
}

describe("smelter.config.json", () => {
  const good = file("good.json", {
    backend: "lambda",
    workers: 8,
    stores: { work: "s3://bucket/_smelter/" },
    defaults: { threadsPerTask: 2, quiet: true, limit: 5 },
    lambda: { function: "smelter-fn", region: "eu-west-1", concurrency: 50 },
  });

  it("fills in the flags the command line did not give, and the command line wins", async () => {
    const f = await parse("--config", good, "--workers", "3", "--lambda-region", "us-east-2");
    assert.equal(f.backend, "lambda");
    assert.equal(f.workers, "3", "--workers on the command line wins over the file's 8");
    assert.equal(f.work, "s3://bucket/_smelter/");
    assert.equal(f.threadsPerTask, 2);
    assert.equal(f.limit, 5);
    assert.equal(f.quiet, true);
    assert.equal(f.lambdaFunction, "smelter-fn");
    assert.equal(f.lambdaRegion, "us-east-2", "--lambda-region wins over the lambda section's region");
    assert.equal(f.lambdaConcurrency, 50);
    const plain = await parse();
    assert.equal(plain.backend, "processes", "without a config file (none in the working directory) the defaults stay");
  });

  it("finds ./smelter.config.json in the working directory, and none is fine", async () => {
    const cwd = join(dir, "project");
    mkdirSync(cwd, { recursive: true });
    assert.equal(await loadConfigFile(configSchema(), { cwd }), undefined);
    writeFileSync(join(cwd, CONFIG_FILE_NAME), JSON.stringify({ backend: "threads" }));
    const loaded = await loadConfigFile(configSchema(), { cwd });
    assert.equal(loaded?.file, "./smelter.config.json");
    assert.equal(loaded?.config.backend, "threads");
  });

  it("refuses bad files with the file, the key and the line", async () => {
    let n = 0;
    const refused = async (content: unknown, pattern: RegExp) => {
      const path = file(`bad-${++n}.json`, content);
      await assert.rejects(loadConfigFile(configSchema(), { explicit: path }), (e: Error) => e instanceof ConfigError && pattern.test(e.message) && e.message.includes(path));
    };
    await refused({ backend: "lambda", lambda: { function: "f", region: "Europe" } }, /lambda\.region \(line 5\): must look like us-east-1/);
    await refused({ backend: "nowhere" }, /backend \(line 2\): must be one of inline, threads, processes, lambda/);
    await refused({ lambda: { function: "f", concurrency: 0 } }, /lambda\.concurrency \(line 4\): must be at least 1/);
    await refused({ lambda: { function: "f", memory: 2048 } }, /lambda .*Unrecognized key.*memory/);
    await refused({ stores: { s3Endpoint: "localhost:9000" } }, /stores\.s3Endpoint \(line 3\): must be a URL/);
    await refused({ workerz: 3 }, /Unrecognized key.*workerz/);
    await assert.rejects(loadConfigFile(configSchema(), { explicit: file("broken.json", "{ \"backend\": ") }), /broken\.json is not valid JSON/);
    await assert.rejects(loadConfigFile(configSchema(), { explicit: join(dir, "missing.json") }), /cannot read the config file .*missing\.json \(no such file\)/);
  });

  it("has a hook for each backend's section", () => {
    assert.deepEqual(Object.keys(backendSections), ["lambda", "fargate", "kubernetes"]);
    assert.equal(backendSections.lambda!.schema.safeParse({ function: "f" }).success, true);
    assert.equal(backendSections.kubernetes!.schema.safeParse({ image: "i", memory: "1Gi", command: ["node", "x.js"] }).success, true);
    assert.equal(backendSections.kubernetes!.schema.safeParse({ image: "i", memory: "lots" }).success, false);
  });

  it("drives a real run: `smelter pi --config FILE` with the backend and defaults from the file", () => {
    const config = file("pi.json", { backend: "inline", defaults: { quiet: true } });
    const r = spawnSync(process.execPath, [bin, "pi", "--config", config, "--tasks", "2", "--samples", "2000", "--stragglers", "0"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^pi ~ 3\.\d+/);
    assert.equal(r.stderr, "", "quiet from the file: nothing on stderr");
    const bad = spawnSync(process.execPath, [bin, "pi", "--config", file("pi-bad.json", { defaults: { quiet: "yes" } })], { encoding: "utf8", timeout: 60_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^\[smelter\] .*pi-bad\.json: defaults\.quiet \(line 3\): .*boolean/m);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
  });
});
