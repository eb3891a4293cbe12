/**
 * Keys cannot escape a local store's root: `..`, absolute paths, and symbolic links inside the
 * root that lead out (to a file, to a directory), for every operation that takes a key, and a link
 * leading out is not listed. A link that stays inside the root still works.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ValidationError } from "../../src/job/errors.js";
import { localStore } from "../../src/storage/local.js";

describe("a local store's root cannot be left", () => {
  let base: string;
  let root: string;
  let outside: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), "smelter-sec-root-"));
    root = join(base, "root");
    outside = join(base, "outside");
    mkdirSync(join(root, "in"), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, "secret.txt"), "outside the root\n");
    writeFileSync(join(root, "in", "ok.txt"), "inside\n");
    symlinkSync(outside, join(root, "dirlink"));
    symlinkSync(join(outside, "secret.txt"), join(root, "filelink.txt"));
    symlinkSync(join(root, "in"), join(root, "innerlink"));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const refused = (err: unknown) => err instanceof ValidationError && /^\[smelter\] \[file\] invalid key/.test(err.message);

  test("names that leave the root: .., absolute paths, NUL", async () => {
    const store = localStore(root);
    for (const key of ["../outside/secret.txt", "in/../../outside/secret.txt", `${outside}/secret.txt`, "/etc/passwd", "in/\0x", "..\\outside\\secret.txt"]) {
      await assert.rejects(store.get(key), refused, `get ${JSON.stringify(key)}`);
      await assert.rejects(store.put(key, new TextEncoder().encode("x")), refused, `put ${JSON.stringify(key)}`);
    }
    assert.equal(readFileSync(join(outside, "secret.txt"), "utf8"), "outside the root\n");
  });

  test("symbolic links leading out: refused for get, getStream, head, put, delete", async () => {
    const store = localStore(root);
    for (const key of ["filelink.txt", "dirlink/secret.txt"]) {
      await assert.rejects(store.get(key), (err: unknown) => refused(err) && /through a symbolic link/.test((err as Error).message), `get ${key}`);
      await assert.rejects(
        (async () => {
          for await (const _ of store.getStream(key)) void _;
        })(),
        refused,
        `getStream ${key}`,
      );
      await assert.rejects(store.head(key), refused, `head ${key}`);
      await assert.rejects(store.delete(key), refused, `delete ${key}`);
    }
    await assert.rejects(store.put("dirlink/new.txt", new TextEncoder().encode("x")), refused, "put through a directory link");
    await assert.rejects(store.put("dirlink/secret.txt", new TextEncoder().encode("overwritten")), refused, "overwrite through a directory link");
    assert.equal(existsSync(join(outside, "new.txt")), false, "nothing written outside");
    assert.equal(readFileSync(join(outside, "secret.txt"), "utf8"), "outside the root\n", "nothing overwritten outside");
    assert.ok(existsSync(join(outside, "secret.txt")), "nothing deleted outside");
  });

  test("a link leading out is not listed; a link inside the root is", async () => {
    const store = localStore(root);
    const keys = [];
    for await (const o of store.list("")) keys.push(o.key);
    assert.deepEqual(keys.sort(), ["in/ok.txt", "innerlink/ok.txt"]);
    assert.equal(new TextDecoder().decode(await store.get("innerlink/ok.txt")), "inside\n");
  });
});
