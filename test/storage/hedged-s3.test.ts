/**
 * Hedged reads against a real S3 server (s3rver) through the fault proxy: a ranged GET that
 * stalls, and whose first hedge stalls too, is answered by the ranged reader's second hedge,
 * byte for byte; both stalled requests are aborted. Without the second hedge the read would wait
 * for the SDK's first-byte timeout (set to 20 s here). And the S3 store tells the reader when a
 * response's headers arrive, so a GET without them is hedged at 5x the usual first byte.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { startFaultProxy, type FaultProxy } from "../tooling/fault-proxy.js";

const SIZE = 64 * 1024;

describe("hedged ranged reads through the fault proxy (s3rver)", () => {
  let s3: S3Server;
  let proxy: FaultProxy;
  before(async () => {
    s3 = await startS3Server({ buckets: ["hedges"] });
    proxy = await startFaultProxy({ target: s3.endpoint, seed: 1 });
  });
  after(async () => {
    await proxy?.stop();
    await s3?.stop();
  });

  test("a GET whose first hedge stalls too is answered by the second hedge", async () => {
    const store = s3Store({ bucket: "hedges", endpoint: proxy.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, timeouts: { firstByteMs: 20_000, callMs: 30_000 }, maxAttempts: 1 });
    try {
      const data = new Uint8Array(SIZE).map((_, i) => (i * 31) & 255);
      await store.put("obj", data);
      const range = { start: 1000, end: SIZE - 1000 };
      // The proxy holds the first two GETs of this range (the GET and its first hedge) without an answer.
      let held = 0;
      const isRangeGet = (req: IncomingMessage) => req.method === "GET" && req.headers.range === `bytes=${range.start}-${range.end - 1}`;
      proxy.hold((req) => {
        if (!isRangeGet(req) || held === 2) return false;
        held++;
        return true;
      }); // never released: the reader aborts them, and stop() drops their connections
      const reader = new RangedReader(store);
      const got = await reader.getRange("obj", range, { signal: AbortSignal.timeout(25_000) });
      assert.deepEqual(Buffer.from(got), Buffer.from(data.subarray(range.start, range.end)));
      assert.equal(held, 2, "the GET and its first hedge were held");
      assert.deepEqual([reader.stats.readRequests, reader.stats.hedgesFired, reader.stats.hedgesWon, reader.stats.readsAborted], [3, 2, 1, 2]);
    } finally {
      await store.close?.();
    }
  });
  test("the S3 store tells the reader its first bytes: a GET with no response headers is hedged by the first-byte rule", async () => {
    const store = s3Store({ bucket: "hedges", endpoint: proxy.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, timeouts: { firstByteMs: 60_000, callMs: 60_000 }, maxAttempts: 1 });
    try {
      const data = new Uint8Array(SIZE).map((_, i) => (i * 7) & 255);
      await store.put("fb", data);
      // The whole-GET rule only after 20 s: a hedge sooner can only be the first-byte rule's.
      const reader = new RangedReader(store, { minHedgeDelayMs: 20_000 });
      for (let i = 0; i < 3; i++) await reader.getRange("fb", { start: i * 1000, end: (i + 1) * 1000 });
      const usual = reader.expectedFirstByteMs();
      assert.ok(usual !== undefined && usual > 0, `the reader learned S3's first bytes: ${usual}`);
      const range = { start: 5000, end: 9000 };
      let held = 0;
      proxy.hold((req) => {
        if (req.method !== "GET" || req.headers.range !== `bytes=${range.start}-${range.end - 1}` || held === 1) return false;
        held++;
        return true;
      }); // the first GET of this range gets no answer; the reader aborts it
      const got = await reader.getRange("fb", range, { signal: AbortSignal.timeout(15_000) });
      assert.deepEqual(Buffer.from(got), Buffer.from(data.subarray(range.start, range.end)));
      assert.equal(held, 1);
      assert.deepEqual([reader.stats.hedgesFired, reader.stats.hedgesWon, reader.stats.readsAborted], [1, 1, 1]);
    } finally {
      await store.close?.();
    }
  });
});
