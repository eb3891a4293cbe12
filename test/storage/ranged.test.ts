import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { memoryStore } from "../../src/storage/memory.js";
import { delayedStore } from "../../src/storage/delayed.js";
import { LatencyModel } from "../../src/storage/latency-model.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockPool, RangedReader } from "../../src/storage/ranged.js";
import { localStore } from "../../src/storage/local.js";
import { isViewOf } from "../../src/storage/contract.js";
import { DEFAULT_HEDGE_RULE, hedgedGetMs, type HedgeRule } from "../../src/storage/hedging.js";
import { VirtualClock } from "../../src/job/clock.js";

const MiB = 1024 * 1024;

async function fixture(name: string, size: number) {
  const inner = memoryStore(`ranged-${name}-${randomBytes(4).toString("hex")}`);
  const data = randomBytes(size);
  await inner.put("obj", data);
  return { inner, data };
}

describe("LatencyModel", () => {
  it("uses the prior before it has samples", () => {
    const m = new LatencyModel({ priorLatencyMs: 40, priorBandwidth: 10e6 });
    assert.equal(m.expectedMs(10e6), 40 + 1000);
  });

  it("learns latency and bandwidth from requests of several sizes, ignoring stragglers", () => {
    const m = new LatencyModel();
    const truth = (bytes: number) => 15 + (bytes / 100e6) * 1000; // 15 ms + 100 MB/s
    for (let i = 0; i < 30; i++) {
      const bytes = (1 + (i % 5)) * MiB;
      m.observe(bytes, i % 10 === 7 ? truth(bytes) * 20 : truth(bytes)); // 10% stragglers
    }
    const { latencyMs, bandwidth } = m.params;
    assert.ok(Math.abs(latencyMs - 15) < 2, `latency ${latencyMs}`);
    assert.ok(Math.abs(bandwidth - 100e6) / 100e6 < 0.05, `bandwidth ${bandwidth}`);
  });

  it("with one request size, learns the latency and keeps the prior bandwidth", () => {
    const m = new LatencyModel({ priorBandwidth: 100e6 });
    for (let i = 0; i < 10; i++) m.observe(MiB, 30);
    assert.ok(Math.abs(m.expectedMs(MiB) - 30) < 0.01);
  });
});

