/**
 * The job report in a real browser: real jobs on the threads backend (a forced retry, a
 * straggler duplicated by speculation, a job that fails for good) write their events with the
 * CLI's writer, `smelter report` builds the page, and headless Chromium (Debian's package,
 * installed by scripts/install-browser.sh when missing) driven by playwright-core opens it from
 * disk. The test checks what the page shows against the events and keeps screenshots under
 * test-artifacts/report/.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { threadsBackend } from "../../src/backends/index.js";
import type { SmelterEvent } from "../../src/job/events.js";
import { startLiveUi, type LiveUi } from "../../src/cli/live-ui.js";
import { writeEventsFile } from "../../src/cli/progress.js";
import { Manager } from "../../src/scheduler/manager.js";

const root = new URL("../../../", import.meta.url);
const bin = new URL("bin/smelter.js", root).pathname;
const entry = new URL("../fixtures/scheduler-workers.js", import.meta.url);
const artifacts = new URL("test-artifacts/report/", root).pathname;
const CHROMIUM = "/usr/bin/chromium";
// What page.evaluate's functions see in the browser (the project compiles without the DOM library).
declare const window: any;
declare const document: any;

/** Installs Debian's chromium with the project's script when it is missing (apt-get; bounded in time). */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const r = spawnSync("bash", [new URL("scripts/install-browser.sh", root).pathname], { encoding: "utf8", timeout: 600_000 });
  assert.ok(existsSync(CHROMIUM), `chromium could not be installed by scripts/install-browser.sh (exit ${r.status}): ${r.stderr}${r.stdout}`);
}

type Ev<T extends SmelterEvent["type"]> = Extract<SmelterEvent, { type: T }>;
const ofType = <T extends SmelterEvent["type"]>(events: SmelterEvent[], type: T) => events.filter((e): e is Ev<T> => e.type === type);

/** Runs `body` as a job on 3 worker threads, writing its events to `file` with the CLI's writer. */
async function runJob(file: string, body: (job: ReturnType<Manager["job"]>) => Promise<void>): Promise<SmelterEvent[]> {
  const manager = new Manager({ backend: threadsBackend({ entry, workers: 3 }) });
  const events: SmelterEvent[] = [];
  try {
    const job = manager.job({ name: "report-browser", policy: { retry: { initialInterval: 10 }, speculation: { afterPercent: 75 } } });
    job.events.on((e) => events.push(e));
    const written = writeEventsFile(job, file);
    await body(job).catch(() => undefined);
    await job.wait().catch(() => undefined);
    await written;
  } finally {
    await manager.close();
  }
  return events;
}

