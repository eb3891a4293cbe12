/**
 * A local store's file-system failures in Smelter's words: a root under a file (ENOTDIR), a root
 * that cannot be created (ENOENT under /proc), a full disk (ENOSPC): each names the path, says
 * what the errno means and what to do, and is not retried.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { fileSystemError } from "../../src/storage/errors.js";
import { localStore } from "../../src/storage/local.js";
import { makeUservisits } from "../helpers/uservisits.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

describe("local store: file-system errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "smelter-local-errors-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a root under a file: ENOTDIR explained, not retried", async () => {
    writeFileSync(join(dir, "a-file"), "x");
    const root = join(dir, "a-file", "out");
    await assert.rejects(localStore(root).put("r.csv", new Uint8Array([1])), (e: Error & { nonRetryable?: boolean }) => {
      assert.match(e.message, /^\[smelter\] \[file\] cannot use the directory .*a-file\/out as a store .*: a part of the path is a file, not a directory \(ENOTDIR\): pick a path/);
      assert.equal(e.nonRetryable, true);
      return true;
    });
  });

  test("a root that cannot be created (/proc/nope): ENOENT explained", async () => {
    await assert.rejects(localStore("/proc/nope").put("r.csv", new Uint8Array([1])), /cannot use the directory \/proc\/nope as a store .*: a parent directory does not exist and cannot be created there \(ENOENT\)/);
  });

  test("a full disk, a read-only file system and an unknown code", () => {
    const full = fileSystemError(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }), "write", '"k" in file:///d/');
    assert.match(full.message, /cannot write "k" in file:\/\/\/d\/: the disk is full \(ENOSPC\): free some space or write to another disk/);
    assert.equal(full.nonRetryable, true);
    assert.match(fileSystemError(Object.assign(new Error("x"), { code: "EROFS" }), "write", "p").message, /read-only/);
    assert.match(fileSystemError(Object.assign(new Error("odd failure"), { code: "EWHAT" }), "write", "p").message, /cannot write p: odd failure/);
  });

  for (const [out, reason] of [
    // Checked before the job (outputs/local-target.ts) or, past that, by the local store (storage/errors.ts).
    ["/proc/nope/r.csv", /directory \/proc\/nope does not exist|a parent directory does not exist and cannot be created there \(ENOENT\)/],
    ["/etc/passwd/r.csv", /\/etc\/passwd is not a directory|a part of the path is a file, not a directory \(ENOTDIR\)/],
  ] as const) {
    test(`smelter query2 --output ${out}: ends in a clear error: no spin (Node's recursive mkdir loops under /proc), no raw errno`, async () => {
      const data = await makeUservisits(2000, 1);
      const r = spawnSync(process.execPath, [bin, "query2", "--input", data.csv, "--output", out, "--backend", "threads", "--workers", "2"], { encoding: "utf8", timeout: 60_000 });
      rmSync(data.dir, { recursive: true, force: true });
      assert.equal(r.signal, null, "it ended by itself");
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /\[smelter\] /);
      assert.match(r.stderr, reason);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    });
  }
});
