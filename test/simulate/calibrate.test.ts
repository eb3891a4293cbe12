/**
 * The calibration's arithmetic (src/simulate/calibrate.ts): what a real run's timestamps and CPU
 * times give, and that a calibrated simulation of the processes backend reproduces the run it was
 * fitted to. The real runs themselves are `npm run bench calibrate` (timed; not a test).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { atSpeed, coordinatorScale, fitMachine, phases, type Calibration, type RunTimes } from "../../src/simulate/calibrate.js";
import { simulateQuery2 } from "../../src/simulate/query2.js";
import type { SmelterEvent } from "../../src/job/events.js";

// A run of 2 workers: set-up 500 ms, four tasks (two cold starts of 1 s, warm starts of 10 ms), the coordinator's 2 s.
const run: RunTimes = {
  t0: 0,
  t1: 9_500,
  attempts: [
    { stage: 1, launched: 500, running: 1_500, done: 4_500, cpuMs: 1_500 },
    { stage: 1, launched: 500, running: 1_500, done: 4_500, cpuMs: 1_500 },
    { stage: 1, launched: 4_500, running: 4_510, done: 7_510, cpuMs: 1_500 },
    { stage: 1, launched: 4_500, running: 4_510, done: 7_500, cpuMs: 1_500 },
  ],
};

test("a run's phases: set-up to the first launch, the tasks, the coordinator's tail", () => {
  assert.deepEqual(phases(run), { setup: 500, tasks: 7_010, coordinator: 1_990, wall: 9_500 });
});

test("fitMachine: CPU scale from CPU time, a core's share from CPU / body, starts from the launch gaps", () => {
  const m = fitMachine(run, 2, 3_000);
  assert.equal(m.cpuScale, 2); // 6 s of CPU where the model says 3
  assert.ok(Math.abs(m.coreShare - 6_000 / 11_990) < 1e-9);
  assert.equal(m.coldStart.medianMs, 1_000);
  assert.equal(m.warmStart.medianMs, 10);
  assert.equal(m.setupMs, 500);
  assert.throws(() => fitMachine({ ...run, attempts: [] }, 2, 1), /no finished attempt/);
});

test("fitMachine: a worker's first attempt's extra CPU (loading DuckDB) goes to the cold start, not to the CPU scale", () => {
  const firstCostly: RunTimes = { ...run, attempts: run.attempts.map((a, i) => (i < 2 ? { ...a, cpuMs: 2_100 } : a)) };
  const m = fitMachine(firstCostly, 2, 3_000);
  assert.equal(m.cpuScale, 2); // the later attempts: 1.5 s each where the model's mean task is 0.75 s
  const share = 7_200 / 11_990;
  assert.ok(Math.abs(m.coreShare - share) < 1e-9);
  assert.ok(Math.abs(m.coldStart.medianMs - (1_000 + 600 / share)) < 1e-6, String(m.coldStart.medianMs));
  // With no attempt after the first ones, the scale is all CPU / the model's.
  assert.equal(fitMachine({ ...firstCostly, attempts: firstCostly.attempts.slice(0, 2) }, 2, 1_500).cpuScale, 4_200 / 1_500);
});

test("atSpeed: a machine twice as free halves the wall-time parameters and doubles the share (at most a core)", () => {
  const c: Calibration = { cpuScale: 2, coreShare: 0.3, coldStart: { medianMs: 1_000, p99Ms: 2_000 }, warmStart: { medianMs: 10, p99Ms: 20 }, setupMs: 500, coordinatorScale: 4, probeShare: 0.25 };
  const f = atSpeed(c, 2);
  assert.equal(f.cpuScale, 2);
  assert.equal(f.coreShare, 0.6);
  assert.equal(f.coldStart.medianMs, 500);
  assert.equal(f.setupMs, 250);
  assert.equal(f.coordinatorScale, 2);
  assert.equal(f.probeShare, 0.5);
  assert.equal(atSpeed(c, 10).coreShare, 1);
});

test("a simulation calibrated on a run of its own reproduces it (processes backend)", async () => {
  // Simulate 1M rows with a known calibration, treat that as the "real" run, fit, simulate again.
  const truth: Calibration = { cpuScale: 1.5, coreShare: 0.4, coldStart: { medianMs: 800, p99Ms: 1_600 }, warmStart: { medianMs: 5, p99Ms: 10 }, setupMs: 300, coordinatorScale: 2, probeShare: 1 };
  const options = { platform: "processes" as const, workers: 2, memoryMb: 2048, speculation: false, hedging: true, inputBytes: 169e6, rows: 1e6, objects: 8, seed: 1 };
  const times = async (calibration: Calibration): Promise<{ seconds: number; times: RunTimes }> => {
    const attempts = new Map<string, RunTimes["attempts"][number]>();
    const onEvent = (e: SmelterEvent): void => {
      if (e.type === "attempt-launched") attempts.set(e.attemptId, { stage: e.stage, launched: e.time });
      else if (e.type === "attempt-running") attempts.get(e.attemptId)!.running = e.time;
      else if (e.type === "attempt-succeeded") attempts.get(e.attemptId)!.done = e.time;
    };
    const r = await simulateQuery2({ ...options, calibration, onEvent });
    assert.equal(r.failed, undefined);
    return { seconds: r.seconds!, times: { t0: r.startedAt, t1: r.startedAt + r.seconds! * 1000, attempts: [...attempts.values()] } };
  };
  const real = await times(truth);
  assert.ok(phases(real.times).setup >= 300, "the set-up is part of the simulated time");
  const machine = { ...truth, coreShare: 0.4, coordinatorScale: 1 };
  const unscaled = await times(machine);
  const fitted = coordinatorScale(real.times, unscaled.times);
  assert.ok(Math.abs(fitted - 2) < 0.05, `coordinator scale ${fitted}`);
  const again = await times({ ...machine, coordinatorScale: fitted });
  assert.ok(Math.abs(again.seconds - real.seconds) / real.seconds < 0.02, `${again.seconds} s vs ${real.seconds} s`);
});
