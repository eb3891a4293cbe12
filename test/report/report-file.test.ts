/** Reading an events file, and the HTML view: self-contained, escaped, showing the model's numbers. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { eventsHeaderLine } from "../../src/job/event-schema.js";
import { readEventsFile } from "../../src/report/event-input.js";
import { loadEcharts, renderReportHtml } from "../../src/report/html.js";
import { buildJobReport } from "../../src/report/job-report.js";
import { attemptId, generatedJob, jobEvents } from "../helpers/report-events.js";

const dir = mkdtempSync(join(tmpdir(), "smelter-report-"));

test("events file: JSON lines in, unknown event types skipped and counted, bad lines named by number", async () => {
  const { events } = generatedJob(20, 2);
  const file = join(dir, "events.jsonl");
  const lines = [eventsHeaderLine(), ...events.map((e) => JSON.stringify(e))];
  lines.splice(3, 0, JSON.stringify({ type: "some-future-event", time: events[3]!.time, jobId: "x" }), "");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const input = await readEventsFile(file);
  assert.equal(input.events.length, events.length);
  assert.equal(input.unknown, 1);
  const report = buildJobReport(input);
  assert.equal(report.stages[0]!.tasks, 20);
  assert.equal(report.unknownEvents, 1);

  writeFileSync(file, `${lines[0]}\n{"type": "job-done", "time": 1, ` + "\n");
  await assert.rejects(readEventsFile(file), /\[smelter\] .*events\.jsonl line 2 is not JSON/);
  writeFileSync(file, `${lines[0]}\n{"type": "job-done"}\n`);
  await assert.rejects(readEventsFile(file), /line 2 is not a valid event: .*time/);
  writeFileSync(file, "\n");
  await assert.rejects(readEventsFile(file), /holds no events/);
  await assert.rejects(readEventsFile(join(dir, "nope.jsonl")), /\[smelter\] no events file at .*nope\.jsonl: write one with --events FILE/);
});

test("html: one file with ECharts inlined and no network reference; text escaped; tables carry the model's numbers", async () => {
  const events = jobEvents({
    end: 1_001_000,
    status: "failed",
    error: "task failed for good: <script>alert(1)</script>",
    stages: [1],
    tasks: { 1: 2 },
    attempts: [
      { stage: 1, task: 0, launched: 1_000_000, running: 1_000_010, ended: 1_000_300 },
      { stage: 1, task: 1, runtime: "thread-2", launched: 1_000_000, running: 1_000_010, ended: 1_000_500, outcome: "failed", retryable: false, message: "bad value <b>&</b>" },
    ],
  });
  const report = buildJobReport({ events, unknown: 0 });
  const html = renderReportHtml(report, await loadEcharts());
  assert.ok(html.length > 500_000, "the ECharts build is inside");
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import|url\(http/i, "nothing loaded from elsewhere");
  assert.doesNotMatch(html, /<script>alert/, "error text is escaped");
  assert.match(html, /bad value &lt;b&gt;&amp;&lt;\/b&gt;/);
  assert.match(html, /<span id="job-status" class="status bad">failed<\/span>/);
  assert.match(html, /<tr data-stage="map"><td data-k="name">map<\/td>.*?<td data-k="attempts" data-v="2">2<\/td>/);
  assert.match(html, new RegExp(`<td data-k="attempt">${attemptId(1, 1, 1)}</td>`));
  const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  assert.ok(data);
  const parsed = JSON.parse(data[1]!) as { attempts: { id: string; error?: string }[]; lanes: string[] };
  assert.equal(parsed.attempts.length, 2);
  assert.equal(parsed.attempts.find((a) => a.error)!.error, "Error: bad value <b>&</b>", "JSON in the page decodes to the original text");
  assert.deepEqual(parsed.lanes, ["thread-1", "thread-2"]);
});
