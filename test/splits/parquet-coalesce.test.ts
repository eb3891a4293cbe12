/**
 * Column chunk ranges merged into few GETs (coalesceRanges), and a Parquet footer read whose
 * bytes come back whole (`tail`) so a caller never reads them again.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDuckDb, sqlString } from "../../src/duckdb/index.js";
import { coalesceRanges, readParquetFooter } from "../../src/splits/parquet.js";
import type { ObjectStore, ReadOptions } from "../../src/storage/contract.js";
import { memoryStore } from "../../src/storage/memory.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const r = (start: number, end: number) => ({ start, end });

describe("coalesceRanges", () => {
  const limits = { maxGap: 1 * MiB, maxBytes: 8 * MiB };

  it("merges ranges less than maxGap apart, keeps the others apart, and lists the wanted parts of each read", () => {
    const reads = coalesceRanges([r(4, 100), r(100 + MiB - 1, 2 * MiB), r(3 * MiB, 3 * MiB + 10)], limits);
    assert.deepEqual(reads, [
      { start: 4, end: 2 * MiB, parts: [r(4, 100), r(100 + MiB - 1, 2 * MiB)] },
      { start: 3 * MiB, end: 3 * MiB + 10, parts: [r(3 * MiB, 3 * MiB + 10)] },
    ]);
  });

  it("a gap of exactly maxGap is not merged; one byte less is", () => {
    assert.equal(coalesceRanges([r(0, 10), r(10 + MiB, 20 + MiB)], limits).length, 2);
    assert.equal(coalesceRanges([r(0, 10), r(10 + MiB - 1, 20 + MiB)], limits).length, 1);
  });

  it("sorts, joins overlapping and touching ranges, and drops empty ones", () => {
    const reads = coalesceRanges([r(500, 600), r(50, 60), r(55, 70), r(70, 80), r(90, 90)], { maxGap: 0, maxBytes: MiB });
    assert.deepEqual(reads, [
      { start: 50, end: 80, parts: [r(50, 80)] },
      { start: 500, end: 600, parts: [r(500, 600)] },
    ]);
    assert.deepEqual(coalesceRanges([], limits), []);
  });

  it("never makes a read longer than maxBytes: a long range is cut, merging stops at the cap", () => {
    const reads = coalesceRanges([r(0, 20 * MiB), r(20 * MiB + 100, 21 * MiB), r(21 * MiB + 10, 29 * MiB)], limits);
    for (const read of reads) assert.ok(read.end - read.start <= limits.maxBytes, `read ${read.start}-${read.end}`);
    assert.deepEqual(
      reads.map((x) => [x.start, x.end]),
      [
        [0, 8 * MiB],
        [8 * MiB, 16 * MiB],
        [16 * MiB, 21 * MiB], // the cut range's last 4 MiB and the next range, 100 bytes on
        [21 * MiB + 10, 29 * MiB], // would make 13 MiB with the read before: a read of its own
      ],
    );
    // Every wanted byte is in exactly one part, and parts lie inside their read.
    const wanted = reads.flatMap((x) => x.parts.map((p) => (assert.ok(p.start >= x.start && p.end <= x.end), p.end - p.start)));
    assert.equal(
      wanted.reduce((a, b) => a + b, 0),
      20 * MiB + (MiB - 100) + (8 * MiB - 10),
    );
  });

  it("refuses limits that cannot make progress", () => {
    assert.throws(() => coalesceRanges([r(0, 1)], { maxGap: 0, maxBytes: 0 }), /maxBytes must be >= 1/);
  });
});

/** A store whose ranged GETs are recorded. */
function counting(store: ObjectStore): { store: ObjectStore; gets: { start: number; end: number }[] } {
  const gets: { start: number; end: number }[] = [];
  const get = async (key: string, options?: ReadOptions) => {
    const data = await store.get(key, options);
    const start = options?.range?.start ?? 0;
    gets.push({ start, end: start + data.byteLength });
    return data;
  };
  return { gets, store: { ...store, get } };
}

describe("readParquetFooter's bytes", () => {
  let file = new Uint8Array(0);
  let dir = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-pq-tail-"));
    const path = join(dir, "t.parquet");
    const db = await openDuckDb({ threads: 1 });
    try {
      await db.run(`COPY (SELECT i AS id, md5(i::VARCHAR) AS h FROM range(20000) t(i)) TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE 4096)`);
    } finally {
      db.close();
    }
    file = new Uint8Array(await readFile(path));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("returns every byte it read (`tail`), the footer a view of them: one GET when the footer fits", async () => {
    const { store, gets } = counting(memoryStore("pq-tail-one"));
    await store.put("t.parquet", file);
    const prefetch = 16 * KiB;
    const footer = await readParquetFooter(store, "t.parquet", { fileSize: file.byteLength, footerPrefetchBytes: prefetch });
    assert.ok(footer.footerBytes < prefetch, `footer of ${footer.footerBytes} bytes`);
    assert.deepEqual(gets, [r(file.byteLength - 8 - prefetch, file.byteLength)]);
    assert.equal(footer.tail.start, file.byteLength - 8 - prefetch);
    assert.deepEqual(footer.tail.bytes, file.subarray(footer.tail.start));
    assert.deepEqual(footer.bytes, file.subarray(file.byteLength - footer.footerBytes));
    assert.equal(footer.bytes.buffer, footer.tail.bytes.buffer, "the footer is a view of the tail, not a copy");
  });

  it("a footer longer than the first read takes exactly one more GET, and `tail` starts at the footer", async () => {
    const { store, gets } = counting(memoryStore("pq-tail-two"));
    await store.put("t.parquet", file);
    const footer = await readParquetFooter(store, "t.parquet", { fileSize: file.byteLength, footerPrefetchBytes: 100 });
    const footerStart = file.byteLength - footer.footerBytes;
    assert.deepEqual(gets, [r(file.byteLength - 108, file.byteLength), r(footerStart, file.byteLength - 108)]);
    assert.equal(footer.tail.start, footerStart);
    assert.deepEqual(footer.tail.bytes, file.subarray(footerStart));
    assert.deepEqual(footer.bytes, footer.tail.bytes);
  });

  it("reads through the `read` function when given one, not the store", async () => {
    const { store, gets } = counting(memoryStore("pq-tail-read"));
    await store.put("t.parquet", file);
    const reads: { start: number; end: number }[] = [];
    const footer = await readParquetFooter(store, "t.parquet", {
      fileSize: file.byteLength,
      read: async (range) => (reads.push(range), file.slice(range.start, range.end)),
    });
    assert.equal(gets.length, 0);
    assert.equal(reads.length, 1);
    assert.ok(footer.metadata.row_groups.length >= 4);
  });

  it("an object shorter than listed is refused as changed, not misread", async () => {
    const store = memoryStore("pq-tail-short");
    await store.put("t.parquet", file.subarray(0, file.byteLength - 10));
    await assert.rejects(readParquetFooter(store, "t.parquet", { fileSize: file.byteLength }), /changed during the job \(\d+ bytes when listed, a read of bytes \d+-\d+ returned \d+\)/);
  });
});
