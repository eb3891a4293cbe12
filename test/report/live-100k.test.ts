/**
 * The live page at 100,000 tasks: a synthetic 100,000-task job (test/helpers/synthetic-job.ts:
 * retries, speculative duplicates, log lines) is replayed as fast as it goes through the real
 * live server (src/cli/live-ui.ts) while headless Chromium watches the page. At the end the page
 * must show the exact counts, the downsampled timeline the server says it keeps, the failures and
 * the cost. Not timed: `npm run bench live-ui` measures speed, memory and bytes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { startLiveUi, type LiveUi } from "../../src/cli/live-ui.js";
import { MAX_FINISHED_BARS } from "../../src/report/live-state.js";
import { expectedCounts, SyntheticJob } from "../helpers/synthetic-job.js";

const root = new URL("../../../", import.meta.url);
const artifacts = new URL("test-artifacts/report/", root).pathname;
const CHROMIUM = "/usr/bin/chromium";
declare const window: any;
declare const document: any;

let browser: Browser;
before(async () => {
  if (!existsSync(CHROMIUM)) spawnSync("bash", [new URL("scripts/install-browser.sh", root).pathname], { timeout: 600_000 });
  assert.ok(existsSync(CHROMIUM), "chromium could not be installed by scripts/install-browser.sh");
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 60_000, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
});
after(async () => {
  await browser?.close();
});

test("--ui with 100,000 tasks: exact counts, a bounded timeline, failures and cost", { timeout: 300_000 }, async () => {
  const options = { tasks: 100_000, concurrency: 64, retryEvery: 997, speculateEvery: 5003, logEvery: 5000 };
  const expected = expectedCounts(options);
  const job = new SyntheticJob(options);
  let ui: LiveUi | undefined;
  try {
    ui = await startLiveUi(job, { backend: "lambda" });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(ui.url);
    const replayed = job.replay(2000, 0);
    await page.waitForFunction(() => Number(document.querySelector('#stages tr[data-stage="map"] td[data-k="succeeded"]')?.textContent) > 0, undefined, { timeout: 120_000 });
    await replayed;
    await page.waitForSelector("body[data-done=true]", { timeout: 120_000 });
    const cell = async (k: string) => (await page.locator(`#stages tr[data-stage="map"] td[data-k="${k}"]`).textContent()) ?? "";
    assert.equal(await page.locator("#job-status").textContent(), "succeeded");
    assert.equal(Number(await cell("tasks")), expected.tasks);
    assert.equal(Number(await cell("succeeded")), expected.tasks);
    assert.equal(Number(await cell("failed")), 0);
    assert.equal(Number(await cell("running")), 0);
    assert.equal(Number(await cell("attempts")), expected.attempts);
    assert.equal(Number(await cell("retries")), expected.retries);
    assert.equal(await cell("speculative"), `${expected.speculative} (${expected.speculativeWon} won)`);
    // The timeline: what the server keeps, downsampled, and the page holds the same bars.
    const shown = await page.evaluate(() => ({ last: window.smelterLive.last, bars: window.smelterLive.attempts.length, failed: window.smelterLive.attempts.filter((a: { outcome: string }) => a.outcome === "failed").length, won: window.smelterLive.attempts.filter((a: { cause: string; outcome: string }) => a.cause === "speculation" && a.outcome === "won").length }));
    assert.equal(shown.last.finished, expected.attempts, "every attempt ended");
    assert.equal(shown.bars, shown.last.shown, "the page holds the bars the server keeps");
    assert.ok(shown.bars <= MAX_FINISHED_BARS + 1000 && shown.bars > MAX_FINISHED_BARS / 2, `${shown.bars} bars`);
    assert.ok(shown.last.stride >= 16, `stride ${shown.last.stride}`);
    assert.equal(shown.failed, expected.failedAttempts, "every failed attempt is on the timeline");
    assert.equal(shown.won, expected.speculativeWon, "every speculative winner is on the timeline");
    assert.match((await page.locator("#shown").textContent()) ?? "", new RegExp(`of ${expected.attempts.toLocaleString("en-US")} finished attempts`));
    assert.equal(await page.locator("#failures li").count(), 100, "the last 100 failures");
    assert.match((await page.locator("#failures").textContent()) ?? "", new RegExp(`synthetic failure of task ${Math.floor((options.tasks - 1) / options.retryEvery) * options.retryEvery}\\b`));
    assert.match((await page.locator("#logs").textContent()) ?? "", /task 95000 read 64 KiB/);
    assert.match((await page.locator("#cost").textContent()) ?? "", new RegExp(`^cost: \\$[0-9.]+ \\(compute \\$[0-9.]+ on lambda.*${(expected.attempts - expected.speculative).toLocaleString("en-US")} GET`));
    await page.screenshot({ path: join(artifacts, "live-100k.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await ui?.stop(0);
  }
});
