/**
 * SlowDown / 503 handling of the S3 store: a loopback proxy in front of the embedded server
 * answers the first requests with S3's 503 SlowDown and passes the rest through untouched.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { once } from "node:events";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { s3Store } from "../../src/storage/s3.js";

let s3: S3Server;
let proxy: Server;
let proxyUrl: string;
let throttleNext = 0;
let seen = 0;

before(async () => {
  s3 = await startS3Server({ buckets: ["retry"] });
  const target = new URL(s3.endpoint);
  proxy = createServer((req, res) => {
    seen++;
    if (throttleNext > 0) {
      throttleNext--;
      req.resume();
      res.writeHead(503, { "content-type": "application/xml" });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const addr = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
after(async () => {
  proxy.closeAllConnections();
  proxy.close();
  await s3.stop();
});

const store = (maxAttempts: number) =>
  s3Store({ bucket: "retry", endpoint: proxyUrl, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, maxAttempts });

describe("S3 store: SlowDown and 503", () => {
  it("are retried with backoff by the SDK's standard retry strategy", async () => {
    const s = store(5);
    await s.put("k", new Uint8Array([1, 2, 3]));
    throttleNext = 2;
    seen = 0;
    assert.deepEqual([...(await s.get("k"))], [1, 2, 3]);
    assert.equal(seen, 3, "two throttled attempts, then the one that worked");
    await s.close();
  });

  it("still throttled after maxAttempts: a retryable Throttled error", async () => {
    const s = store(2);
    throttleNext = 10;
    seen = 0;
    await assert.rejects(s.get("k"), (e: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(e.type, "Throttled");
      assert.equal(e.nonRetryable, false);
      assert.match(e.message, /SlowDown/);
      return true;
    });
    assert.equal(seen, 2);
    throttleNext = 0;
    await s.close();
  });
});
