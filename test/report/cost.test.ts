/** The cost estimate and the price table, on generated event streams. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { costLine, estimateCost, usd } from "../../src/report/cost.js";
import { fromJsonValues } from "../../src/report/event-input.js";
import { buildJobReport } from "../../src/report/job-report.js";
import { DEFAULT_PRICES, readPriceFile, withOverrides } from "../../src/report/prices.js";
import { buildTimeline } from "../../src/report/timeline.js";
import { generatedJob, jobEvents } from "../helpers/report-events.js";

const T0 = 1_000_000;

/** Two tasks: one won in 2 s of running after 0.5 s pending; one failed after 1 s, retried, won in 3 s; a lost duplicate ran 1.5 s. */
function smallJob() {
  return jobEvents({
    end: T0 + 10_000,
    stages: [1],
    tasks: { 1: 2 },
    attempts: [
      { stage: 1, task: 0, runtime: "w1", launched: T0, running: T0 + 500, ended: T0 + 2500, counters: { readRequests: 1000, writeRequests: 10, bytesRead: 5e9, bytesWritten: 1e9 } },
      { stage: 1, task: 1, runtime: "w2", launched: T0, running: T0, ended: T0 + 1000, outcome: "failed" },
      { stage: 1, task: 1, n: 2, runtime: "w2", launched: T0 + 1000, running: T0 + 1000, ended: T0 + 4000, counters: { readRequests: 1000, writeRequests: 10 } },
      { stage: 1, task: 1, n: 3, cause: "speculation", runtime: "w3", launched: T0 + 2500, running: T0 + 2500, ended: T0 + 4000, outcome: "lost" },
    ],
  });
}

test("Lambda: GB-seconds of running time at the configured memory plus one request per attempt; waste split by why", () => {
  const attempts = buildTimeline(smallJob()).attempts;
  const c = estimateCost(attempts, "lambda", DEFAULT_PRICES);
  assert.equal(c.actual, "lambda");
  const gbs = c.lines.find((l) => l.scope === "lambda" && l.unit === "GB-s")!;
  assert.equal(gbs.quantity, (2 + 1 + 3 + 1.5) * 2, "7.5 s running at 2 GB");
  const requests = c.lines.find((l) => l.scope === "lambda" && l.unit === "requests")!;
  assert.equal(requests.quantity, 4);
  const lambda = c.places.find((p) => p.place === "lambda")!;
  const perSecond = 2 * DEFAULT_PRICES.lambda.gbSecond;
  const perRequest = DEFAULT_PRICES.lambda.requestsPerMillion / 1e6;
  assert.ok(Math.abs(lambda.compute - (7.5 * perSecond + 4 * perRequest)) < 1e-12);
  assert.ok(Math.abs(lambda.failures - (1 * perSecond + perRequest)) < 1e-12, "what the retry cost: the failed attempt");
  assert.ok(Math.abs(lambda.speculation - (1.5 * perSecond + perRequest)) < 1e-12, "what speculation cost: the duplicate that lost");
  assert.equal(lambda.cancelled, 0);
  assert.ok(Math.abs(c.total - (lambda.compute + c.storage)) < 1e-15);
});

test("Fargate: vCPU- and GB-seconds from launch (pending included) with the one-minute minimum; Spot apart; local costs 0", () => {
  const attempts = buildTimeline(smallJob()).attempts;
  const c = estimateCost(attempts, "threads", DEFAULT_PRICES);
  assert.equal(c.actual, "local");
  assert.equal(c.places.find((p) => p.place === "local")!.compute, 0);
  const vcpu = c.lines.find((l) => l.scope === "fargate" && l.unit === "vCPU-s")!;
  assert.equal(vcpu.quantity, 4 * 60, "every attempt under a minute is billed a minute");
  const fargate = c.places.find((p) => p.place === "fargate")!.compute;
  const spot = c.places.find((p) => p.place === "fargate-spot")!.compute;
  const minute = 60 * (DEFAULT_PRICES.fargate.vcpuHour + 2 * DEFAULT_PRICES.fargate.gbHour) / 3600;
  assert.ok(Math.abs(fargate - 4 * minute) < 1e-12);
  assert.ok(spot < fargate && spot > 0);
  const longer = estimateCost(attempts, "fargate", withOverrides({ fargate: { minimumSeconds: 0 } }));
  assert.equal(longer.lines.find((l) => l.scope === "fargate" && l.unit === "vCPU-s")!.quantity, 3 + 1 + 3 + 2, "whole seconds from launch to end, pending included (2.5 s -> 3 s)");
});

