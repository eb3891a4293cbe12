/**
 * Speculation rule (c) in multi-stage jobs (gaps the simulator found, docs/simulation.md
 * "What the straggler policies do"): a consumer's attempts launch early and wait for their
 * producers' outputs, so their running time counts from when the producers were done; and a
 * task whose duplicate straggles too gets another one, up to `maxDuplicatesPerTask`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TaskEnvelope } from "../../src/backends/contract.js";
import type { VirtualClock } from "../../src/scheduler/clock.js";
import { runToEnd, setup } from "../helpers/scheduler-setup.js";
import type { Script } from "../helpers/scripted-backend.js";

const RULE_C = { slowerThanMedian: 2, minFinished: 3, checkInterval: 50 };

/** Six maps, then six reducers (`after` the maps, rule (c) on), run to the end; `ready` sees the clock before anything runs. */
async function mapThenReduce(script: (e: TaskEnvelope) => Script, ready: (s: { clock: VirtualClock; start: number }) => void) {
  const s = setup(script, { maxConcurrentTasks: 20 });
  ready(s);
  const map = s.job.stage({ worker: "map" });
  const reduce = s.job.stage({ worker: "reduce", after: [map], policy: { speculation: RULE_C } });
  void map.pushAll([0, 1, 2, 3, 4, 5]);
  void reduce.pushAll([0, 1, 2, 3, 4, 5]);
  assert.equal(await runToEnd(s.clock, s.job), undefined);
  return { s, reduce };
}

test("a consumer's straggler is duplicated 2x its peers' work after the producers are done, not 2x their wait", async () => {
  // Six maps of 1 s; six reducers launched at once, waiting for the maps (done at 1 s), then 100 ms
  // of work; reducer 5's first attempt straggles (done at 3 s).
  let clock: VirtualClock | undefined;
  let start = 0;
  const script = (e: TaskEnvelope): Script => {
    if (e.stage === 1) return { runMs: 1_000 };
    if (e.task === 5 && e.attempt === 1) return { runMs: 3_000 };
    const waitForMaps = Math.max(0, start + 1_000 - clock!.now());
    return { runMs: waitForMaps + 100 };
  };
  const { s } = await mapThenReduce(script, (x) => ({ clock, start } = x));
  const reducer5 = s.backend.launches.filter((l) => l.envelope.stage === 2 && l.envelope.task === 5);
  assert.equal(reducer5.length, 2, "reducer 5 got a duplicate");
  // Peers take 100 ms once the maps are done (1,000 ms): due at ~1,300 ms. Counting from launch
  // (1,100 ms each) it came at ~2,200 ms.
  const at = reducer5[1]!.at - start;
  assert.ok(at >= 1_200 && at <= 1_500, `the duplicate launched at ${at} ms`);
});

test("no reducer is duplicated while it waits for its producers, however long they take", async () => {
  // One map straggles (5 s, no speculation on maps); reducers wait for it, then work 100 ms.
  let clock: VirtualClock | undefined;
  let start = 0;
  const script = (e: TaskEnvelope): Script => {
    if (e.stage === 1) return { runMs: e.task === 0 ? 5_000 : 100 };
    return { runMs: Math.max(0, start + 5_000 - clock!.now()) + 100 };
  };
  const { s, reduce } = await mapThenReduce(script, (x) => ({ clock, start } = x));
  assert.equal(reduce.counts.speculated, 0);
  assert.equal(s.backend.launches.filter((l) => l.envelope.stage === 2).length, 6);
});

test("a duplicate that straggles too gets a second duplicate when maxDuplicatesPerTask allows it", async () => {
  // Task 5's first two attempts take 10 s; everything else 100 ms.
  const script = (e: TaskEnvelope): Script => ({ runMs: e.task === 5 && e.attempt <= 2 ? 10_000 : 100 });
  const run = async (maxDuplicatesPerTask: number) => {
    const s = setup(script);
    const stage = s.job.stage({ worker: "w", policy: { speculation: { ...RULE_C, maxDuplicatesPerTask } } });
    void stage.pushAll([0, 1, 2, 3, 4, 5]);
    assert.equal(await runToEnd(s.clock, s.job), undefined);
    return { launches: s.backend.launches.filter((l) => l.envelope.task === 5).map((l) => l.at - s.start), end: s.clock.now() - s.start };
  };
  const two = await run(2);
  assert.equal(two.launches.length, 3, `task 5 launched at ${two.launches.join(", ")} ms`);
  // The first duplicate at ~250 ms (2 x the 100 ms median), the second when that one is over 200 ms too.
  assert.ok(two.launches[2]! <= 700, `second duplicate at ${two.launches[2]} ms`);
  assert.ok(two.end <= 1_000, `ended at ${two.end} ms`);
  const one = await run(1);
  assert.equal(one.launches.length, 2, "one duplicate at most by default");
  assert.ok(one.end >= 10_000);
});
