import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { localStore } from "../../src/storage/local.js";
import { readAll } from "../../src/storage/store.js";
import { runStoreConformance } from "./conformance.js";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "smelter-local-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

runStoreConformance("local directory", () => localStore(join(root, "conformance")));

describe("localStore: keys never leave the root", () => {
  const bad = ["../x", "a/../../x", "a/..", "/etc/passwd", "\\x", "C:/x", "a\0b", "", "./a", "a//b", "a/", ".smelter/tmp/x", "..\\x"];
  for (const key of bad) {
    it(`rejects ${JSON.stringify(key)} with a ValidationError`, async () => {
      const s = localStore(join(root, "escape"));
      for (const op of [() => s.get(key), () => s.put(key, new Uint8Array(1)), () => s.delete(key), () => s.head(key)])
        await assert.rejects(op(), (e: Error & { type?: string }) => e.type === "ValidationError" && e.message.includes("invalid key"));
    });
  }
  it("rejects a prefix that climbs out", async () => {
    const s = localStore(join(root, "escape"));
    await assert.rejects(readAll(s.list("../") as AsyncIterable<never>), { type: "ValidationError" });
  });
  it("nothing was written outside the root", async () => {
    assert.deepEqual((await readdir(root)).filter((n) => n !== "conformance" && n !== "escape" && n !== "atomic"), []);
  });
});

describe("localStore: atomic writes", () => {
  it("a reader sees the old object or the new one, never part of one", async () => {
    const s = localStore(join(root, "atomic"));
    const a = Buffer.alloc(4 * 1024 * 1024, 0x61);
    const b = Buffer.alloc(4 * 1024 * 1024, 0x62);
    await s.put("obj", a);
    let reads = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 20; i++) await s.put("obj", i % 2 ? a : b);
      writing = false;
    })();
    while (writing) {
      const got = Buffer.from(await s.get("obj"));
      assert.equal(got.length, a.length);
      assert.ok(got.equals(a) || got.equals(b), "whole old or whole new");
      reads++;
    }
    await writer;
    assert.ok(reads > 0);
  });
  it("a failed stream write leaves no object and no temp file", async () => {
    const dir = join(root, "atomic");
    const s = localStore(dir);
    await assert.rejects(
      s.putStream("broken", (async function* () {
        yield randomBytes(1000);
        throw new Error("source failed");
      })()),
      /source failed/,
    );
    assert.equal(await s.head("broken"), undefined);
    assert.deepEqual(await readdir(join(dir, ".smelter", "tmp")), []);
  });
  it("hides its internal directory from listings and keeps multipart state there", async () => {
    const dir = join(root, "atomic");
    const s = localStore(dir);
    const id = await s.multipart!.create("up.bin");
    await s.multipart!.uploadPart("up.bin", id, 1, new Uint8Array(10));
    const keys = [];
    for await (const o of s.list("")) keys.push(o.key);
    assert.ok(!keys.some((k) => k.startsWith(".smelter")));
    await s.multipart!.abort("up.bin", id);
  });
  it("an upload id that is not one is NoSuchUpload, not a path", async () => {
    const s = localStore(join(root, "atomic"));
    await assert.rejects(s.multipart!.listParts("k", "../../etc"), { type: "NoSuchUpload" });
  });
  it("tolerates a corrupt upload record (validated when read back)", async () => {
    const dir = join(root, "atomic");
    const s = localStore(dir);
    const id = await s.multipart!.create("c.bin");
    await writeFile(join(dir, ".smelter", "multipart", id, "upload.json"), "{not json");
    await assert.rejects(s.multipart!.listParts("c.bin", id), { type: "NoSuchUpload" });
    assert.equal(JSON.stringify(await readFile(join(dir, ".smelter", "multipart", id, "upload.json"), "utf8")), JSON.stringify("{not json"));
  });
  it("an object and a directory of the same name conflict with a clear error", async () => {
    const s = localStore(join(root, "atomic"));
    await s.put("conflict/child", new Uint8Array(1));
    await assert.rejects(s.put("conflict", new Uint8Array(1)), /conflicts with an existing object or directory/);
  });
});

describe("localStore: a PUT killed midway", () => {
  it("leaves its temp file in .smelter/tmp, named after its key; the prefix's cleanup removes it (a chaos CI run found one left), and another prefix's is kept", async () => {
    const { spawn } = await import("node:child_process");
    const { existsSync } = await import("node:fs");
    const { removeTemporaryNow } = await import("../../src/outputs/cleanup.js");
    const root = await mkdtemp(join(tmpdir(), "smelter-local-killed-"));
    try {
      const module = new URL("../../src/storage/local.js", import.meta.url).href;
      // A child that streams a PUT forever, killed with SIGKILL once its temp file exists: no finally runs.
      const script = `const { localStore } = await import(${JSON.stringify(module)}); const s = localStore(${JSON.stringify(root)});
        async function* body() { for (;;) { yield new Uint8Array(1024); await new Promise((r) => setTimeout(r, 20)); } }
        await s.putStream(process.argv[1], body());`;
      const tmp = join(root, ".smelter", "tmp");
      for (const key of ["jobs/j1/s1/t0.seg", "jobs/j2/s1/t0.seg"]) {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script, key], { stdio: "ignore" });
        const before = existsSync(tmp) ? (await readdir(tmp)).length : 0;
        for (let i = 0; i < 200 && (existsSync(tmp) ? (await readdir(tmp)).length : 0) === before; i++) await new Promise((r) => setTimeout(r, 25));
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
      }
      assert.equal((await readdir(tmp)).length, 2, "each killed PUT left its temp file");
      await removeTemporaryNow({ kind: "prefix", store: `file://${root}/`, prefix: "jobs/j1/" });
      assert.deepEqual((await readdir(tmp)).map((n) => decodeURIComponent(n.slice(0, n.lastIndexOf("~")))), ["jobs/j2/s1/t0.seg"], "the other job's write is not touched");
      await removeTemporaryNow({ kind: "prefix", store: `file://${root}/`, prefix: "jobs/j2/" });
      assert.equal(existsSync(join(root, ".smelter")), false, "the store's internal folder is gone");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
