/**
 * DuckDB failures get a hint that fits the error: a full disk and memory are the worker's (no
 * "--schema" hint, retryable), a conversion error is the input's (--schema hint, final). Real
 * DuckDB errors: /dev/full for ENOSPC, a 1 MB memory limit, a CSV with a letter in a number column.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { duckdbFailure } from "../../src/builtin-workers/task-util.js";
import { openDuckDb } from "../../src/duckdb/index.js";

async function duckError(sql: string, setup: string[] = []): Promise<unknown> {
  const db = await openDuckDb({ threads: 1 });
  try {
    for (const s of setup) await db.run(s);
    await db.run(sql);
  } catch (err) {
    return err;
  } finally {
    db.close();
  }
  assert.fail(`no error from ${sql}`);
}

describe("duckdbFailure", () => {
  test("a full disk (writing to /dev/full): DiskFull, retryable, no --schema hint", async () => {
    const f = duckdbFailure(await duckError("COPY (SELECT range AS x FROM range(100000)) TO '/dev/full' (FORMAT csv)"));
    assert.equal(f.type, "DiskFull");
    assert.equal(f.nonRetryable, false);
    assert.doesNotMatch(f.hint, /--schema/);
    assert.match(f.hint, /disk is full/);
  });

  test("out of memory: OutOfMemory, retryable, no --schema hint", async () => {
    const f = duckdbFailure(await duckError("SELECT list(range) FROM range(10000000)", ["SET memory_limit = '2MB'", "SET temp_directory = ''"]));
    assert.equal(f.type, "OutOfMemory");
    assert.equal(f.nonRetryable, false);
    assert.doesNotMatch(f.hint, /--schema/);
  });

  test("a bad value in a typed CSV column: InputError with the --schema hint, final", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smelter-duckfail-"));
    const file = join(dir, "bad.csv");
    writeFileSync(file, "a\n1\nx\n");
    try {
      const f = duckdbFailure(await duckError(`SELECT * FROM read_csv('${file}', header = true, columns = {'a': 'INTEGER'})`));
      assert.equal(f.type, "InputError");
      assert.equal(f.nonRetryable, true);
      assert.match(f.hint, /--schema/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