function buildReport(events: string): string {
  const out = events.replace(/\.jsonl$/, ".html");
  const r = spawnSync(process.execPath, [bin, "report", events, "--output", out], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

describe("the job report in Chromium", () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), "smelter-browser-"));
  before(async () => {
    ensureChromium();
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 60_000,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  after(async () => {
    await browser?.close();
  });

  async function open(file: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const requests: string[] = [];
    page.on("request", (r) => r.url().startsWith("file:") || requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    assert.deepEqual(requests, [], "the page loads nothing from the network");
    return { page, errors };
  }

  const cell = (page: Page, stage: string, key: string) => page.locator(`#stages tr[data-stage="${stage}"] td[data-k="${key}"]`).getAttribute("data-v");

  test("a job with a retry and a speculated straggler: counts per stage, the winner, a failure's message on hover", async () => {
    const file = join(dir, "ok.jsonl");
    const events = await runJob(file, async (job) => {
      const map = job.stage<{ n: number; straggler?: boolean }, { n: number }>({ worker: "sched.straggler", name: "map" });
      const flaky = job.stage<number, number>({ worker: "sched.flakyOnce", name: "double" });
      void map.pushAll([{ n: 0 }, { n: 1 }, { n: 2, straggler: true }, { n: 3 }]);
      void flaky.pushAll([1, 2]);
      await Promise.all([map.collect(), flaky.collect()]);
    });
    assert.equal(ofType(events, "job-done")[0]?.status, "succeeded");
    const { page, errors } = await open(buildReport(file));

    assert.equal(await page.locator("#job-status").textContent(), "succeeded");
    const launched = ofType(events, "attempt-launched");
    for (const stage of ["map", "double"]) {
      const mine = launched.filter((e) => e.stageName === stage);
      assert.equal(Number(await cell(page, stage, "attempts")), mine.length, `${stage}: attempts`);
      assert.equal(Number(await cell(page, stage, "retries")), mine.filter((e) => e.cause === "retry").length, `${stage}: retries`);
      assert.equal(Number(await cell(page, stage, "speculative")), mine.filter((e) => e.cause === "speculation").length, `${stage}: duplicates`);
      assert.equal(Number(await cell(page, stage, "tasks")), ofType(events, "task-queued").filter((e) => e.stageName === stage).length, `${stage}: tasks`);
    }
    assert.equal(Number(await cell(page, "double", "retries")), 2, "both flaky tasks were retried");
    assert.equal(await page.locator("#job-attempts").textContent(), String(launched.length));

    // The straggler's duplicate won: the page names the winner the events name.
    const duplicate = ofType(events, "speculation-launched")[0];
    assert.ok(duplicate, "the straggler was duplicated");
    const winner = ofType(events, "attempt-succeeded").find((e) => e.won && e.taskId === duplicate.taskId)!;
    assert.equal(winner.attemptId, duplicate.attemptId, "the duplicate won (the original hangs)");
    assert.equal(await page.locator(`#speculation tr[data-task="${duplicate.taskId}"] td[data-k="winner"]`).textContent(), winner.attemptId);

    // Every failed attempt's error is listed, and shows on hover over its bar in the timeline.
    const failed = ofType(events, "attempt-failed");
    assert.equal(failed.length, 2);
    for (const f of failed) assert.match((await page.locator("#attempt-errors").textContent()) ?? "", new RegExp(`flaky ${f.attemptId}`));
    const drawn = await page.evaluate(() => (window as unknown as { smelterReport: { timeline: { getOption(): { series: { data: unknown[] }[] } } } }).smelterReport.timeline.getOption().series[0]!.data.length);
    assert.equal(drawn, launched.length, "one bar per attempt");
    const target = failed[0]!;
    // Zoom in on the attempt as a person would (bars of a few ms are a few pixels wide in a whole job), then hover it.
    const point = await page.evaluate((id) => {
      const r = (window as unknown as { smelterReport: { timeline: { convertToPixel(f: unknown, v: number[]): number[]; dispatchAction(a: unknown): void }; attempts: { id: string; lane: number; launched: number; running: number | null; ended: number }[] } }).smelterReport;
      const a = r.attempts.find((x) => x.id === id)!;
      const runFrom = (a.running ?? a.launched) / 1000;
      const span = Math.max(a.ended / 1000 - runFrom, 0.001);
      r.timeline.dispatchAction({ type: "dataZoom", dataZoomIndex: 0, startValue: runFrom - span / 2, endValue: runFrom + span * 1.5 });
      const [from, y] = r.timeline.convertToPixel({ seriesIndex: 0 }, [(a.running ?? a.launched) / 1000, a.lane]);
      const [to] = r.timeline.convertToPixel({ seriesIndex: 0 }, [a.ended / 1000, a.lane]);
      const box = document.getElementById("timeline")!.getBoundingClientRect();
      return { x: box.left + from! + Math.max(to! - from!, 3) / 2, y: box.top + y! + window.scrollY };
    }, target.attemptId);
    await page.locator("#timeline").scrollIntoViewIfNeeded();
    const scroll = await page.evaluate(() => window.scrollY);
    await page.mouse.move(point.x, point.y - scroll);
    const shown = await page
      .waitForFunction((text) => [...document.querySelectorAll("#timeline div")].some((d: unknown) => (d as { innerText: string }).innerText.includes(text)), `flaky ${target.attemptId}`, { timeout: 10_000 })
      .then(() => true, () => false);
    await page.screenshot({ path: join(artifacts, "report-hover.png") });
    assert.ok(shown, `hovering ${target.attemptId}'s bar shows its error (see test-artifacts/report/report-hover.png)`);
    await page.screenshot({ path: join(artifacts, "report-ok.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a job that fails for good: what failed, every attempt's error, the cancelled attempts", async () => {
    const file = join(dir, "failed.jsonl");
    const events = await runJob(file, async (job) => {
      const stage = job.stage({ worker: "sched.hangOrFail", name: "work" });
      void stage.pushAll([{}, { fail: true }, {}]);
      await stage.collect();
    });
    const done = ofType(events, "job-done")[0]!;
    assert.equal(done.status, "failed");
    const { page, errors } = await open(buildReport(file));
    assert.equal(await page.locator("#job-status").textContent(), "failed");
    assert.match((await page.locator("#job-error").textContent()) ?? "", /this input can never work/);
    const failedTask = ofType(events, "task-failed")[0]!;
    assert.equal(await page.locator('#failed-tasks td[data-k="task"]').first().textContent(), failedTask.taskId);
    const cancelled = ofType(events, "attempt-cancelled");
    assert.ok(cancelled.length >= 1, "the hanging attempts were cancelled");
    assert.equal(Number(await cell(page, "work", "cancelledAttempts")), cancelled.length);
    assert.equal(Number(await cell(page, "work", "failedAttempts")), ofType(events, "attempt-failed").length);
    await page.screenshot({ path: join(artifacts, "report-failed.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
    assert.ok(readFileSync(join(artifacts, "report-failed.png")).length > 10_000);
  });
  test("--ui: the live page during a real job, then its end: progress, timeline, the winner, failures, log tail", async () => {
    const gateFile = join(dir, "gate-open");
    const manager = new Manager({ backend: threadsBackend({ entry: new URL("../fixtures/live-workers.js", import.meta.url), workers: 3 }) });
    const events: SmelterEvent[] = [];
    let ui: LiveUi | undefined;
    try {
      const job = manager.job({ name: "live", policy: { retry: { initialInterval: 10 }, speculation: { afterPercent: 75 } } });
      job.events.on((e) => events.push(e));
      ui = await startLiveUi(job, { backend: "threads" });
      assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
      const wrong = await fetch(ui.url.replace(/token=.*/, "token=nope"));
      assert.equal(wrong.status, 403, "the token is required");
      const gates = job.stage<{ path: string; n: number }, number>({ worker: "live.gate", name: "gate" });
      const map = job.stage<{ n: number; straggler?: boolean }, { n: number }>({ worker: "sched.straggler", name: "map" });
      const flaky = job.stage<number, number>({ worker: "sched.flakyOnce", name: "double" });
      void gates.pushAll([{ path: gateFile, n: 0 }, { path: gateFile, n: 1 }]);
      void map.pushAll([{ n: 0 }, { n: 1 }, { n: 2, straggler: true }, { n: 3 }]);
      void flaky.pushAll([1, 2]);
      const results = Promise.all([gates.collect(), map.collect(), flaky.collect()]).then(() => job.wait());
      results.catch(() => undefined);

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(ui.url);
      // While the gate is closed the job is running: the page shows it, with the gate tasks running and their log lines.
      await page.waitForFunction(() => Number(document.querySelector('#stages tr[data-stage="gate"] td[data-k="running"]')?.textContent) >= 1, undefined, { timeout: 30_000 });
      assert.equal(await page.locator("#job-status").textContent(), "running");
      await page.waitForFunction(() => (document.getElementById("logs")?.textContent ?? "").includes("waiting for the gate"), undefined, { timeout: 30_000 });
      await page.screenshot({ path: join(artifacts, "live-running.png"), fullPage: true });
      const pollsBefore = await page.evaluate(() => window.smelterLive.polls as number);

      writeFileSync(gateFile, "open");
      await results;
      await page.waitForSelector("body[data-done=true]", { timeout: 30_000 });
      assert.ok((await page.evaluate(() => window.smelterLive.polls as number)) > pollsBefore, "the page kept updating");
      assert.equal(await page.locator("#job-status").textContent(), "succeeded");
      const launched = ofType(events, "attempt-launched");
      for (const stage of ["gate", "map", "double"]) {
        const row = (k: string) => page.locator(`#stages tr[data-stage="${stage}"] td[data-k="${k}"]`).textContent();
        const mine = launched.filter((e) => e.stageName === stage);
        assert.equal(Number(await row("attempts")), mine.length, `${stage}: attempts`);
        assert.equal(Number(await row("retries")), mine.filter((e) => e.cause === "retry").length, `${stage}: retries`);
        assert.equal(Number(await row("succeeded")), ofType(events, "task-succeeded").filter((e) => e.stageName === stage).length, `${stage}: done`);
      }
      const duplicate = ofType(events, "speculation-launched")[0]!;
      const winner = ofType(events, "attempt-succeeded").find((e) => e.won && e.taskId === duplicate.taskId)!;
      const shown = await page.evaluate((task) => (window.smelterLive.attempts as { task: string; id: string; outcome: string }[]).filter((a) => a.task === task).map((a) => [a.id, a.outcome]), duplicate.taskId);
      assert.deepEqual(Object.fromEntries(shown)[winner.attemptId], "won", "the timeline shows the duplicate that won");
      assert.equal(shown.length, launched.filter((e) => e.taskId === duplicate.taskId).length);
      for (const f of ofType(events, "attempt-failed")) assert.match((await page.locator("#failures").textContent()) ?? "", new RegExp(`flaky ${f.attemptId}`));
      assert.match((await page.locator("#logs").textContent()) ?? "", /task 1 through the gate/);
      assert.match((await page.locator("#cost").textContent()) ?? "", /^cost: \$/);
      await page.screenshot({ path: join(artifacts, "live-done.png"), fullPage: true });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await ui?.stop(0);
      await manager.close();
    }
  });
});
