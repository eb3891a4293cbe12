/**
 * Reads pinned to an object's listed version (storage/versions.ts): on the embedded S3 server
 * (s3rver, which ignores If-Match: the response's ETag is compared), on versitygw (which answers
 * If-Match with 412), on a local directory (size, mtime and inode before and after the read) and
 * in memory. An object rewritten after its listing fails the read with InputChangedError naming it;
 * an unchanged one reads, a multipart object (ETag `...-2`) included.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ObjectStore } from "../../src/storage/contract.js";
import { localStore } from "../../src/storage/local.js";
import { memoryStore } from "../../src/storage/memory.js";
import { RangedReader } from "../../src/storage/ranged.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { InputChangedError } from "../../src/storage/versions.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";

const MiB = 1024 * 1024;
const same = (a: Uint8Array, b: Uint8Array) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${a.byteLength} bytes equal to the ${b.byteLength} expected`);
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

/** The version a listing gives `key`. */
async function listedVersion(store: ObjectStore, key: string): Promise<string> {
  for await (const o of store.list(key)) if (o.key === key) return o.version!;
  throw new Error(`${key} not listed`);
}

function assertChanged(err: unknown, object: RegExp): true {
  assert.ok(err instanceof InputChangedError, `InputChangedError, not ${String(err)}`);
  assert.equal(err.type, "InputChanged");
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, /^\[smelter\] /);
  assert.match(err.message, object);
  assert.match(err.message, /changed during the job/);
  assert.match(err.message, /rerun/);
  return true;
}

/** The checks every store must pass; `rewrite` replaces an object behind the store's back. */
function pinnedReads(name: string, open: () => Promise<{ store: ObjectStore; rewrite: (key: string, body: Uint8Array) => Promise<void>; multipart: boolean; close: () => Promise<void> }>): void {
  describe(`reads pinned to the listed version: ${name}`, () => {
    let s: Awaited<ReturnType<typeof open>>;
    before(async () => {
      s = await open();
    });
    after(async () => s?.close());

    test("an unchanged object reads with its version (get, a range, the ranged reader, an empty range)", async () => {
      const body = bytes(300_000, 1);
      await s.store.put("same.bin", body);
      const version = await listedVersion(s.store, "same.bin");
      assert.ok(version.length > 0);
      same(await s.store.get("same.bin", { version }), body);
      same(await s.store.get("same.bin", { range: { start: 1000, end: 2000 }, version }), body.subarray(1000, 2000));
      same(await s.store.get("same.bin", { range: { start: 5, end: 5 }, version }), new Uint8Array(0));
      const reader = new RangedReader(s.store, { partSize: 64 * 1024 });
      same(await reader.read("same.bin", { version }), body);
      assert.equal((await s.store.head("same.bin"))?.version, version, "head gives the listing's version");
    });

    test("an object rewritten after the listing fails every read given the old version, naming it", async () => {
      await s.store.put("moved.bin", bytes(100_000, 2));
      const version = await listedVersion(s.store, "moved.bin");
      // Same size, other bytes: a size check alone would not see it.
      await s.rewrite("moved.bin", bytes(100_000, 3));
      await assert.rejects(s.store.get("moved.bin", { version }), (e) => assertChanged(e, /moved\.bin/));
      await assert.rejects(s.store.get("moved.bin", { range: { start: 10, end: 5000 }, version }), (e) => assertChanged(e, /moved\.bin/));
      await assert.rejects(new RangedReader(s.store, { partSize: 16 * 1024 }).read("moved.bin", { version }), (e) => assertChanged(e, /moved\.bin/));
      // Without a version the store reads whatever is there, as before.
      same(await s.store.get("moved.bin", { range: { start: 0, end: 4 } }), bytes(100_000, 3).subarray(0, 4));
    });

    test("an object cut short after the listing: a range past its new end fails too", async () => {
      await s.store.put("cut.bin", bytes(100_000, 4));
      const version = await listedVersion(s.store, "cut.bin");
      await s.rewrite("cut.bin", bytes(1_000, 4));
      await assert.rejects(s.store.get("cut.bin", { range: { start: 50_000, end: 60_000 }, version }), (e) => assertChanged(e, /cut\.bin/));
    });

    test("a multipart object (ETag with -N) reads with its listed version", async (t) => {
        if (!s.multipart) return t.skip("no multipart uploads on this store");
        const mp = s.store.multipart!;
        const part1 = bytes(5 * MiB, 5);
        const part2 = bytes(MiB, 6);
        const id = await mp.create("multi.bin");
        const parts = [await mp.uploadPart("multi.bin", id, 1, part1), await mp.uploadPart("multi.bin", id, 2, part2)];
        await mp.complete("multi.bin", id, parts);
        const version = await listedVersion(s.store, "multi.bin");
        if (name.startsWith("versitygw")) assert.match(version, /-2$/, "S3's multipart ETag (s3rver gives the whole object's MD5)");
        const got = await new RangedReader(s.store, { partSize: 2 * MiB }).read("multi.bin", { version });
        assert.equal(got.byteLength, 6 * MiB);
        same(got.subarray(5 * MiB), part2);
        same(await s.store.get("multi.bin", { range: { start: 5 * MiB - 10, end: 5 * MiB + 10 }, version }), Uint8Array.from([...part1.subarray(5 * MiB - 10), ...part2.subarray(0, 10)]));
      });
  });
}

pinnedReads("embedded S3 server (s3rver: If-Match ignored, the response's ETag compared)", async () => {
  const server: S3Server = await startS3Server({ buckets: ["pin"] });
  const store = s3Store({ bucket: "pin", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  const other = s3Store({ bucket: "pin", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  return { store, multipart: true, rewrite: async (k, b) => void (await other.put(k, b)), close: async () => (await store.close(), await other.close(), await server.stop()) };
});

pinnedReads("versitygw (If-Match answered 412)", async () => {
  const server: CompleteS3Server = await startCompleteS3Server({ buckets: ["pin"] });
  const store = s3Store({ bucket: "pin", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  const other = s3Store({ bucket: "pin", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  return { store, multipart: true, rewrite: async (k, b) => void (await other.put(k, b)), close: async () => (await store.close(), await other.close(), await server.stop()) };
});

pinnedReads("local directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-pin-"));
  const store = localStore(dir);
  return {
    store,
    multipart: true,
    // Rewritten in place (the same inode, the same size): only the mtime tells, and the file system's clock ticks every few ms.
    rewrite: async (k, b) => {
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(join(dir, k), b);
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

pinnedReads("memory", async () => {
  const store = memoryStore();
  return { store, multipart: false, rewrite: async (k, b) => void (await store.put(k, b)), close: async () => undefined };
});
