/**
 * Traces over OTLP: a real `smelter sql` job on the processes backend exports its trace to a local
 * OTLP/HTTP receiver (test/observability/otlp-receiver.ts), and the span tree is checked against
 * the job's events file: one job span; its stages as children; one attempt span per
 * `attempt-launched` with the attempt's id, number and outcome; the storage calls the worker
 * processes recorded as children of their attempt, in the same trace. An endpoint that refuses
 * connections, or accepts and never answers, does not fail the job and is reported once.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import type { SmelterEvent } from "../../src/job/events.js";
import { parseEvents } from "../../src/job/event-schema.js";
import { closedPort, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const SQL = "SELECT k, sum(v) AS total, count(*) AS n FROM t GROUP BY k ORDER BY k";
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));

type Ev<T extends SmelterEvent["type"]> = Extract<SmelterEvent, { type: T }>;
const ofType = <T extends SmelterEvent["type"]>(events: SmelterEvent[], type: T) => events.filter((e): e is Ev<T> => e.type === type);

describe("traces over OTLP/HTTP", () => {
  let dir: string;
  const receivers: OtlpReceiver[] = [];
  let EXPECTED = "";
  before(() => {
    const sums = [0, 0, 0];
    dir = mkdtempSync(join(tmpdir(), "smelter-otlp-"));
    mkdirSync(join(dir, "t"));
    for (let f = 0; f < 3; f++) {
      const rows = Array.from({ length: 60 }, (_, i) => {
        const v = f * 10 + (i % 7) + 10;
        sums[i % 3]! += v;
        return `k${i % 3},${v}`;
      });
      writeFileSync(join(dir, "t", `part-${f}.csv`), `k,v\n${rows.join("\n")}\n`);
    }
    EXPECTED = `k,total,n\n${sums.map((t, k) => `k${k},${t},60`).join("\n")}\n`;
  });
  after(async () => {
    for (const r of receivers) await r.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const run = async (extra: string[], env: NodeJS.ProcessEnv = cleanEnv) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, "sql", SQL, "--table", `t=${join(dir, "t")}/`, "--partitions", "2", "--task-bytes", "4096", "--backend", "processes", "--workers", "2", "--format", "csv", ...extra], { encoding: "utf8", timeout: 90_000, env });
      return { status: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { status: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };

  test("a sql job's trace: job, stages, one span per attempt, storage calls from the worker processes", async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const eventsFile = join(dir, "job.jsonl");
    const r = await run(["--otlp", receiver.url, "--events", eventsFile, "--quiet"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
    assert.doesNotMatch(r.stderr, /warning/);
    const events = parseEvents(readFileSync(eventsFile, "utf8"));
    const spans = receiver.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    assert.equal(byId.size, spans.length, "span ids are unique");
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, "one trace");
    assert.ok(spans.every((s) => s.service === "smelter"));

    const roots = spans.filter((s) => !s.parentSpanId);
    assert.equal(roots.length, 1);
    const job = roots[0]!;
    assert.match(job.name, /^job /);
    assert.equal(job.attributes["smelter.job.id"], events[0]!.jobId);
    assert.equal(job.attributes["smelter.job.status"], "succeeded");
    assert.equal(job.status.code, 1); // OK

    const stageNumbers = [...new Set(ofType(events, "attempt-launched").map((e) => e.stage))].sort();
    assert.ok(stageNumbers.length >= 2, "the query has a scan and a final stage");
    const stages = spans.filter((s) => s.name.startsWith("stage "));
    assert.deepEqual(stages.map((s) => s.attributes["smelter.stage"]).sort(), stageNumbers);
    for (const s of stages) assert.equal(s.parentSpanId, job.spanId, `${s.name} is a child of the job`);

    const launched = ofType(events, "attempt-launched");
    const attempts = spans.filter((s) => s.name.startsWith("attempt "));
    assert.equal(attempts.length, launched.length, "one attempt span per attempt-launched event");
    for (const e of launched) {
      const span = attempts.find((s) => s.attributes["smelter.attempt.id"] === e.attemptId);
      assert.ok(span, `a span for ${e.attemptId}`);
      const stage = stages.find((s) => s.attributes["smelter.stage"] === e.stage)!;
      assert.equal(span.parentSpanId, stage.spanId, `${e.attemptId} is a child of its stage`);
      assert.equal(span.attributes["smelter.task.id"], e.taskId);
      assert.equal(span.attributes["smelter.attempt.number"], Number(e.attemptId.split("-a").pop()));
      assert.equal(span.attributes["smelter.backend"], "processes");
      assert.equal(span.attributes["smelter.attempt.speculative"], e.cause === "speculation");
      const ending = events.find((x) => "attemptId" in x && x.attemptId === e.attemptId && (x.type === "attempt-succeeded" || x.type === "attempt-failed" || x.type === "attempt-cancelled"));
      const outcome = ending?.type === "attempt-succeeded" ? (ending.won ? "won" : "lost") : ending?.type === "attempt-failed" ? "failed" : "cancelled";
      assert.equal(span.attributes["smelter.attempt.outcome"], outcome);
      const running = ofType(events, "attempt-running").find((x) => x.attemptId === e.attemptId);
      assert.equal(span.attributes["smelter.runtime.id"], running?.runtimeId);
      assert.ok(running?.runtimeId.startsWith("pid-"));
      assert.ok(span.events.includes("running"));
      assert.ok(Math.abs(span.startMs - e.time) < 0.01, "starts at its launch");
      if (ending?.type === "attempt-succeeded") {
        assert.ok(Math.abs(span.endMs - ending.time) < 0.01, "ends at its ending");
        assert.equal(span.attributes["smelter.bytes_read"], ending.stats.counters.bytesRead ?? 0);
        assert.equal(span.attributes["smelter.read_requests"], ending.stats.counters.readRequests ?? 0);
      }
    }

    // Storage calls: recorded in the worker processes (their pids), children of their attempt, same trace.
    const storage = spans.filter((s) => s.name.startsWith("storage "));
    assert.ok(storage.length > 0, "storage spans exported");
    for (const s of storage) {
      const parent = byId.get(s.parentSpanId ?? "");
      assert.ok(parent && parent.name.startsWith("attempt "), `${s.name} ${s.attributes["smelter.storage.key"]} is a child of an attempt span`);
      assert.equal(s.attributes["smelter.attempt.id"], parent.attributes["smelter.attempt.id"]);
      assert.match(s.name, /^storage (get|put|head|delete|list|getStream|putStream)$/);
      assert.ok(s.startMs >= parent.startMs - 1000 && s.endMs <= parent.endMs + 1000, "inside its attempt (clocks of one machine)");
    }
    const succeeded = ofType(events, "attempt-succeeded");
    const workerPids = new Set(succeeded.map((e) => e.stats.pid));
    assert.ok(![...workerPids].includes(process.pid));
    const recorded = succeeded.flatMap((e) => (e.stats.spans ?? []).map((s) => ({ ...s, attemptId: e.attemptId })));
    assert.deepEqual(recorded.map((s) => s.spanId).sort(), storage.map((s) => s.spanId).sort(), "the spans the workers shipped back with their stats are the ones exported");
    // Every input file was read by a stage-1 attempt, with its size in bytes.
    for (let f = 0; f < 3; f++) {
      const reads = storage.filter((s) => s.name === "storage get" && String(s.attributes["smelter.storage.key"]).endsWith(`part-${f}.csv`));
      assert.ok(reads.length >= 1, `part-${f}.csv was read`);
      assert.equal(reads[0]!.attributes["smelter.storage.bytes"], statSync(join(dir, "t", `part-${f}.csv`)).size);
      assert.equal(byId.get(reads[0]!.parentSpanId!)!.attributes["smelter.stage"], 1);
    }
  });

  test("smelter report --otlp: the same trace rebuilt from the events file", async () => {
    const live = receivers[0]!;
    const rebuilt = await startOtlpReceiver();
    receivers.push(rebuilt);
    const eventsFile = join(dir, "job.jsonl");
    const r = await promisify(execFile)(process.execPath, [bin, "report", eventsFile, "--output", join(dir, "job.html"), "--otlp", rebuilt.url], { encoding: "utf8", timeout: 60_000, env: cleanEnv });
    assert.match(r.stderr, /exported the job's trace \(\d+ spans, trace id [0-9a-f]{32}\)/);
    // The events file starts after job-started (its writer attaches to a job already made), so the rebuilt job span is named by the job's id.
    const shape = (spans: ReceivedSpan[]) => spans.map((s) => `${s.parentSpanId ? s.name : "job"} ${s.attributes["smelter.attempt.id"] ?? s.attributes["smelter.stage"] ?? ""} ${s.attributes["smelter.attempt.outcome"] ?? ""} ${s.status.code ?? 0}`).sort();
    assert.deepEqual(shape(rebuilt.spans), shape(live.spans));
    assert.equal(new Set(rebuilt.spans.map((s) => s.traceId)).size, 1);
    assert.notEqual(rebuilt.spans[0]!.traceId, live.spans[0]!.traceId, "a trace of its own, derived from the events");
    const storage = rebuilt.spans.filter((s) => s.name.startsWith("storage "));
    const attemptIds = new Set(rebuilt.spans.filter((s) => s.name.startsWith("attempt ")).map((s) => s.spanId));
    assert.ok(storage.length > 0 && storage.every((s) => attemptIds.has(s.parentSpanId ?? "")));
  });

  test("the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME, without --otlp", async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const r = await run(["--quiet"], { ...cleanEnv, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "nightly-etl" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
    assert.equal(receiver.spans.filter((s) => !s.parentSpanId).length, 1);
    assert.ok(receiver.spans.every((s) => s.service === "nightly-etl"));
    const off = await startOtlpReceiver();
    receivers.push(off);
    const disabled = await run(["--quiet"], { ...cleanEnv, OTEL_EXPORTER_OTLP_ENDPOINT: off.url, OTEL_SDK_DISABLED: "true" });
    assert.equal(disabled.status, 0, disabled.stderr);
    assert.equal(off.requests, 0, "OTEL_SDK_DISABLED=true: nothing sent");
  });

  test("an endpoint that refuses connections: the job succeeds, one warning", async () => {
    const r = await run(["--otlp", `http://127.0.0.1:${await closedPort()}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("[smelter] warning:"));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /trace.*127\.0\.0\.1/);
  });

  test("an endpoint that never answers: the job succeeds, one warning, the command ends", async () => {
    const receiver = await startOtlpReceiver("hang");
    receivers.push(receiver);
    const r = await run(["--otlp", receiver.url]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED);
    assert.ok(receiver.requests >= 1);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("[smelter] warning:"));
    assert.equal(warnings.length, 1, r.stderr);
  });

  test("a bad --otlp is refused before the job runs", async () => {
    const r = await run(["--otlp", "ftp://collector:4318"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /\[smelter\] .*--otlp must be an http:\/\/ or https:\/\/ URL/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });
});
