/**
 * `npm run bench live-ui [-- options]`: the live page (`--ui`) at 100,000 tasks.
 * A synthetic job (test/helpers/synthetic-job.ts: N tasks, 100,000 by default, on 64 slots,
 * retries, speculative duplicates, log lines) is replayed through the real live server over about
 * S seconds while headless Chromium (/usr/bin/chromium: `npm run setup:browser`) shows the page.
 * Measured: the page's first contentful paint, main-thread long tasks (> 50 ms) while the job runs,
 * its JS heap and DOM nodes at the end, the bytes of the state batches per second and their
 * latency; the server process's heap and RSS (peak, and growth over the replay). Appends to
 * bench/results/live-ui.jsonl.
 *
 * Options: --tasks N (100000) --seconds S (30: the replay's target length)
 */
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { startLiveUi } from "../src/cli/live-ui.js";
import { expectedCounts, SyntheticJob } from "../test/helpers/synthetic-job.js";
import { median, record } from "./_record.js";
import { badOption, benchArgs, intOption } from "./_args.js";

declare const window: any;
declare const document: any;
declare const performance: any;
declare const PerformanceObserver: any;

const args = benchArgs(import.meta.url, "live-ui", {
  tasks: { type: "string", default: "100000" },
  seconds: { type: "string", default: "30" },
});
const tasks = intOption("tasks", args.tasks);
const seconds = Number(args.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) badOption(`--seconds must be a positive number, got ${args.seconds}`);
const CHROMIUM = "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  console.error("[smelter] bench live-ui needs Chromium: run npm run setup:browser");
  process.exit(1);
}
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? 0;

const options = { tasks, concurrency: 64, retryEvery: 997, speculateEvery: 5003, logEvery: 1000 };
const job = new SyntheticJob(options);
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const ui = await startLiveUi(job, { backend: "lambda" });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--enable-precise-memory-info"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.addInitScript(() => {
    performance.setResourceTimingBufferSize(100_000);
    window.__long = [];
    new PerformanceObserver((l: any) => l.getEntries().forEach((e: any) => window.__long.push(e.duration))).observe({ type: "longtask", buffered: true });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await page.goto(ui.url);
  await page.waitForFunction(() => window.smelterLive.polls >= 1);
  const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);

  const estimatedEvents = tasks * 5.2;
  const perTick = Math.max(1, Math.ceil(estimatedEvents / (seconds * 100)));
  let serverHeapPeak = 0;
  let serverRssPeak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    serverHeapPeak = Math.max(serverHeapPeak, m.heapUsed);
    serverRssPeak = Math.max(serverRssPeak, m.rss);
  }, 250);
  const t0 = performance.now();
  const events = await job.replay(perTick, 10);
  const replaySeconds = (performance.now() - t0) / 1000;
  await page.waitForSelector("body[data-done=true]", { timeout: 120_000 });
  clearInterval(sampler);
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const pageFigures = await page.evaluate(() => {
    const polls = performance.getEntriesByType("resource").filter((e: any) => e.name.includes("/state?"));
    return {
      polls: polls.length,
      bytes: polls.reduce((s: number, e: any) => s + e.encodedBodySize, 0),
      maxBytes: Math.max(...polls.map((e: any) => e.encodedBodySize)),
      latencies: polls.map((e: any) => e.responseEnd - e.startTime),
      long: window.__long as number[],
      bars: window.smelterLive.attempts.length,
      draws: window.smelterLive.draws,
      stride: window.smelterLive.last.stride,
      shownDone: document.querySelector('#stages tr[data-stage="map"] td[data-k="succeeded"]')?.textContent,
    };
  });
  const metrics = Object.fromEntries(((await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
  const expected = expectedCounts(options);
  const results = {
    tasks,
    attempts: expected.attempts,
    events,
    replaySeconds: Math.round(replaySeconds * 10) / 10,
    eventsPerSecond: Math.round(events / replaySeconds),
    page: {
      firstContentfulPaintMs: Math.round(fcp),
      longTasks: pageFigures.long.length,
      longTasksTotalMs: Math.round(pageFigures.long.reduce((a, b) => a + b, 0)),
      longTaskMaxMs: Math.round(Math.max(0, ...pageFigures.long)),
      jsHeapMiB: mib(metrics.JSHeapUsedSize ?? 0),
      domNodes: metrics.Nodes,
      timelineBars: pageFigures.bars,
      timelineDraws: pageFigures.draws,
      stride: pageFigures.stride,
      shownSucceeded: Number(pageFigures.shownDone),
    },
    stream: {
      polls: pageFigures.polls,
      kibPerSecond: Math.round(pageFigures.bytes / 1024 / replaySeconds),
      largestBatchKiB: Math.round(pageFigures.maxBytes / 1024),
      pollLatencyMedianMs: Math.round(median(pageFigures.latencies)),
      pollLatencyP95Ms: Math.round(p95(pageFigures.latencies)),
    },
    server: { heapPeakMiB: mib(serverHeapPeak), rssPeakMiB: mib(serverRssPeak), heapGrowthMiB: mib(heapAfter - heapBefore) },
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(`recorded in ${record("live-ui", results)}`);
} finally {
  await browser.close();
  await ui.stop(0);
}
