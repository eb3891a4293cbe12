/**
 * The embedded server (s3rver underneath) under a PUT racing a DELETE under the same prefix: the
 * DELETE of the last object there removes the emptied directory, which s3rver's own putObject
 * needed a moment later (an ENOENT on an unwatched stream ended the server; CI saw it with a
 * Fargate worker's reply PUT). Bounded: 150 rounds of one PUT beside one DELETE, on loopback.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { s3Store } from "../../src/storage/s3.js";
import type { ObjectStore } from "../../src/storage/contract.js";

describe("the embedded S3 server under racing PUTs and DELETEs", () => {
  let s3: S3Server;
  let store: ObjectStore;
  before(async () => {
    s3 = await startS3Server({ buckets: ["races"] });
    store = s3Store({ bucket: "races", endpoint: s3.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  });
  after(async () => {
    await store?.close();
    await s3?.stop();
  });

  it("stays up, and every PUT lands whole, while DELETEs empty the same prefix", async () => {
    for (let round = 0; round < 150; round++) {
      await store.put(`d${round % 5}/old`, Buffer.from("old"));
      const body = Buffer.alloc(4096 + round, round % 251);
      // The DELETE removes d<n>/ (its last object) while the PUT is making it again.
      await Promise.all([store.put(`d${round % 5}/new-${round}`, body), store.delete(`d${round % 5}/old`)]);
      const got = await store.get(`d${round % 5}/new-${round}`);
      assert.ok(Buffer.from(got).equals(body), `round ${round}: the object as written`);
      await store.delete(`d${round % 5}/new-${round}`);
    }
    assert.deepEqual(await store.head("d0/old"), undefined);
    // No temp file of an interrupted write is left in the server's directory.
    const leftovers = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : e.name.endsWith(".tmp") ? [`${dir}/${e.name}`] : []));
    })(s3.dir);
    assert.deepEqual(leftovers, []);
  });
});
