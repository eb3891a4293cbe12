/** The simulator's plumbing: seeded replay, costs, capacity refusals, the models' store rules, and the CLI's flags. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseDataset } from "../../src/simulate/dataset.js";
import { s3Model } from "../../src/simulate/models.js";
import { simulateQuery2 } from "../../src/simulate/query2.js";
import { SimStore } from "../../src/simulate/store-model.js";
import { createRuntimeContext } from "../../src/job/runtime-context.js";
import { DEFAULT_HEDGE_RULE } from "../../src/storage/hedging.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, "simulate", "query2", ...args], { encoding: "utf8", timeout: 120_000 });

describe("simulate query2", () => {
  test("a seed replays exactly; another seed differs", async () => {
    const o = { platform: "lambda" as const, workers: 40, memoryMb: 2048, inputBytes: 5e9, speculation: true, hedging: true };
    const a = await simulateQuery2({ ...o, seed: 7 });
    const b = await simulateQuery2({ ...o, seed: 7 });
    const c = await simulateQuery2({ ...o, seed: 8 });
    const strip = (r: typeof a) => ({ ...r, simulatedInMs: 0 });
    assert.deepEqual(strip(a), strip(b));
    assert.notEqual(a.seconds, c.seconds);
  });

  test("costs: every input byte read, Lambda time and requests billed", async () => {
    const inputBytes = 20e9;
    const r = await simulateQuery2({ platform: "lambda", workers: 60, memoryMb: 2048, inputBytes, speculation: false, hedging: false, seed: 1, prefixGetRate: 1e12 });
    assert.equal(r.failed, undefined, r.failed);
    // Every input byte read once at least (speculation off; retries may read twice).
    assert.ok(r.store.bytesRead >= inputBytes);
    assert.ok(r.cost > 0 && r.requestCost > 0 && r.computeCost > 0);
    assert.ok(r.seconds! > 0);
  });

  test("a small input is merged on the coordinator (no reduce stage), as the planner does", async () => {
    const r = await simulateQuery2({ platform: "processes", workers: 2, memoryMb: 2048, inputBytes: 300e6, speculation: false, hedging: false, seed: 1 });
    assert.equal(r.partitions, 0);
    assert.equal(r.cost, 0);
    assert.ok(r.seconds! > 0);
  });

  test("a platform that scales slowly refuses launches (no capacity) and the job still finishes", async () => {
    const r = await simulateQuery2({ platform: "kubernetes", workers: 600, memoryMb: 2048, inputBytes: 20e9, speculation: false, hedging: false, seed: 1, failureRate: 0, prefixGetRate: 1e12 });
    assert.equal(r.failed, undefined, r.failed);
    assert.ok(r.noCapacity > 0, "kubernetes creates 200 pods a second: some launches are refused");
  });

  test("the store answers 503 SlowDown over the per-prefix rate, and a job that keeps hitting it fails with a clear error", async () => {
    const store = new SimStore({ ...s3Model, getRatePerPrefix: 100 }, createRuntimeContext({ seed: 1 }).random, { ...DEFAULT_HEDGE_RULE, hedgeAfter: 0 });
    const r = store.read(0, "p/", 1000 * 1024, 100e6, 1, 1000);
    assert.ok(r.counters.slowDowns > 0);
    const job = await simulateQuery2({ platform: "lambda", workers: 100, memoryMb: 2048, inputBytes: 10e9, speculation: false, hedging: false, seed: 1, prefixGetRate: 200 });
    assert.match(job.failed ?? "", /SlowDown: GET under .* still refused after 5 attempts/);
  });

  test("--dataset takes rows, bytes or a set's name", () => {
    assert.equal(parseDataset("126.8GB").bytes, 126.8e9);
    assert.equal(parseDataset("775M").rows, 775e6);
    assert.ok(Math.abs(parseDataset("775M").bytes - 126.8e9) < 1e6);
    assert.equal(parseDataset("5nodes").bytes, 126.8e9);
    assert.equal(parseDataset("1MiB").bytes, 1024 * 1024);
    assert.throws(() => parseDataset("lots"), /neither rows nor bytes/);
  });
});

describe("smelter simulate query2 (CLI)", () => {
  test("prints predicted time and cost with and without the policies, and writes a chart", () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-sim-"));
    const plot = join(dir, "chart.svg");
    const r = cli("--dataset", "2GB", "--backend", "lambda", "--sweep", "workers=10,20", "--seeds", "2", "--plot", plot);
    const svg = r.status === 0 ? readFileSync(plot, "utf8") : "";
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /predicted by simulation/);
    assert.match(r.stdout, /speculation \+ hedging/);
    assert.match(r.stdout, /no speculation, no hedging/);
    assert.equal(r.stdout.trim().split("\n").length, 2 + 4);
    assert.match(svg, /^<svg/);
    assert.match(svg, /polyline/);
  });

  test("bad flags get one clear error naming each", () => {
    const r = cli("--dataset", "lots", "--backend", "azure", "--workers", "0", "--sweep", "workers=x", "--plot", "chart.png");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^\[smelter\] bad flags:/);
    for (const m of [/--dataset "lots"/, /--backend must be lambda, fargate, kubernetes or processes/, /--workers must be at least 1/, /--sweep must look like/, /--plot must name a .svg or .html file/]) assert.match(r.stderr, m);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });

  test("--dataset is required", () => {
    const r = cli("--workers", "10");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--dataset is required/);
  });
});
