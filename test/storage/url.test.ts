import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, parseStoreUrl } from "../../src/storage/url.js";

describe("parseStoreUrl", () => {
  it("s3://bucket/prefix", () => {
    assert.deepEqual(parseStoreUrl("s3://my-bucket/data/2024/"), { scheme: "s3", bucket: "my-bucket", key: "data/2024/" });
    assert.deepEqual(parseStoreUrl("s3://my-bucket"), { scheme: "s3", bucket: "my-bucket", key: "" });
  });
  it("memory://name/prefix", () => {
    assert.deepEqual(parseStoreUrl("memory://scratch/a/b"), { scheme: "memory", name: "scratch", key: "a/b" });
  });
  it("file URLs and plain paths", () => {
    assert.deepEqual(parseStoreUrl("file:///data/in/"), { scheme: "file", path: "/data/in", trailingSlash: true });
    assert.equal((parseStoreUrl("rel/dir") as { path: string }).path, join(process.cwd(), "rel/dir"));
  });
  it("an unknown scheme says which ones work", () => {
    assert.throws(() => parseStoreUrl("gs://bucket/x"), (e: Error & { type?: string }) => e.type === "ConfigError" && /unsupported store URL scheme "gs:\/\/".*s3:\/\/bucket\/prefix/.test(e.message));
  });
  it("a bad bucket name is refused", () => {
    assert.throws(() => parseStoreUrl("s3://B/x"), { type: "ConfigError" });
    assert.throws(() => parseStoreUrl("s3:///x"), { type: "ConfigError" });
  });
});

describe("openStore", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-url-"));
    await mkdir(join(dir, "sub"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("a directory is the store; a file or name prefix is a key in its parent", async () => {
    const a = await openStore(join(dir, "sub"));
    assert.deepEqual([a.store.url, a.key], [`file://${join(dir, "sub")}/`, ""]);
    const b = await openStore(`file://${join(dir, "sub", "part-")}`);
    assert.deepEqual([b.store.url, b.key], [`file://${join(dir, "sub")}/`, "part-"]);
    await b.store.put("part-1", new Uint8Array([7]));
    const keys = [];
    for await (const o of b.store.list(b.key)) keys.push(o.key);
    assert.deepEqual(keys, ["part-1"]);
  });

  it("a glob with a wildcard in a directory segment is rooted before it, the rest its key (was a store rooted at a directory named '**': no objects)", async () => {
    await mkdir(join(dir, "nest", "a", "b"), { recursive: true });
    await mkdir(join(dir, "nest", "c"), { recursive: true });
    const root = (await openStore(join(dir, "nest"))).store;
    for (const f of ["a/b/x.csv", "c/y.csv", "z.csv"]) await root.put(f, new TextEncoder().encode("a\n1\n"));
    const deep = await openStore(join(dir, "nest", "**", "*.csv"));
    assert.deepEqual([deep.store.url, deep.key], [`file://${join(dir, "nest")}/`, "**/*.csv"]);
    const { listInput } = await import("../../src/splits/listing.js");
    assert.deepEqual((await listInput(deep.store, deep.key)).splits.map((s) => s.key).sort(), ["a/b/x.csv", "c/y.csv", "z.csv"]);
    const one = await openStore(join(dir, "nest", "*", "*.csv"));
    assert.deepEqual((await listInput(one.store, one.key)).splits.map((s) => s.key), ["c/y.csv"]);
    // A character class or braces in a directory segment are wildcards too (found no objects).
    for (const glob of [join(dir, "nest", "[ac]", "*.csv"), join(dir, "nest", "{a,c}", "*.csv")]) {
      const g = await openStore(glob);
      assert.deepEqual([g.store.url, (await listInput(g.store, g.key)).splits.map((s) => s.key)], [`file://${join(dir, "nest")}/`, ["c/y.csv"]], glob);
    }
  });

  it("memory:// names a process-local store and a key", async () => {
    const { store, key } = await openStore("memory://url-test/x/y");
    assert.deepEqual([store.kind, store.url, key], ["memory", "memory://url-test", "x/y"]);
  });

  it("s3:// loads the S3 adapter only then, rooted at the bucket", async () => {
    const { store, key } = await openStore("s3://some-bucket/in/", { s3: { endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "a", secretAccessKey: "b" } } });
    assert.deepEqual([store.kind, store.url, key], ["s3", "s3://some-bucket", "in/"]);
    await store.close();
  });
});
