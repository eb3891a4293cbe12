/**
 * The embedded S3 server checks request signatures (s3rver alone lets any SigV4 request through):
 * a wrong secret key, an unknown access key and an unsigned request are refused, and the S3 store
 * turns the refusal into a clear Smelter error saying which credentials to use.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { checkSigV4 } from "../../src/storage/s3-sigv4.js";

describe("embedded S3 server: signatures", () => {
  let s3: S3Server;
  before(async () => {
    s3 = await startS3Server({ buckets: ["sig"], accessKeyId: "smelterkey", secretAccessKey: "right-secret" });
  });
  after(async () => {
    await s3.stop();
  });
  const store = (accessKeyId: string, secretAccessKey: string) => s3Store({ bucket: "sig", endpoint: s3.endpoint, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

  test("the right keys work for every call: put, get of a key that needs encoding, list with a prefix, ranges, delete", async () => {
    const s = store("smelterkey", "right-secret");
    const key = "dir with space/ünï+cöde=&?x (1).csv";
    await s.put(key, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual([...(await s.get(key, { range: { start: 1, end: 3 } }))], [2, 3]);
    const listed: string[] = [];
    for await (const o of s.list("dir with space/", { pageSize: 1 })) listed.push(o.key);
    assert.deepEqual(listed, [key]);
    await s.delete(key);
    assert.equal(await s.head(key), undefined);
    await s.close?.();
  });

  test("a wrong secret key is refused: AccessDenied naming the credentials to use", async () => {
    const s = store("smelterkey", "wrong-secret");
    await assert.rejects(s.put("x", new Uint8Array([1])), (e: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(e.type, "AccessDenied");
      assert.equal(e.nonRetryable, true);
      assert.match(e.message, /^\[smelter\] \[s3\] PutObject "x" .* was refused \(SignatureDoesNotMatch 403\)/);
      assert.match(e.message, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      assert.match(e.message, /smelter s3 serve/);
      return true;
    });
    await s.close?.();
  });

  test("an unknown access key and an unsigned request are refused", async () => {
    const s = store("S3RVER", "S3RVER");
    await assert.rejects(s.get("x"), /refused \(InvalidAccessKeyId 403\)/);
    await s.close?.();
    const res = await fetch(`${s3.endpoint}/sig/x`);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  });

  test("checkSigV4 refuses a replayed request whose date is far off, and a tampered path", () => {
    const secretFor = (id: string) => (id === "k" ? "s" : undefined);
    const headers = { authorization: `AWS4-HMAC-SHA256 Credential=k/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`, "x-amz-date": "20200101T000000Z", host: "h" };
    const skewed = checkSigV4({ method: "GET", url: "/b/k", headers }, secretFor);
    assert.equal(skewed.ok, false);
    assert.equal(!skewed.ok && skewed.code, "RequestTimeTooSkewed");
    const bad = checkSigV4({ method: "GET", url: "/b/k", headers }, secretFor, Date.UTC(2020, 0, 1));
    assert.equal(!bad.ok && bad.code, "SignatureDoesNotMatch");
  });
});
