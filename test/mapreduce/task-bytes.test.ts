/**
 * The default bytes of a map task (src/mapreduce/inputs.ts defaultTaskBytes): whole objects when
 * there are at least two per worker and none is too large (1 GiB for local files, read in place
 * and packed about two tasks per worker; 128 MiB elsewhere, packed likewise up to 256 MiB a task,
 * and never below the range size), else 4-64 MiB ranges, at least two tasks per worker.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultTaskBytes } from "../../src/mapreduce/inputs.js";

const MiB = 1024 * 1024;

describe("defaultTaskBytes", () => {
  test("8 objects of 100 MiB on 2 workers: two whole objects per task, local or remote", () => {
    assert.equal(defaultTaskBytes(800 * MiB, 2, { count: 8, largest: 100 * MiB, local: true }), 200 * MiB);
    assert.equal(defaultTaskBytes(800 * MiB, 2, { count: 8, largest: 100 * MiB, local: false }), 200 * MiB);
  });

  test("remote objects: about two tasks per worker, a task at most 256 MiB (Lambda's /tmp) unless one object is larger", () => {
    assert.equal(defaultTaskBytes(100 * 1024 * MiB, 2, { count: 1000, largest: 100 * MiB, local: false }), 256 * MiB); // two objects a task
    assert.equal(defaultTaskBytes(100 * 1024 * MiB, 200, { count: 1000, largest: 100 * MiB, local: false }), 200 * MiB); // 200 Lambdas: 2.5 per worker
    assert.equal(defaultTaskBytes(400 * MiB, 2, { count: 4, largest: 100 * MiB, local: false }), 100 * MiB); // exactly two per worker: one each
    assert.equal(defaultTaskBytes(1200 * MiB, 2, { count: 12, largest: 120 * MiB, local: false }), 256 * MiB); // three would pass the cap: two a task
    assert.equal(defaultTaskBytes(1280 * MiB, 2, { count: 10, largest: 128 * MiB, local: false }), 256 * MiB);
  });

  test("local files: about two tasks per worker, a task at most 1 GiB unless one file is larger", () => {
    assert.equal(defaultTaskBytes(900 * MiB, 2, { count: 9, largest: 100 * MiB, local: true }), 200 * MiB); // 5 tasks: 2, 2, 2, 2, 1
    assert.equal(defaultTaskBytes(400 * MiB, 2, { count: 4, largest: 100 * MiB, local: true }), 100 * MiB); // exactly two per worker: one each
    assert.equal(defaultTaskBytes(100 * 1024 * MiB, 2, { count: 1000, largest: 100 * MiB, local: true }), 1024 * MiB);
    assert.equal(defaultTaskBytes(8 * 1024 * MiB, 2, { count: 8, largest: 1024 * MiB, local: true }), 1024 * MiB);
    assert.equal(defaultTaskBytes(8 * 1024 * MiB, 16, { count: 8, largest: 1024 * MiB, local: true }), Math.round(Math.min(64 * MiB, (8 * 1024 * MiB) / 32)));
  });

  test("objects over the cap are cut: 200 MiB is whole only for local files, 2 GiB never", () => {
    assert.equal(defaultTaskBytes(1600 * MiB, 2, { count: 8, largest: 200 * MiB, local: true }), 400 * MiB);
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
    assert.equal(defaultTaskBytes(251 * MiB, 2, { count: 8, largest: 31 * MiB, local: true }), 62 * MiB);
    assert.equal(defaultTaskBytes(10 * MiB, 2, { count: 10, largest: MiB, local: false }), 4 * MiB);
    assert.equal(defaultTaskBytes(10 * MiB, 2, { count: 10, largest: MiB, local: true }), 4 * MiB);
  });
});
