/** The maps' S3 read-ahead is sized by the worker's memory: a small Lambda must not hold 96 MiB of blocks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readAheadFor } from "../../src/mapreduce/split-reads.js";

const MiB = 1024 * 1024;
const inFlight = (memory: number) => {
  const r = readAheadFor(memory);
  return (1 + r.ahead) * r.blockSize;
};

describe("readAheadFor", () => {
  it("a large worker reads 32 MiB blocks, two ahead", () => {
    assert.deepEqual(readAheadFor(24 * 1024 * MiB), { blockSize: 32 * MiB, ahead: 2 });
    assert.deepEqual(readAheadFor(2048 * MiB), { blockSize: 32 * MiB, ahead: 2 });
  });

  it("keeps at most about 1/16 of memory in flight from 512 MiB up", () => {
    for (const mb of [512, 768, 1024, 1536, 1769, 3008, 10240]) {
      assert.ok(inFlight(mb * MiB) <= (mb * MiB) / 16 + 1, `${mb} MB: ${inFlight(mb * MiB) / MiB} MiB in flight`);
    }
  });

  it("under 512 MiB (a 128-256 MB Lambda): 8 MiB reads one after another, nothing ahead", () => {
    assert.deepEqual(readAheadFor(128 * MiB), { blockSize: 8 * MiB, ahead: 0 });
    assert.deepEqual(readAheadFor(256 * MiB), { blockSize: 8 * MiB, ahead: 0 });
  });

  it("a block never shrinks below one parse chunk (8 MiB): reads inside a block stay views", () => {
    for (const mb of [64, 128, 300, 512, 600]) assert.ok(readAheadFor(mb * MiB).blockSize >= 8 * MiB);
  });
});
