/**
 * The default bytes of a map task (src/mapreduce/inputs.ts defaultTaskBytes): whole objects when
 * there are at least two per worker and none is too large (1 GiB for local files, read in place;
 * 128 MiB elsewhere, where smaller objects are still packed to the range size), else 4-64 MiB
 * ranges, at least two tasks per worker.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultTaskBytes } from "../../src/mapreduce/inputs.js";

const MiB = 1024 * 1024;

describe("defaultTaskBytes", () => {
  test("8 objects of 100 MiB on 2 workers: a whole object per task, local or remote", () => {
    assert.equal(defaultTaskBytes(800 * MiB, 2, { count: 8, largest: 100 * MiB, local: true }), 100 * MiB);
    assert.equal(defaultTaskBytes(800 * MiB, 2, { count: 8, largest: 100 * MiB, local: false }), 100 * MiB);
  });

  test("objects over the cap are cut: 200 MiB is whole only for local files, 2 GiB never", () => {
    assert.equal(defaultTaskBytes(1600 * MiB, 2, { count: 8, largest: 200 * MiB, local: true }), 200 * MiB);
    assert.equal(defaultTaskBytes(1600 * MiB, 2, { count: 8, largest: 200 * MiB, local: false }), 64 * MiB);
    assert.equal(defaultTaskBytes(16 * 1024 * MiB, 2, { count: 8, largest: 2048 * MiB, local: true }), 64 * MiB);
  });

  test("fewer than two objects per worker: ranges, at least two tasks per worker, 4-64 MiB", () => {
    assert.equal(defaultTaskBytes(300 * MiB, 2, { count: 3, largest: 100 * MiB, local: false }), 64 * MiB);
    assert.equal(defaultTaskBytes(100 * MiB, 2, { count: 3, largest: 40 * MiB, local: true }), 25 * MiB);
    assert.equal(defaultTaskBytes(1 * MiB, 2, { count: 1, largest: 1 * MiB, local: false }), 4 * MiB);
    assert.equal(defaultTaskBytes(100 * MiB, 2), 25 * MiB);
  });

  test("small remote objects are packed to the range size; tasks are at least 4 MiB", () => {
    // Query 2's Parquet at 5M rows: 8 objects of 31 MiB, 251 MiB in all: two objects a task.
    assert.equal(defaultTaskBytes(251 * MiB, 2, { count: 8, largest: 31 * MiB, local: false }), Math.round((251 * MiB) / 4));
    assert.equal(defaultTaskBytes(251 * MiB, 2, { count: 8, largest: 31 * MiB, local: true }), 31 * MiB);
    assert.equal(defaultTaskBytes(10 * MiB, 2, { count: 10, largest: MiB, local: false }), 4 * MiB);
    assert.equal(defaultTaskBytes(10 * MiB, 2, { count: 10, largest: MiB, local: true }), 4 * MiB);
  });
});
