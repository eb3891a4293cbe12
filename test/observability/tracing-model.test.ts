/**
 * The tracing pieces without a collector: where traces go (flags and the standard OTEL_*
 * variables), the span model on a stream cut short, and that OpenTelemetry is loaded only by
 * src/observability/otlp-export.ts, through `import()`, and never by the scheduler.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { SmelterEvent } from "../../src/job/events.js";
import { emptyStats } from "../../src/job/stats.js";
import { taskEnvelopeSchema } from "../../src/job/attempt.js";
import { tracingConfig } from "../../src/observability/job-tracing.js";
import { TraceBuilder } from "../../src/observability/span-model.js";
import { newTraceId, parseTraceparent, spanIdFor } from "../../src/observability/trace-context.js";
import { systemContext } from "../../src/job/runtime-context.js";

const distSrc = new URL("../../src/", import.meta.url).pathname;

/** The compiled modules; not dist/src/bundle/, esbuild's build of the same modules (its chunks keep these imports lazy too: test/cli/startup.test.ts). */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? (join(dir, d.name) === join(distSrc, "bundle") ? [] : jsFiles(join(dir, d.name))) : d.name.endsWith(".js") ? [join(dir, d.name)] : []));
}

describe("tracing without a collector", () => {
  test("where traces go: --otlp, then OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then OTEL_EXPORTER_OTLP_ENDPOINT", () => {
    assert.equal(tracingConfig(undefined, {}), undefined);
    assert.equal(tracingConfig("http://127.0.0.1:4318", {})?.url, "http://127.0.0.1:4318/v1/traces");
    assert.equal(tracingConfig("http://collector:4318/v1/traces", {})?.url, "http://collector:4318/v1/traces");
    assert.equal(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example/base/" })?.url, "https://otel.example/base/v1/traces");
    assert.equal(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:9999/custom" })?.url, "http://b:9999/custom");
    assert.equal(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" }), undefined);
    assert.equal(tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_TRACES_EXPORTER: "none" }), undefined);
    assert.equal(tracingConfig("http://a:4318", { OTEL_SDK_DISABLED: "true" })?.url, "http://a:4318/v1/traces", "an explicit --otlp wins");
    assert.throws(() => tracingConfig("not a url", {}), /--otlp is not a URL/);
    assert.throws(() => tracingConfig(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://a:4317" }), /OTEL_EXPORTER_OTLP_ENDPOINT must be an http/);
  });

  test("the envelope's traceparent is validated", () => {
    const base = { attemptId: "j1-s01-t00000-a1", jobId: "j1", stage: 1, task: 0, attempt: 1, worker: "w", input: null };
    const traceId = newTraceId(systemContext().ids);
    const good = new TraceBuilder(traceId).traceparentFor(base.attemptId);
    assert.ok(taskEnvelopeSchema.safeParse({ ...base, traceparent: good }).success);
    assert.deepEqual(parseTraceparent(good), { traceId, spanId: spanIdFor(traceId, base.attemptId), sampled: true });
    for (const bad of ["00-xyz", `00-${"0".repeat(32)}-${"1".repeat(16)}-01`, `00-${"a".repeat(32)}-${"0".repeat(16)}-01`, `00-${"A".repeat(32)}-${"1".repeat(16)}-01`]) {
      const r = taskEnvelopeSchema.safeParse({ ...base, traceparent: bad });
      assert.equal(r.success, false, bad);
    }
  });

  test("a stream cut short: open spans end at finish(), unset, and the tree holds", () => {
    const b = new TraceBuilder(newTraceId(systemContext().ids), { backend: "threads" });
    const at = { jobId: "j1", stage: 1, stageName: "map" };
    const ev = (e: object) => e as SmelterEvent;
    const ended = [
      ev({ type: "stage-started", time: 1, worker: "w", ...at }),
      ev({ type: "attempt-launched", time: 2, taskId: "j1-s01-t00000", attemptId: "j1-s01-t00000-a1", runtimeId: "thread-1", cause: "initial", ...at }),
      ev({ type: "attempt-launched", time: 3, taskId: "j1-s01-t00001", attemptId: "j1-s01-t00001-a1", runtimeId: "thread-2", cause: "initial", ...at }),
      ev({ type: "attempt-failed", time: 5, taskId: "j1-s01-t00000", attemptId: "j1-s01-t00000-a1", error: { name: "Boom", message: "no", retryable: true }, retryable: true, stats: { ...emptyStats(2, 5), spans: [{ spanId: "00000000000000ab", name: "storage get", startedAt: 3, endedAt: 4, attributes: { "smelter.storage.key": "k" } }] }, ...at }),
    ].flatMap((e) => b.add(e));
    assert.deepEqual(ended.map((s) => s.name), ["storage get", "attempt map"]);
    const failed = ended[1]!;
    assert.equal(failed.status, "error");
    assert.equal(failed.message, "Boom: no");
    assert.equal(ended[0]!.parentSpanId, failed.spanId);
    const rest = b.finish(9);
    assert.deepEqual(rest.map((s) => [s.name, s.status, s.endMs]), [["attempt map", "unset", 9], ["stage map", "unset", 9], ["job j1", "unset", 9]]);
    assert.equal(rest[0]!.attributes["smelter.attempt.outcome"], "unfinished");
    assert.equal(rest[1]!.parentSpanId, b.jobSpanId);
  });

  test("OpenTelemetry is imported by otlp-export.js only, through import(), and never by the scheduler", () => {
    const files = jsFiles(distSrc);
    const importers = files.filter((f) => /from\s*"@opentelemetry|import\("@opentelemetry/.test(readFileSync(f, "utf8"))).map((f) => f.slice(distSrc.length));
    assert.deepEqual(importers, ["observability/otlp-export.js"]);
    const exporter = readFileSync(join(distSrc, "observability/otlp-export.js"), "utf8");
    assert.doesNotMatch(exporter, /^import\s[^(]*from\s*"@opentelemetry/m, "no static import of OpenTelemetry");
    const loaders = files.filter((f) => /otlp-export\.js/.test(readFileSync(f, "utf8")) && !f.endsWith("otlp-export.js")).map((f) => f.slice(distSrc.length));
    assert.deepEqual(loaders, ["observability/job-tracing.js"]);
    assert.doesNotMatch(readFileSync(join(distSrc, "observability/job-tracing.js"), "utf8"), /^import\s[^(]*otlp-export/m);
    for (const f of files.filter((f) => f.includes("/scheduler/"))) assert.doesNotMatch(readFileSync(f, "utf8"), /observability|@opentelemetry/, f);
  });
});
