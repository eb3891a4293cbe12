import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { discoverSplits, listSplits } from "../../src/splits/discover.js";
import { globToRegExp, parseKeyPattern } from "../../src/splits/glob.js";
import { detectFormat, splitSchema } from "../../src/splits/split.js";
import type { ObjectInfo, ObjectStore } from "../../src/storage/contract.js";
import { memoryStore } from "../../src/storage/memory.js";

/** Wraps a store so listing is slow and observable: one page per `delayMs`, a log of pages served. */
function slowListing(store: ObjectStore, delayMs: number, log: string[]): ObjectStore {
  return {
    ...store,
    async *listPages(prefix: string, options?: { signal?: AbortSignal; pageSize?: number }): AsyncIterable<ObjectInfo[]> {
      for await (const page of store.listPages(prefix, options)) {
        await sleep(delayMs);
        log.push(`page ${page.length}`);
        yield page;
      }
      log.push("listing done");
    },
  };
}

async function fill(name: string, files: number, size: number): Promise<ObjectStore> {
  const store = memoryStore(name);
  const line = "x".repeat(size - 1) + "\n";
  for (let i = 0; i < files; i++) await store.put(`data/part-${String(i).padStart(5, "0")}`, Buffer.from(line));
  return store;
}

describe("discoverSplits", () => {
  it("yields splits while the listing still runs", async () => {
    const log: string[] = [];
    const store = slowListing(await fill("discover-stream", 50, 100), 20, log);
    const source = discoverSplits(store, "data/", { pageSize: 5 });
    const first = await source.nextBatch(10);
    assert.ok(first && first.length > 0);
    assert.ok(!log.includes("listing done"), "the first split came before the listing finished");
    assert.equal(source.stats.listingDone, false);
    let n = first.length;
    for await (const _ of source) n++;
    assert.equal(n, 50);
    assert.equal(source.stats.listingDone, true);
    assert.equal(source.stats.files, 50);
  });

  it("pauses the listing when nobody pulls and the queue is full (back-pressure)", async () => {
    const log: string[] = [];
    const store = slowListing(await fill("discover-backpressure", 100, 10), 1, log);
    const source = discoverSplits(store, "data/", { pageSize: 5, queueCapacity: 10 });
    await sleep(50);
    assert.equal(log.length, 0, "nothing is listed before the first pull");
    await source.nextBatch(1);
    await sleep(200);
    const pagesWhilePaused = log.length;
    assert.ok(pagesWhilePaused <= 4, `listing should wait for the consumer, but served ${pagesWhilePaused} pages`);
    assert.ok(source.stats.splits <= 12);
    await sleep(100);
    assert.equal(log.length, pagesWhilePaused, "still paused");
    const rest = [];
    for await (const s of source) rest.push(s);
    assert.equal(rest.length, 99);
    assert.ok(log.includes("listing done"));
  });

  it("stops listing when the consumer leaves early", async () => {
    const log: string[] = [];
    const store = slowListing(await fill("discover-close", 100, 10), 1, log);
    for await (const _ of discoverSplits(store, "data/", { pageSize: 5, queueCapacity: 5 })) break;
    await sleep(100);
    assert.ok(!log.includes("listing done"));
    assert.ok(log.length <= 3);
  });

  it("cuts CSV objects into ranges of the target size and keeps compressed objects whole", async () => {
    const store = memoryStore("discover-cut");
    await store.put("in/a.csv", new Uint8Array(1000));
    await store.put("in/b.csv.gz", new Uint8Array(1000));
    await store.put("in/c.ndjson", new Uint8Array(250));
    await store.put("in/d.deflate", new Uint8Array(500));
    await store.put("in/_SUCCESS", new Uint8Array(0));
    await store.put("in/.part.crc", new Uint8Array(8));
    await store.put("in/empty.csv", new Uint8Array(0));
    const splits = await listSplits(store, "in/", { targetSplitBytes: 300 });
    for (const s of splits) splitSchema.parse(JSON.parse(JSON.stringify(s)));
    const byKey = (k: string) => splits.filter((s) => s.key === k);
    assert.deepEqual(byKey("in/a.csv").map((s) => [s.range.start, s.range.end]), [[0, 250], [250, 500], [500, 750], [750, 1000]]);
    assert.deepEqual(byKey("in/b.csv.gz").map((s) => [s.format, s.compression, s.range.end]), [["csv", "gzip", 1000]]);
    assert.deepEqual(byKey("in/c.ndjson").map((s) => s.format), ["ndjson"]);
    assert.deepEqual(byKey("in/d.deflate").map((s) => [s.format, s.compression]), [["csv", "deflate"]]);
    assert.equal(splits.length, 7);
  });

  it("matches globs and prefixes", async () => {
    const store = memoryStore("discover-glob");
    for (const k of ["data/part-00000", "data/part-00001", "data/x.csv", "data/sub/y.csv", "database/z.csv", "top.csv"]) await store.put(k, new Uint8Array(10));
    const keys = async (p: string) => (await listSplits(store, p)).map((s) => s.key).sort();
    assert.deepEqual(await keys("data/part-*"), ["data/part-00000", "data/part-00001"]);
    assert.deepEqual(await keys("**/*.csv"), ["data/sub/y.csv", "data/x.csv", "database/z.csv", "top.csv"]);
    assert.deepEqual(await keys("data/*.csv"), ["data/x.csv"]);
    assert.deepEqual(await keys("data"), ["data/part-00000", "data/part-00001", "data/sub/y.csv", "data/x.csv"]);
    assert.deepEqual(await keys("data/x.csv"), ["data/x.csv"]);
    assert.deepEqual(await keys("data/part-0000[1-9]"), ["data/part-00001"]);
    assert.deepEqual(await keys("data/{x,sub/y}.csv"), ["data/sub/y.csv", "data/x.csv"]);
    assert.equal(parseKeyPattern("data/part-*").listPrefix, "data/part-");
    assert.ok(globToRegExp("a/**/b").test("a/b") && globToRegExp("a/**/b").test("a/x/y/b"));
  });

  it("detects formats from extensions; no extension is CSV", () => {
    assert.deepEqual(detectFormat("uservisits/part-00000"), { format: "csv" });
    assert.deepEqual(detectFormat("x/y.parquet"), { format: "parquet" });
    assert.deepEqual(detectFormat("x/y.jsonl.zst"), { format: "ndjson", compression: "zstd" });
    assert.deepEqual(detectFormat("x.v1/part-1.gz"), { format: "csv", compression: "gzip" });
  });

  it("rejects bad options with a message that says what is wrong", () => {
    const store = memoryStore("discover-options");
    assert.throws(() => discoverSplits(store, "x", { targetSplitBytes: 0 }), /targetSplitBytes/);
    assert.throws(() => discoverSplits(store, "x", { format: "xml" as never }), /format/);
  });

  it("passes a listing failure to the consumer", async () => {
    const store = memoryStore("discover-fail");
    const broken: ObjectStore = {
      ...store,
      // eslint-disable-next-line require-yield
      async *listPages(): AsyncIterable<ObjectInfo[]> {
        throw new Error("connection reset");
      },
    };
    await assert.rejects(listSplits(broken, "data/"), /split discovery of "data\/" in memory:\/\/discover-fail failed: connection reset/);
  });
});
