/**
 * `npm run bench scheduler`: the scheduler alone.
 * - no-op tasks per second on the inline backend (median of 5 runs of 20,000 tasks);
 * - 100,000 no-op tasks in one job, with the manager's peak RSS;
 * - empty-task round trip on warm threads and processes (one worker, tasks one after another),
 *   and the cold first task (pool start included): 200 tasks each.
 * Targets (../shared/BENCH.md): >= 5,000 tasks/s; 100,000 tasks under 300 MB; round trip <= 150 ms.
 * Appends a JSON line to bench/results/scheduler.jsonl.
 *
 * Options: none (every size above is fixed).
 */
import { inlineBackend, processesBackend, threadsBackend } from "../src/backends/index.js";
import type { Backend } from "../src/backends/contract.js";
import { Manager } from "../src/scheduler/manager.js";
import { median, record } from "./_record.js";
import { benchArgs } from "./_args.js";
import "./_workers.js";

benchArgs(import.meta.url, "scheduler", {});
const entry = new URL("./_workers.js", import.meta.url);

async function runNoops(backend: Backend, tasks: number, concurrency?: number): Promise<{ seconds: number; peakRss: number }> {
  const manager = new Manager({ backend, ...(concurrency ? { maxConcurrentTasks: concurrency } : {}) });
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
  const t0 = performance.now();
  const job = manager.job({ name: "noop" });
  const stage = job.stage({ worker: "bench.noop" });
  void stage.pushAll((function* () {
    for (let i = 0; i < tasks; i++) yield i;
  })());
  let n = 0;
  for await (const _ of stage.results()) n++;
  await job.wait();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  await manager.close();
  if (n !== tasks) throw new Error(`expected ${tasks} results, got ${n}`);
  return { seconds, peakRss };
}

async function roundTrip(make: () => Backend, n: number): Promise<{ coldMs: number; warmMedianMs: number; warmP95Ms: number }> {
  const manager = new Manager({ backend: make(), maxConcurrentTasks: 1 });
  const job = manager.job({ name: "rt" });
  const stage = job.stage({ worker: "bench.noop" });
  const times: number[] = [];
  const it = stage.results()[Symbol.asyncIterator]();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    stage.push(i);
    await it.next();
    times.push(performance.now() - t0);
  }
  stage.close();
  await job.wait();
  await manager.close();
  const warm = times.slice(1).sort((a, b) => a - b);
  return { coldMs: times[0]!, warmMedianMs: median(warm), warmP95Ms: warm[Math.floor(warm.length * 0.95)]! };
}

const runs: number[] = [];
await runNoops(inlineBackend(), 2_000); // warm-up
for (let i = 0; i < 5; i++) {
  const { seconds } = await runNoops(inlineBackend(), 20_000);
  runs.push(20_000 / seconds);
}
global.gc?.();
const big = await runNoops(inlineBackend(), 100_000);
const threads = await roundTrip(() => threadsBackend({ entry, workers: 1 }), 200);
const processes = await roundTrip(() => processesBackend({ entry, workers: 1 }), 200);

const results = {
  inlineTasksPerSecond: { median: Math.round(median(runs)), runs: runs.map(Math.round), target: 5000 },
  hundredThousandTasks: { seconds: +big.seconds.toFixed(2), managerPeakRssMB: Math.round(big.peakRss / 2 ** 20), targetMB: 300 },
  roundTripMs: {
    threads: { cold: +threads.coldMs.toFixed(1), warmMedian: +threads.warmMedianMs.toFixed(2), warmP95: +threads.warmP95Ms.toFixed(2) },
    processes: { cold: +processes.coldMs.toFixed(1), warmMedian: +processes.warmMedianMs.toFixed(2), warmP95: +processes.warmP95Ms.toFixed(2) },
    target: 150,
  },
};
console.log(`inline no-op tasks/s      median ${results.inlineTasksPerSecond.median} (runs ${runs.map(Math.round).join(", ")}; target >= 5000)`);
console.log(`100,000 tasks             ${results.hundredThousandTasks.seconds}s, manager peak RSS ${results.hundredThousandTasks.managerPeakRssMB} MB (target < 300 MB)`);
console.log(`round trip, threads       cold ${results.roundTripMs.threads.cold} ms, warm median ${results.roundTripMs.threads.warmMedian} ms, p95 ${results.roundTripMs.threads.warmP95} ms`);
console.log(`round trip, processes     cold ${results.roundTripMs.processes.cold} ms, warm median ${results.roundTripMs.processes.warmMedian} ms, p95 ${results.roundTripMs.processes.warmP95} ms (target <= 150 ms)`);
console.log(`recorded in ${record("scheduler", results)}`);
