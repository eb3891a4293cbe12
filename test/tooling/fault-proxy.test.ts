/**
 * The fault proxy itself: each fault kind happens at about its configured rate, and the AWS SDK
 * (one attempt, no retries) sees each as it would from S3: 503 SlowDown, a connection reset, a
 * request that never answers, a body cut short, a body that stops midway. Latency has a heavy tail.
 */
import "../../src/storage/s3.js"; // first: it turns off the SDK's Node-version warning
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { FAULT_KINDS, startFaultProxy, type FaultKind, type FaultProxy } from "./fault-proxy.js";

const N = 150;
const RATE = 0.07;
/** How long the client waits for a stalled answer: well above an honest one on a loaded machine. */
const STALL_GIVE_UP_MS = 600;

/** Outside `mean +- 5 sigma` of a binomial: the rate is wrong, not unlucky. */
function assertAboutRate(count: number, n: number, p: number, what: string): void {
  const mean = n * p;
  const sigma = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - mean) <= 5 * sigma, `${what}: ${count} of ${n}, expected about ${mean.toFixed(0)} (rate ${p})`);
}

describe("fault proxy", () => {
  let s3: S3Server;
  let proxy: FaultProxy;
  let client: S3Client;
  const body = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 255);

  before(async () => {
    s3 = await startS3Server({ buckets: ["faults"] });
    proxy = await startFaultProxy({ target: s3.endpoint, seed: 7, rates: {}, latencyRate: 0, maxLatencyMs: 600 });
    client = new S3Client({
      endpoint: proxy.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      maxAttempts: 1,
      requestHandler: { requestTimeout: STALL_GIVE_UP_MS, throwOnRequestTimeout: true, socketTimeout: STALL_GIVE_UP_MS },
    });
    const setup = new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    await setup.send(new PutObjectCommand({ Bucket: "faults", Key: "obj", Body: body }));
    setup.destroy();
  });
  after(async () => {
    client.destroy();
    await proxy.stop();
    await s3.stop();
  });

  test(`each fault kind at about its rate (${RATE} each, ${N} GETs), seen by the SDK as S3's own failures`, async () => {
    proxy.setRates(Object.fromEntries(FAULT_KINDS.map((k) => [k, RATE])), 0.1);
    const before = structuredClone(proxy.stats);
    const seen: Record<FaultKind | "ok", number> = { slowDown: 0, reset: 0, stall: 0, truncate: 0, stallBody: 0, ok: 0 };
    for (let i = 0; i < N; i++) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: "faults", Key: "obj" }));
        const got = await res.Body!.transformToByteArray().catch((err: unknown) => {
          const e = err as { name?: string; code?: string; message?: string };
          if (e.name === "TimeoutError") return "stallBody" as const; // the socket went silent mid-body
          assert.ok(e.code === "ECONNRESET" || /aborted|premature/i.test(e.message ?? ""), `a cut body fails its read: ${e.name} ${e.code} ${e.message}`);
          return "truncate" as const;
        });
        if (typeof got === "string") seen[got]++;
        else {
          assert.deepEqual(Buffer.from(got), Buffer.from(body), "an untouched answer is the object");
          seen.ok++;
        }
      } catch (err) {
        const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === "SlowDown") {
          assert.equal(e.$metadata?.httpStatusCode, 503);
          seen.slowDown++;
        } else if (e.code === "ECONNRESET") seen.reset++;
        else if (e.name === "TimeoutError" && /requestTimeout/.test(e.message ?? "")) seen.stall++;
        else assert.fail(`unexpected error ${e.name} ${e.code} ${e.message}`);
      }
    }
    proxy.setRates({}, 0);
    const st = proxy.stats;
    for (const k of FAULT_KINDS) {
      const injected = st.faults[k] - before.faults[k];
      assert.equal(seen[k], injected, `${k}: the SDK saw each one injected`);
      assertAboutRate(injected, N, RATE, k);
    }
    assert.equal(seen.ok, N - FAULT_KINDS.reduce((s, k) => s + seen[k], 0));
    const delayed = st.delayed - before.delayed;
    assertAboutRate(delayed, N, 0.1, "delayed");
    assert.ok(st.delayMsMax >= 5 * 20, `a heavy tail: the longest delay ${st.delayMsMax.toFixed(0)} ms is far past the 20 ms scale`);
  });

  test("the same seed gives the same faults in the same order", async () => {
    const runOnce = async (): Promise<string> => {
      const p = await startFaultProxy({ target: s3.endpoint, seed: 99, rates: { slowDown: 0.3, reset: 0.2 } });
      const c = new S3Client({ endpoint: p.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, maxAttempts: 1 });
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) {
        outcomes.push(
          await c.send(new GetObjectCommand({ Bucket: "faults", Key: "obj" })).then(
            async (r) => (await r.Body!.transformToByteArray(), "ok"),
            (e: { name?: string; code?: string }) => e.code ?? e.name ?? "?",
          ),
        );
      }
      c.destroy();
      await p.stop();
      return outcomes.join(",");
    };
    const a = await runOnce();
    assert.match(a, /SlowDown/);
    assert.match(a, /ECONNRESET/);
    assert.equal(await runOnce(), a);
  });

  test("refuses a target off loopback", async () => {
    await assert.rejects(startFaultProxy({ target: "http://example.com:80", seed: 1 }), /loopback only/);
  });
});
