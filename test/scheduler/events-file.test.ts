/** Events that rebuild a job: the versioned events file gives the same stats and attempts table as the live job. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TaskEnvelope } from "../../src/backends/contract.js";
import { EVENTS_VERSION, parseEvents } from "../../src/job/event-schema.js";
import { AttemptLog } from "../../src/report/attempts.js";
import { readEventsFile, writeEventsFile } from "../../src/report/events-file.js";
import { JobStats } from "../../src/report/job-stats.js";
import { setup } from "../helpers/scheduler-setup.js";
import type { Script } from "../helpers/scripted-backend.js";

test("JobStats and the attempt log rebuilt from the events file alone equal the live ones", async () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-events-"));
  try {
    const script = (e: TaskEnvelope): Script =>
      e.task === 0 && e.attempt === 1 ? { runMs: 5_000, unkillable: true, counters: { bytesRead: 5 } }
        : e.task === 1 && e.attempt === 1 ? { runMs: 30, error: { message: "flaky" }, counters: { bytesRead: 11, readRequests: 2 } }
          : e.task === 2 && e.attempt === 1 ? { noCapacity: "429" }
            : e.task === 3 && e.attempt === 1 ? { runMs: 2_000, killDelayMs: 40, counters: { bytesWritten: 8 } }
              : { runMs: 100, heartbeatEveryMs: 30, counters: { bytesRead: 100, readRequests: 1, bytesWritten: 10, writeRequests: 1 } };
    const { clock, job } = setup(script, { seed: 9 });
    const live = { stats: new JobStats(job), attempts: new AttemptLog(job) };
    const path = join(dir, "events.jsonl");
    const written = writeEventsFile(job, path);
    const stage = job.stage({ worker: "w", policy: { speculation: { lastTasks: 2 }, retry: { initialInterval: 10 }, capacity: { initialInterval: 20 } } });
    const second = job.stage({ worker: "v", after: [stage] });
    const late: string[] = [];
    job.events.on((e) => late.push(e.type)); // subscribes after the job and its stages started
    void stage.pushAll([0, 1, 2, 3, 4]);
    void second.pushAll([0, 1]);
    await clock.run(job.wait());
    await written;

    const events = await readEventsFile(path);
    assert.deepEqual(events.slice(0, 1).map((e) => [e.type, e.type === "job-started" ? e.backend : undefined]), [["job-started", "scripted"]], "a listener attached after the job started still gets job-started, naming the backend");
    assert.equal(events.filter((e) => e.type === "stage-started").length, 2);
    assert.deepEqual(late.slice(0, 3), ["job-started", "stage-started", "stage-started"], "a late listener gets the job's shape first");
    const types = new Set(events.map((e) => e.type));
    for (const t of ["attempt-no-capacity", "attempt-abandoned", "kill-requested", "kill-confirmed", "retry-scheduled", "speculation-launched", "heartbeat", "job-done"]) {
      assert.ok(types.has(t as never), `the file holds ${t}`);
    }
    const rebuilt = { stats: JobStats.fromEvents(events), attempts: AttemptLog.fromEvents(events) };
    assert.deepEqual(rebuilt.stats.totals(), live.stats.totals());
    assert.deepEqual(rebuilt.attempts.rows(), live.attempts.rows());
    const rows = rebuilt.attempts.rows();
    assert.ok(rows.some((r) => r.status === "abandoned" && r.kill_requested_at && r.kill_ended_at));
    assert.ok(rows.some((r) => r.status === "no-capacity"));
    assert.ok(rows.some((r) => r.status === "failed" && r.bytes_read === 11 && r.read_requests === 2), "byte and request counters on a failed attempt");
    assert.ok(rows.filter((r) => r.status === "cancelled").every((r) => r.kill_ended_at && r.wall_ms !== null), "cancelled attempts carry stats once their kill is confirmed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an events file is versioned and validated: bad lines and newer versions are refused with a clear message", () => {
  assert.throws(() => parseEvents('{"type":"job-started"}\n', "x.jsonl"), /not a Smelter events file/);
  assert.throws(() => parseEvents(`{"format":"smelter-events","version":${EVENTS_VERSION + 1}}\n`, "x.jsonl"), /upgrade Smelter/);
  const header = `{"format":"smelter-events","version":${EVENTS_VERSION}}`;
  assert.throws(() => parseEvents(`${header}\n{"type":"attempt-failed","time":1,"jobId":"j1"}\n`, "x.jsonl"), /x\.jsonl line 2 is not a valid event/);
  assert.deepEqual(parseEvents(`${header}\n{"type":"job-started","time":1,"jobId":"j1","name":"n"}\n`), [{ type: "job-started", time: 1, jobId: "j1", name: "n" }]);
});