describe("RangedReader", () => {
  it("reads a large object as parallel ranged GETs, in order, bounded", async () => {
    const { inner, data } = await fixture("par", 10 * MiB + 123);
    const store = delayedStore(inner, { latencyMs: 5 });
    // No hedging here: on a loaded machine a 5 ms GET can run 3x its expected time and be hedged (hedging is tested below).
    const reader = new RangedReader(store, { partSize: MiB, concurrency: 4, hedgeAfter: 0 });
    const got = await reader.read("obj");
    assert.ok(Buffer.from(got).equals(data));
    assert.equal(store.requests.length, 11);
    const s = reader.stats;
    assert.deepEqual([s.readRequests, s.bytesRead, s.hedgesFired], [11, data.length, 0]);
    const part = await reader.read("obj", { range: { start: MiB - 5, end: 3 * MiB + 7 } });
    assert.ok(Buffer.from(part).equals(data.subarray(MiB - 5, 3 * MiB + 7)));
  });

  it("a slow response is hedged: the read ends near the normal time and the loser is aborted", async () => {
    const { inner, data } = await fixture("hedge", 16 * MiB);
    const slowStart = 9 * MiB; // the 10th part, once the model has learned from the first ones
    const make = () => delayedStore(inner, { latencyMs: 20, bandwidth: 200e6, slow: (r) => (r.range?.start === slowStart && r.index < 16 ? 2000 : 0) });

    const hedged = make();
    const reader = new RangedReader(hedged, { partSize: MiB, concurrency: 4, hedgeAfter: 3 });
    let t0 = performance.now();
    const got = await reader.read("obj");
    const hedgedMs = performance.now() - t0;
    assert.ok(Buffer.from(got).equals(data));
    assert.equal(reader.stats.hedgesFired, 1);
    assert.equal(reader.stats.hedgesWon, 1);
    assert.equal(reader.stats.readsAborted, 1);
    const slow = hedged.requests.filter((r) => r.range?.start === slowStart);
    assert.deepEqual(slow.map((r) => r.outcome), ["aborted", "done"], "the straggler was aborted, its hedge finished");
    // Normal: 16 parts / 4 at a time * ~25 ms = ~100 ms; the hedge fires after 3 x ~25 ms.
    assert.ok(hedgedMs < 800, `hedged read took ${hedgedMs.toFixed(0)} ms`);

    const plain = new RangedReader(make(), { partSize: MiB, concurrency: 4, hedgeAfter: 0 });
    t0 = performance.now();
    await plain.read("obj");
    const plainMs = performance.now() - t0;
    assert.ok(plainMs >= 2000, `without hedging the straggler costs its 2 s (${plainMs.toFixed(0)} ms)`);
    assert.equal(plain.stats.hedgesFired, 0);
  });

  it("a GET whose hedge is slow too is hedged again, and the second hedge answers it (virtual time)", async () => {
    const clock = new VirtualClock(0);
    const { inner, data } = await fixture("hedge2", 1000);
    // The GET and its first hedge stall a minute; the second hedge answers in 20 ms.
    const store = delayedStore(inner, { latencyMs: 20, slow: (r) => (r.index < 2 ? 60_000 : 0), clock });
    const reader = new RangedReader(store, { clock });
    const expected = reader.model.expectedMs(1000); // the prior: 50 ms + 1000 B at 50 MB/s
    const got = await clock.run(reader.getRange("obj", { start: 0, end: 1000 }));
    assert.ok(Buffer.from(got).equals(data));
    assert.deepEqual(store.requests.map((r) => r.outcome), ["aborted", "aborted", "done"]);
    assert.deepEqual([reader.stats.hedgesFired, reader.stats.hedgesWon, reader.stats.readsAborted], [2, 1, 2]);
    // Hedges at 3x and 6x the expected time; the second one's 20 ms later the read is done.
    assert.ok(Math.abs(clock.now() - (6 * expected + 20)) < 1e-6, `done at ${clock.now()} ms, expected ${6 * expected + 20}`);
  });

  it("the simulator's hedged GET (hedging.ts) ends when, and as, the real reader's does on the virtual clock", async () => {
    const { inner } = await fixture("hedge-model", 1000);
    const rules: HedgeRule[] = [DEFAULT_HEDGE_RULE, { ...DEFAULT_HEDGE_RULE, maxHedges: 1 }, { ...DEFAULT_HEDGE_RULE, hedgeAfter: 2, minHedgeDelayMs: 400, maxHedges: 3 }];
    // ms each attempt takes once sent: the GET, then its hedges in order (no ties with a hedge time).
    const cases = [[20], [450, 20], [60_000, 60_000, 20], [60_000, 160, 20], [60_000, 60_000, 60_000, 20], [200, 200, 200, 200]];
    for (const rule of rules) {
      for (const durations of cases) {
        const clock = new VirtualClock(0);
        const store = delayedStore(inner, { slow: (r) => durations[r.index] ?? 0, clock });
        const reader = new RangedReader(store, { ...rule, clock });
        const expected = reader.model.expectedMs(1000);
        await clock.run(reader.getRange("obj", { start: 0, end: 1000 }));
        // This store does not tell first bytes: only the total rule applies.
        const model = hedgedGetMs(rule, { totalMs: expected }, (i) => ({ firstByteMs: durations[i] ?? 0, totalMs: durations[i] ?? 0 }));
        const what = `rule ${JSON.stringify(rule)}, durations ${durations}`;
        assert.ok(Math.abs(clock.now() - model.ms) < 1e-6, `${what}: the reader ended at ${clock.now()}, the model at ${model.ms}`);
        assert.equal(reader.stats.hedgesFired, model.hedges, `${what}: hedges`);
        assert.equal(store.requests.findIndex((r) => r.outcome === "done"), model.winner, `${what}: winner`);
      }
    }
  });

  it("a GET whose first byte is late is hedged at 5x the usual first byte, long before 3x its expected time (virtual time)", async () => {
    const clock = new VirtualClock(0);
    const { inner, data } = await fixture("first-byte", MiB);
    // 20 ms to first byte, then 100 ms of transfer (10 MB/s); the 4th GET's first byte stalls a minute.
    const store = delayedStore(inner, { latencyMs: 20, bandwidth: 10 * 1e6 * (MiB / 1e6), slow: (r) => (r.index === 3 ? 60_000 : 0), clock, tellsFirstByte: true });
    const reader = new RangedReader(store, { clock });
    for (let i = 0; i < 3; i++) await clock.run(reader.getRange("obj", { start: 0, end: MiB }));
    assert.equal(reader.expectedFirstByteMs(), 20, "the reader learned the first byte");
    const expected = reader.model.expectedMs(MiB);
    const sentAt = clock.now();
    const got = await clock.run(reader.getRange("obj", { start: 0, end: MiB }));
    assert.ok(Buffer.from(got).equals(data));
    assert.deepEqual(store.requests.slice(3).map((r) => r.outcome), ["aborted", "done"]);
    assert.equal(reader.stats.hedgesFired, 1);
    // The hedge at max(50, 5 x 20) = 100 ms, then its 20 + 100 ms; the total rule would have waited 3 x ~120 ms.
    assert.equal(clock.now() - sentAt, 100 + 20 + 100);
    assert.ok(3 * expected > 300, `3 x the expected time is ${3 * expected} ms`);
    // A store that does not tell first bytes: the same stall is hedged by the total rule only.
    const silent = delayedStore(inner, { latencyMs: 20, bandwidth: 10 * 1e6 * (MiB / 1e6), slow: (r) => (r.index === 3 ? 60_000 : 0), clock });
    const plain = new RangedReader(silent, { clock });
    for (let i = 0; i < 3; i++) await clock.run(plain.getRange("obj", { start: 0, end: MiB }));
    assert.equal(plain.expectedFirstByteMs(), undefined);
    const plainExpected = plain.model.expectedMs(MiB);
    const plainAt = clock.now();
    await clock.run(plain.getRange("obj", { start: 0, end: MiB }));
    assert.ok(Math.abs(clock.now() - plainAt - (3 * plainExpected + 120)) < 1e-6, `${clock.now() - plainAt} ms`);
  });

  it("with first bytes told, the simulator's hedged GET ends when, and as, the real reader's does (virtual time)", async () => {
    const { inner } = await fixture("first-byte-model", 1000);
    const rules: HedgeRule[] = [DEFAULT_HEDGE_RULE, { ...DEFAULT_HEDGE_RULE, maxHedges: 1 }, { ...DEFAULT_HEDGE_RULE, firstByteAfter: 0 }, { ...DEFAULT_HEDGE_RULE, hedgeAfter: 2, minFirstByteDelayMs: 30, maxHedges: 3 }];
    // Extra ms before the first byte of each attempt (the GET, then its hedges); every first byte then takes 10 ms, the body 200 ms (5 kB/s).
    const cases = [[0], [60_000, 0], [60_000, 60_000, 0], [0, 60_000], [45, 0], [60_000, 45, 0], [60_000, 60_000, 60_000, 0]];
    for (const rule of rules) {
      for (const slowBy of cases) {
        const clock = new VirtualClock(0);
        let base = Infinity; // the measured GET's first request (warm-up GETs may be hedged too)
        const store = delayedStore(inner, { latencyMs: 10, bandwidth: 5000, slow: (r) => (r.index < base ? 0 : (slowBy[r.index - base] ?? 0)), clock, tellsFirstByte: true });
        const reader = new RangedReader(store, { ...rule, clock });
        for (let i = 0; i < 3; i++) await clock.run(reader.getRange("obj", { start: 0, end: 1000 }));
        const expected = { totalMs: reader.model.expectedMs(1000), firstByteMs: reader.expectedFirstByteMs() };
        const hedgesBefore = reader.stats.hedgesFired;
        base = store.requests.length;
        const sentAt = clock.now();
        await clock.run(reader.getRange("obj", { start: 0, end: 1000 }));
        const model = hedgedGetMs(rule, expected, (i) => ({ firstByteMs: 10 + (slowBy[i] ?? 0), totalMs: 10 + (slowBy[i] ?? 0) + 200 }));
        const what = `rule ${JSON.stringify(rule)}, first bytes late by ${slowBy}`;
        assert.ok(Math.abs(clock.now() - sentAt - model.ms) < 1e-6, `${what}: the reader ended at ${clock.now() - sentAt}, the model at ${model.ms}`);
        assert.equal(reader.stats.hedgesFired - hedgesBefore, model.hedges, `${what}: hedges`);
        assert.equal(store.requests.slice(base).findIndex((r) => r.outcome === "done"), model.winner, `${what}: winner`);
      }
    }
  });

  it("reportTo adds only what changed to a task's counters", async () => {
    const { inner } = await fixture("count", 3 * MiB);
    const reader = new RangedReader(inner, { partSize: MiB });
    const counters: Record<string, number> = {};
    const count = (name: string, delta: number) => void (counters[name] = (counters[name] ?? 0) + delta);
    await reader.read("obj");
    reader.reportTo(count);
    reader.reportTo(count);
    assert.deepEqual(counters, { bytesRead: 3 * MiB, readRequests: 3 });
  });

  it("an abort from the caller stops the read", async () => {
    const { inner } = await fixture("abort", 8 * MiB);
    const store = delayedStore(inner, { latencyMs: 200 });
    const reader = new RangedReader(store, { partSize: MiB, concurrency: 2 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(reader.read("obj", { signal: ac.signal }), { name: "AbortError" });
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(store.requests.every((r) => r.outcome !== "pending"), "no GET left running");
  });

  it("a missing object is NotFound", async () => {
    const reader = new RangedReader(memoryStore(`ranged-missing-${randomBytes(4).toString("hex")}`));
    await assert.rejects(reader.read("nope"), { type: "NotFound" });
  });
});

describe("RangedReader.readAhead", () => {
  it("serves in-order reads of a window from block-sized GETs, exactly, and other reads with one GET each", async () => {
    const { inner, data } = await fixture("ahead", 10 * MiB + 123);
    const reader = new RangedReader(inner, { hedgeAfter: 0 });
    const window = { start: 1000, end: 9 * MiB + 77 };
    const read = reader.readAhead("obj", window, { blockSize: 2 * MiB, ahead: 2 });
    const chunk = 512 * 1024 + 3; // reads that straddle blocks too
    for (let pos = window.start; pos < window.end; pos += chunk) {
      const end = Math.min(window.end, pos + chunk);
      assert.deepEqual(Buffer.from(await read(pos, end)), data.subarray(pos, end), `[${pos}, ${end})`);
    }
    // A tail past the window, and a header read before it: one GET each.
    assert.deepEqual(Buffer.from(await read(window.end, window.end + 4096)), data.subarray(window.end, window.end + 4096));
    assert.deepEqual(Buffer.from(await read(0, 100)), data.subarray(0, 100));
    // Reads across two blocks are copied from both: no GET of their own.
    const blocks = Math.ceil((window.end - window.start) / (2 * MiB));
    assert.equal(reader.stats.readRequests, blocks + 2, `GETs: ${reader.stats.readRequests} for ${blocks} blocks`);
    assert.equal(reader.stats.bytesRead, window.end - window.start + 4096 + 100);
  });

  it("fails a read with its block's error, and reads nothing past the window", async () => {
    const { inner } = await fixture("ahead-err", 3 * MiB);
    const reader = new RangedReader(inner, { hedgeAfter: 0 });
    const read = reader.readAhead("missing", { start: 0, end: 3 * MiB }, { blockSize: MiB, ahead: 1 });
    await assert.rejects(read(0, MiB));
    const ok = reader.readAhead("obj", { start: 0, end: 3 * MiB }, { blockSize: MiB, ahead: 8 });
    await ok(0, MiB);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(reader.stats.readRequests <= 2 + 3, `GETs ${reader.stats.readRequests}: never more blocks than the window holds`);
  });
});

/** A pool that counts what it hands out and gets back. */
class CountingPool extends BlockPool {
  taken = new Set<Uint8Array>();
  takes = 0;
  gives = 0;
  override take(size: number): Uint8Array {
    const b = super.take(size);
    this.takes++;
    this.taken.add(b);
    return b;
  }
  override give(b: Uint8Array): void {
    this.gives++;
    super.give(b);
  }
}

describe("BlockPool", () => {
  it("keeps at most `keep` buffers of a size, hands them out again, and lets them go when idle", async () => {
    const clock = new VirtualClock();
    const pool = new BlockPool(2, { idleMs: 1000, clock });
    const [a, b, c] = [pool.take(64), pool.take(64), pool.take(64)];
    for (const x of [a, b, c]) pool.give(x!);
    pool.give(a!); // twice: kept once
    assert.equal(pool.kept, 2);
    const again = [pool.take(64), pool.take(64), pool.take(64)];
    assert.equal(again.filter((x) => x === a || x === b || x === c).length, 2, "two kept buffers handed out again, one fresh");
    assert.equal(pool.take(128).byteLength, 128);
    for (const x of again) pool.give(x);
    assert.equal(pool.kept, 2);
    await clock.advance(999);
    assert.equal(pool.kept, 2);
    await clock.advance(1);
    assert.equal(pool.kept, 0, "idle for idleMs: nothing kept");
  });
});

describe("RangedReader.readAhead with a block pool", () => {
  it("reads each block into a kept buffer (a few per reader), every byte exact over random reads and windows", async () => {
    const dir = await mkdtemp(join(tmpdir(), "smelter-pool-"));
    try {
      const data = randomBytes(9 * MiB + 321);
      await writeFile(join(dir, "obj"), data);
      const store = localStore(dir);
      let seed = 7;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
      const pool = new CountingPool(4);
      for (let round = 0; round < 12; round++) {
        const reader = new RangedReader(store, { hedgeAfter: 0 });
        const start = rand(MiB);
        const window = { start, end: data.length - rand(MiB) };
        const blockSize = (1 + rand(3)) * 256 * 1024;
        const read = reader.readAhead("obj", window, { blockSize, ahead: 2, pool });
        for (let pos = window.start + rand(3000); pos < window.end; ) {
          const end = Math.min(window.end, pos + 1 + rand(blockSize + 1000)); // inside one block, across two, or (rarely) more
          const bytes = await read(pos, end);
          // Checked before the next read: a view is valid until then.
          assert.ok(Buffer.from(bytes).equals(data.subarray(pos, end)), `round ${round}: [${pos}, ${end}) of block size ${blockSize}`);
          pos = end;
        }
        read.release();
      }
      await new Promise((r) => setTimeout(r, 20)); // blocks still in flight at release are given back when they land
      assert.ok(pool.gives > 0 && pool.gives <= pool.takes, `takes ${pool.takes}, gives ${pool.gives}`);
      // A few buffers per block size served every block of every round (3 sizes, 4 kept each, ahead 2).
      assert.ok(pool.taken.size <= 3 * 5, `${pool.taken.size} distinct buffers for ${pool.takes} blocks`);
      assert.ok(pool.takes > 3 * pool.taken.size, `${pool.takes} blocks read into ${pool.taken.size} buffers`);
      assert.ok(pool.kept <= 3 * 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a store that returns buffers of its own: the reader stops taking pool buffers, and gives none back", async () => {
    const { inner, data } = await fixture("pool-own", 6 * MiB);
    const reader = new RangedReader(inner, { hedgeAfter: 0 });
    const pool = new CountingPool(4);
    const read = reader.readAhead("obj", { start: 0, end: data.length }, { blockSize: MiB, ahead: 2, pool });
    for (let pos = 0; pos < data.length; pos += MiB / 2) assert.ok(Buffer.from(await read(pos, pos + MiB / 2)).equals(data.subarray(pos, pos + MiB / 2)));
    read.release();
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(pool.takes <= 3, `${pool.takes} buffers taken for a store that never reads into them`);
    assert.equal(pool.gives, 0);
  });

  it("a hedge that wins reads into its own buffer: the first attempt's buffer, maybe still written, is never given back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "smelter-pool-"));
    try {
      const data = randomBytes(2 * MiB);
      await writeFile(join(dir, "obj"), data);
      // The first GET lands in its buffer at once, then stalls: its hedge wins.
      const store = delayedStore(localStore(dir), { latencyMs: 1, slow: (r) => (r.index === 0 ? 2000 : 0) });
      const reader = new RangedReader(store, { hedgeAfter: 3, minHedgeDelayMs: 10, model: { priorLatencyMs: 1, priorBandwidth: 1e9 } });
      const pool = new CountingPool(4);
      const read = reader.readAhead("obj", { start: 0, end: MiB }, { blockSize: MiB, ahead: 0, pool });
      const bytes = await read(0, MiB);
      assert.ok(Buffer.from(bytes).equals(data.subarray(0, MiB)));
      assert.equal(reader.stats.hedgesWon, 1);
      const [first] = pool.taken;
      assert.ok(first && !isViewOf(bytes, first), "the winner's bytes are the hedge's own");
      read.release();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(pool.gives, 0);
      // And the reader takes no more buffers: its reads come back in buffers of their own.
      const again = reader.readAhead("obj", { start: MiB, end: 2 * MiB }, { blockSize: MiB, ahead: 0, pool });
      assert.ok(Buffer.from(await again(MiB, 2 * MiB)).equals(data.subarray(MiB)));
      assert.equal(pool.takes, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
