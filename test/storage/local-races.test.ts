/**
 * The local directory store under a PUT racing a DELETE in the same "folder": the DELETE of the
 * last object there removes the emptied directory (S3 has no folders, so none are left behind),
 * which the PUT had just made for its rename. Seen in a full run on Node 24: a speculative map
 * attempt's segment write failed NotFound while the failed attempt's segment beside it was
 * deleted, and the job failed. The same for the store's own .smelter/tmp, which a job's end removes
 * when empty (CI: a differential case's PUT found it gone). A temp file that vanished is not
 * retried. Bounded: 400 rounds of each, in a temp dir.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { localFileWriter, localStore, removeEmptyInternalDir } from "../../src/storage/local.js";

describe("the local store under racing PUTs and DELETEs", () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-local-races-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("every PUT lands whole while DELETEs empty and remove the same folder", async () => {
    const store = localStore(dir);
    for (let round = 0; round < 400; round++) {
      const folder = `jobs/j${round % 7}/s01`;
      await store.put(`${folder}/old.seg`, Buffer.from("old"));
      const body = Buffer.alloc(1024 + round, round % 251);
      // The DELETE removes <folder>/ (its last object) while the PUT's rename needs it.
      await Promise.all([store.put(`${folder}/new.seg`, body), store.delete(`${folder}/old.seg`)]);
      assert.deepEqual(Buffer.from(await store.get(`${folder}/new.seg`)), body, `round ${round}`);
      await store.delete(`${folder}/new.seg`);
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n !== ".smelter"), [], "no folder left behind");
  });

  it("a temp file that vanished before its rename fails at once, saying so, and leaves nothing behind", async () => {
    const root = join(dir, "vanished");
    const store = localStore(root);
    const writer = localFileWriter(store)!;
    await assert.rejects(
      writer.put("deep/er/k", async (tmp) => rm(tmp)),
      (e: Error & { nonRetryable?: boolean }) => {
        assert.match(e.message, /^\[smelter\] \[file\] cannot write "deep\/er\/k" in file:.*: its temp file .*\.smelter\/tmp\/.* vanished before it was renamed into place/);
        assert.equal(e.nonRetryable, false, "a new PUT gets a new temp file");
        return true;
      },
    );
    assert.equal(await store.head("deep/er/k"), undefined);
    assert.deepEqual(readdirSync(root).filter((n) => n !== ".smelter"), [], "no folder made for the rename is left");
    // The same writer still writes, over the empty temp file its creation left (as DuckDB's COPY does).
    await writer.put("deep/er/k", async (tmp) => writeFile(tmp, "after"));
    assert.equal(Buffer.from(await store.get("deep/er/k")).toString(), "after");
    assert.deepEqual(readdirSync(join(root, ".smelter", "tmp")), []);
  });

  it("every PUT lands while the emptied .smelter/ is removed beside it", async () => {
    const store = localStore(join(dir, "internal"));
    for (let round = 0; round < 400; round++) {
      const body = Buffer.alloc(512 + round, round % 251);
      await Promise.all([store.put(`k${round % 3}`, body), removeEmptyInternalDir(store)]);
      assert.deepEqual(Buffer.from(await store.get(`k${round % 3}`)), body, `round ${round}`);
    }
  });
});
