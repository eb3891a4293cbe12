/**
 * defineStore's derived methods: a driver with only the required methods (and one with
 * multipart but no putStream) must still pass the whole conformance suite.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { ObjectStore, StoreDriver } from "../../src/storage/contract.js";
import { memoryStore } from "../../src/storage/memory.js";
import { defineStore, readAll } from "../../src/storage/store.js";
import { runStoreConformance } from "./conformance.js";

/** Only what a driver must implement, on top of a real memory store. */
function bare(inner: ObjectStore, withMultipart: boolean): StoreDriver & { gets: number } {
  const driver = {
    kind: "bare",
    url: `bare+${inner.url}`,
    gets: 0,
    listPages: (prefix: string, o?: { pageSize?: number }) => inner.listPages(prefix, o),
    get: (key: string, o?: Parameters<ObjectStore["get"]>[1]) => {
      driver.gets++;
      return inner.get(key, o);
    },
    put: (key: string, body: Uint8Array) => inner.put(key, body),
    delete: (key: string) => inner.delete(key),
    ...(withMultipart ? { multipart: inner.multipart } : {}),
  };
  return driver;
}
const fresh = () => memoryStore(`derived-${randomBytes(4).toString("hex")}`);

runStoreConformance("derived methods (required methods only)", () => defineStore(bare(fresh(), false)), {
  lacks: Object.fromEntries(["multipart", "abort", "listParts", "listUploads", "contentMd5Check", "minPartSize", "partEtagCheck"].map((k) => [k, "this driver has no multipart"])),
});
runStoreConformance("derived methods (multipart, no putStream/head/getStream)", () => defineStore(bare(fresh(), true), { putPartSize: 5 * 1024 * 1024 }));

describe("defineStore", () => {
  it("getStream without a driver getStream reads in ranged chunks", async () => {
    const inner = fresh();
    const data = randomBytes(2500);
    await inner.put("k", data);
    const d = bare(inner, false);
    const store = defineStore(d, { streamChunkSize: 1000 });
    const chunks: number[] = [];
    for await (const c of store.getStream("k")) chunks.push(c.byteLength);
    assert.deepEqual(chunks, [1000, 1000, 500]);
    assert.equal(d.gets, 3);
  });

  it("putStream aborts its multipart upload when the source fails", async () => {
    const inner = fresh();
    const store = defineStore(bare(inner, true));
    await assert.rejects(
      store.putStream("k", (async function* () {
        yield randomBytes(9 * 1024 * 1024);
        throw new Error("source broke");
      })()),
      /source broke/,
    );
    assert.deepEqual(await inner.multipart!.listUploads(""), []);
    assert.equal(await store.head("k"), undefined);
  });

  it("readAll joins a stream", async () => {
    assert.deepEqual([...(await readAll((async function* () {
      yield new Uint8Array([1]);
      yield new Uint8Array([2, 3]);
    })()))], [1, 2, 3]);
  });
});