test("what ran is priced: a Spot fallback at on-demand prices, each attempt at the size its backend told (task size, pod requests), else the table's", () => {
  const events = jobEvents({
    end: T0 + 10_000,
    stages: [1],
    tasks: { 1: 3 },
    attempts: [
      { stage: 1, task: 0, launched: T0, running: T0 + 500, ended: T0 + 2000, capacity: { vcpu: 0.25, memoryGb: 0.5, spot: true } },
      { stage: 1, task: 1, launched: T0, running: T0 + 500, ended: T0 + 2000, capacity: { vcpu: 0.25, memoryGb: 0.5, spot: false } },
      { stage: 1, task: 2, launched: T0, running: T0 + 500, ended: T0 + 2000 },
    ],
  });
  // Through JSON and the events file's schema, as `smelter report` reads them.
  const report = buildJobReport(fromJsonValues(JSON.parse(JSON.stringify(events))), { backend: "fargate-spot" });
  const f = DEFAULT_PRICES.fargate;
  const minute = (vcpu: number, gb: number, spot: boolean) => (60 * (vcpu * (spot ? f.spotVcpuHour : f.vcpuHour) + gb * (spot ? f.spotGbHour : f.gbHour))) / 3600;
  const spotPlace = report.cost.places.find((p) => p.place === "fargate-spot")!;
  assert.ok(Math.abs(spotPlace.compute - (minute(0.25, 0.5, true) + minute(0.25, 0.5, false) + minute(f.vcpu, f.memoryGb, true))) < 1e-12, String(spotPlace.compute));
  assert.ok(report.cost.lines.some((l) => l.scope === "fargate-spot" && l.item === "Fargate vCPU (0.25 vCPU)"), "the fallback's on-demand line");
  const onDemand = report.cost.places.find((p) => p.place === "fargate")!;
  assert.ok(Math.abs(onDemand.compute - (2 * minute(0.25, 0.5, false) + minute(f.vcpu, f.memoryGb, false))) < 1e-12, "on-demand Fargate prices every attempt on-demand");
  const kube = estimateCost(report.timeline.attempts, "kubernetes", withOverrides({ kubernetes: { vcpuSecond: 1, gbSecond: 0 } }));
  assert.equal(kube.total - kube.storage, 2 * 0.25 + 2 * 0.25 + 2 * 1, "vCPU-seconds at each attempt's told size, the table's (1) for the third");
});

test("storage: GET and PUT requests priced per 1,000; in-region bytes free unless the table says otherwise", () => {
  const attempts = buildTimeline(smallJob()).attempts;
  const c = estimateCost(attempts, "threads", DEFAULT_PRICES);
  assert.equal(c.lines.find((l) => l.item === "S3 GET requests")!.quantity, 2000);
  assert.equal(c.lines.find((l) => l.item === "S3 PUT requests")!.quantity, 20);
  assert.ok(Math.abs(c.storage - (2000 * 0.0004 + 20 * 0.005) / 1000) < 1e-15);
  assert.equal(c.total, c.storage, "local compute is free");
  const egress = estimateCost(attempts, "threads", withOverrides({ s3: { transferPerGb: 0.09 } }));
  assert.ok(Math.abs(egress.storage - c.storage - 6 * 0.09) < 1e-12, "6 GB moved");
});

test("price overrides: a partial JSON file laid over the dated table; bad ones refused with the field named", () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-prices-"));
  const file = join(dir, "p.json");
  writeFileSync(file, JSON.stringify({ lambda: { memoryMb: 1024 }, asOf: "2027-01-01" }));
  return readPriceFile(file).then(async (p) => {
    assert.equal(p.lambda.memoryMb, 1024);
    assert.equal(p.lambda.gbSecond, DEFAULT_PRICES.lambda.gbSecond);
    assert.equal(p.asOf, "2027-01-01");
    assert.match(DEFAULT_PRICES.asOf, /^\d{4}-\d{2}/, "the built-in table is dated");
    assert.ok(DEFAULT_PRICES.sources.every((s) => s.startsWith("https://aws.amazon.com/")));
    assert.throws(() => withOverrides({ lambda: { gbSecnd: 1 } }), /lambda: Unrecognized key.*gbSecnd|gbSecnd/);
    assert.throws(() => withOverrides({ s3: { getPerThousand: -1 } }), /s3\.getPerThousand/);
    writeFileSync(file, "{not json");
    await assert.rejects(readPriceFile(file), /\[smelter\] the price file .* is not JSON/);
    await assert.rejects(readPriceFile(join(dir, "missing.json")), /\[smelter\] cannot read the price file/);
  });
});

test("the cost line names this run's cost, the other places and the share spent on retries and speculation", () => {
  const { events } = generatedJob(50, 3);
  const r = buildJobReport(fromJsonValues(events), { backend: "threads" });
  const line = costLine(r.cost);
  assert.match(line, /^\[smelter\] cost: \$[\d.e-]+ \(compute \$0 on threads; storage \$[\d.e-]+: 1\d\d GET, \d+ PUT\); on Lambda 2048 MB \$[\d.e-]+, Fargate \$[\d.]+ \(Spot \$[\d.e-]+\); \d+% of compute/);
  assert.equal(usd(0), "$0");
  assert.equal(usd(12.345), "$12.35");
  assert.equal(usd(0.0042), "$0.0042");
  assert.equal(usd(6.04e-7), "$0.0000006", "no exponents");
  assert.equal(usd(0.5), "$0.5");
});
