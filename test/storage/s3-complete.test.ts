/**
 * The store conformance suite against a complete S3 implementation (versitygw, installed by
 * `npm run setup:s3`): everything, including abort, ListParts, ListMultipartUploads and the
 * Content-MD5 check that s3rver lacks. Fails (never skips) when the server is not installed.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { s3Store } from "../../src/storage/s3.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";
import { runStoreConformance } from "./conformance.js";

let server: CompleteS3Server;
before(async () => {
  server = await startCompleteS3Server({ buckets: ["conformance"] });
});
after(async () => {
  await server?.stop();
});

const store = (bucket = "conformance", credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }) =>
  s3Store({ bucket, endpoint: server.endpoint, region: server.region, credentials, maxAttempts: 2 });

runStoreConformance("s3 on a complete S3 server (versitygw)", () => store());

describe("complete S3 server: errors at the edge", () => {
  it("a wrong secret is a non-retryable AccessDenied that says which credentials to set", async () => {
    const bad = store("conformance", { accessKeyId: server.accessKeyId, secretAccessKey: "wrong" });
    await assert.rejects(bad.get("x"), (e: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(e.type, "AccessDenied");
      assert.equal(e.nonRetryable, true);
      assert.match(e.message, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      return true;
    });
  });

  it("an unknown access key is AccessDenied too", async () => {
    await assert.rejects(store("conformance", { accessKeyId: "nobody", secretAccessKey: "x" }).put("x", new Uint8Array(1)), { type: "AccessDenied", nonRetryable: true });
  });

  it("a missing bucket says so", async () => {
    await assert.rejects(store("no-such-bucket").get("x"), (e: Error & { type?: string }) => {
      assert.equal(e.type, "BucketNotFound");
      assert.match(e.message, /bucket "no-such-bucket" not found at http:\/\/127\.0\.0\.1:\d+: check the name, or create the bucket first/);
      return true;
    });
  });

  it("a PUT body changed on the way is refused by its CRC32 (payloads are not signed), and nothing is stored", async () => {
    // A loopback proxy that flips one byte of every request body it forwards.
    const proxy = createServer((client: Socket) => {
      const upstream = connect(Number(new URL(server.endpoint).port), "127.0.0.1");
      let head = Buffer.alloc(0);
      let inBody = false;
      client.on("data", (chunk: Buffer) => {
        if (inBody) return void upstream.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        inBody = true;
        const out = Buffer.from(head);
        if (out.length > end + 4 + 10) out[end + 4 + 10]! ^= 0x01;
        upstream.write(out);
      });
      upstream.pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const via = s3Store({ bucket: "conformance", endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, maxAttempts: 1 });
      await assert.rejects(via.put("changed-on-the-way", new Uint8Array(4096).fill(7)), (e: Error & { type?: string }) => {
        assert.match(`${e.type} ${e.message}`, /BadDigest|checksum|CRC32/i);
        return true;
      });
      assert.equal(await store().head("changed-on-the-way"), undefined);
      await via.close();
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it("a multipart call on an upload that does not exist is NoSuchUpload", async () => {
    await assert.rejects(store().multipart!.uploadPart("k", "not-an-upload", 1, new Uint8Array(1)), { type: "NoSuchUpload" });
  });
});
