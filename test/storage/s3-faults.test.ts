/**
 * The S3 store reading and writing through the fault proxy (5% 503 SlowDown, 1% stalls, 1%
 * connection resets, 1% truncated bodies, 1% bodies stalled midway, 10% heavy-tailed delays) in front of the embedded
 * server and the complete one (versitygw): every object read back (get, getStream, hedged ranged
 * reads) equals what was written, byte for byte; listings are exact; nothing is left open; and
 * every call ends within its bounds (test-sized timeouts). Prints the faults injected by kind
 * and the longest call (fault to recovery) for docs/reliability.md.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { ObjectStore } from "../../src/storage/contract.js";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";
import { startFaultProxy, type FaultProxy } from "../tooling/fault-proxy.js";

const RATES = { slowDown: 0.05, stall: 0.01, reset: 0.01, truncate: 0.01, stallBody: 0.01 };
/** First-byte timeout: above the slowest honest answer (s3rver completing 9 MiB on a loaded 2-core machine), or a slow server looks silent. */
const FIRST_BYTE_MS = 3000;
const STALL_MS = 1500;

/** Seeded bytes (xorshift), so a wrong byte anywhere shows. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function concat(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

interface Figures {
  calls: number;
  longestCallMs: number;
  objects: number;
  bytesCompared: number;
}

/** Writes, reads back (three ways), lists and deletes through `store`; asserts exact data. */
async function workload(store: ObjectStore, seed: number): Promise<Figures> {
  const figures: Figures = { calls: 0, longestCallMs: 0, objects: 0, bytesCompared: 0 };
  const timed = async <T>(fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      figures.calls++;
      figures.longestCallMs = Math.max(figures.longestCallMs, performance.now() - t);
    }
  };
  const sizes = [0, 1, 999, 4096, 65_536, 300_000, 1_048_576 + 3];
  const written = new Map<string, Uint8Array>();
  for (let i = 0; i < 28; i++) {
    const data = bytes(sizes[i % sizes.length]!, seed * 1000 + i);
    const key = `w/obj-${String(i).padStart(3, "0")}`;
    await timed(() => store.put(key, data));
    written.set(key, data);
  }
  // One object large enough for a multipart upload (8 MiB parts).
  const big = bytes(9 * 1024 * 1024 + 17, seed);
  await timed(() =>
    store.putStream!(
      "w/big",
      (async function* () {
        for (let o = 0; o < big.length; o += 1 << 20) yield big.subarray(o, Math.min(big.length, o + (1 << 20)));
      })(),
    ),
  );
  written.set("w/big", big);

  const listed = await timed(async () => {
    const keys: string[] = [];
    for await (const o of store.list("w/", { pageSize: 7 })) keys.push(o.key);
    return keys;
  });
  assert.deepEqual([...listed].sort(), [...written.keys()].sort(), "the listing is exact");

  const reader = new RangedReader(store, { partSize: 256 * 1024, concurrency: 4, minHedgeDelayMs: 50 });
  for (const [key, data] of written) {
    const got = await timed(() => store.get(key));
    assert.equal(sha(got), sha(data), `get ${key}`);
    const streamed = await timed(() => concat(store.getStream(key)));
    assert.equal(sha(streamed), sha(data), `getStream ${key}`);
    if (data.length > 0) {
      const mid = Math.floor(data.length / 3);
      const ranged = await timed(() => reader.read(key, { range: { start: mid, end: data.length } }));
      assert.equal(sha(ranged), sha(data.subarray(mid)), `ranged read ${key}`);
    }
    figures.objects++;
    figures.bytesCompared += data.length * 2 + (data.length - Math.floor(data.length / 3));
  }
  const deleted = await timed(() => store.deletePrefix("w/"));
  assert.equal(deleted, written.size);
  const left = await timed(async () => {
    let n = 0;
    for await (const _ of store.list("w/")) n++;
    return n;
  });
  assert.equal(left, 0);
  return figures;
}

function report(what: string, proxy: FaultProxy, before: FaultProxy["stats"], f: Figures): string {
  const now = proxy.stats;
  const s = {
    requests: now.requests - before.requests,
    faults: Object.fromEntries(Object.entries(now.faults).map(([k, v]) => [k, v - before.faults[k as keyof typeof now.faults]])) as typeof now.faults,
    delayed: now.delayed - before.delayed,
    delayMsMax: now.delayMsMax,
  };
  return (
    `${what}: ${s.requests} requests, faults injected: ${s.faults.slowDown} SlowDown, ${s.faults.stall} stalls, ${s.faults.reset} resets, ` +
    `${s.faults.truncate} truncated bodies, ${s.faults.stallBody} bodies stalled midway, ${s.delayed} delayed (max ${s.delayMsMax.toFixed(0)} ms); ${f.calls} store calls, ` +
    `${f.objects} objects and ${(f.bytesCompared / 1e6).toFixed(1)} MB compared byte for byte, all equal; longest call ${f.longestCallMs.toFixed(0)} ms`
  );
}

const storeOptions = { timeouts: { connectMs: 2000, firstByteMs: FIRST_BYTE_MS, stallMs: STALL_MS, callMs: 60_000 }, maxAttempts: 10 };

describe("S3 store through the fault proxy: exact data in bounded time", () => {
  describe("embedded server (s3rver)", () => {
    let s3: S3Server;
    let proxy: FaultProxy;
    before(async () => {
      s3 = await startS3Server({ buckets: ["faults"] });
      proxy = await startFaultProxy({ target: s3.endpoint, seed: 12, rates: RATES, latencyRate: 0.1, latencyMs: 5, maxLatencyMs: 1500 });
    });
    after(async () => {
      await proxy.stop();
      await s3.stop();
    });

    // SMELTER_FAULT_SEEDS=20 runs seeds 1..20 (the figures in docs/reliability.md); npm test runs 2.
    const seeds = Array.from({ length: Number(process.env.SMELTER_FAULT_SEEDS ?? 2) }, (_, i) => i + 1);
    for (const seed of seeds) {
      test(`seed ${seed}: put, multipart, list, get, getStream, ranged reads, delete`, async (t) => {
        const store = s3Store({ bucket: "faults", endpoint: proxy.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, ...storeOptions });
        const start = structuredClone(proxy.stats);
        const f = await workload(store, seed);
        await store.close?.();
        const faults = Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0) - Object.values(start.faults).reduce((a, b) => a + b, 0);
        assert.ok(faults > 0, "faults were injected");
        assert.ok(f.longestCallMs < 60_000, "no call waited past its deadline");
        t.diagnostic(report(`s3rver seed ${seed}`, proxy, start, f));
      });
    }
  });

  describe("complete server (versitygw)", () => {
    let s3: CompleteS3Server;
    let proxy: FaultProxy;
    before(async () => {
      s3 = await startCompleteS3Server({ buckets: ["faults"] });
      proxy = await startFaultProxy({ target: s3.endpoint, seed: 34, rates: RATES, latencyRate: 0.1, latencyMs: 5, maxLatencyMs: 1500 });
    });
    after(async () => {
      await proxy?.stop();
      await s3?.stop();
    });

    test("seed 3: exact data, and no multipart upload left open", async (t) => {
      const store = s3Store({ bucket: "faults", endpoint: proxy.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, ...storeOptions });
      const start = structuredClone(proxy.stats);
      const f = await workload(store, 3);
      proxy.setRates({}, 0);
      assert.deepEqual(await store.multipart!.listUploads(""), [], "no open multipart uploads");
      await store.close?.();
      t.diagnostic(report("versitygw seed 3", proxy, start, f));
    });
  });
});
