import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parquetReadObjects } from "hyparquet";
import { openDuckDb, sqlString } from "../../src/duckdb/index.js";
import { listSplits } from "../../src/splits/discover.js";
import { columnChunkRanges, parquetColumns, readParquetFooter, rowGroupUnits } from "../../src/splits/parquet.js";
import type { ObjectStore, ReadOptions } from "../../src/storage/contract.js";
import { memoryStore } from "../../src/storage/memory.js";

/** Counts the ranged GETs and bytes a store serves. */
function counting(store: ObjectStore): { store: ObjectStore; gets: { start: number; end: number }[] } {
  const gets: { start: number; end: number }[] = [];
  return {
    gets,
    store: {
      ...store,
      async get(key: string, options?: ReadOptions) {
        const data = await store.get(key, options);
        const start = options?.range?.start ?? 0;
        gets.push({ start, end: start + data.byteLength });
        return data;
      },
    },
  };
}

describe("parquet row groups from the footer", () => {
  let dir = "";
  let file = new Uint8Array(0);
  const ROWS = 50_000;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-parquet-test-"));
    const path = join(dir, "t.parquet");
    const db = await openDuckDb({ threads: 1 });
    try {
      await db.run(`COPY (SELECT i AS id, 'page-' || i AS url, (i % 97)::INTEGER AS rank FROM range(${ROWS}) t(i)) TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE 10240)`);
    } finally {
      db.close();
    }
    file = new Uint8Array(await readFile(path));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("reads the footer with ranged GETs of the tail only", async () => {
    const { store, gets } = counting(memoryStore("parquet-footer"));
    await store.put("t.parquet", file);
    const footer = await readParquetFooter(store, "t.parquet", { fileSize: file.byteLength, footerPrefetchBytes: 0 });
    // last 8 bytes -> footer length -> footer
    assert.equal(gets.length, 2);
    assert.deepEqual(gets[0], { start: file.byteLength - 8, end: file.byteLength });
    assert.equal(gets[1]?.end, file.byteLength - 8);
    const read = gets.reduce((s, g) => s + g.end - g.start, 0);
    assert.equal(read, footer.footerBytes);
    assert.ok(read < file.byteLength / 10, `read ${read} of ${file.byteLength} bytes`);

    gets.length = 0;
    await readParquetFooter(store, "t.parquet", { fileSize: file.byteLength });
    assert.equal(gets.length, 1, "with the default prefetch a small footer takes one GET");
  });

  it("makes one unit per row group, covering every row, in disjoint byte ranges", async () => {
    const store = memoryStore("parquet-units");
    await store.put("t.parquet", file);
    const { metadata } = await readParquetFooter(store, "t.parquet");
    const units = rowGroupUnits(metadata);
    assert.ok(units.length >= 4, `${units.length} row groups`);
    assert.equal(units.reduce((s, u) => s + u.rows, 0), ROWS);
    for (let i = 0; i < units.length; i++) {
      const u = units[i];
      assert.ok(u && u.start >= 4 && u.end > u.start && u.end <= file.byteLength);
      if (i > 0) assert.ok((units[i - 1]?.end ?? 0) <= u.start);
    }
    const splits = await listSplits(store, "t.parquet");
    assert.equal(splits.length, units.length);
    assert.deepEqual(splits.map((s) => s.rowGroups), units.map((u) => [u.index]));
    assert.ok(splits.every((s) => s.format === "parquet"));
  });

  it("gives column chunk ranges from which one column reads without touching the others", async () => {
    const store = memoryStore("parquet-columns");
    await store.put("t.parquet", file);
    const { metadata } = await readParquetFooter(store, "t.parquet");
    assert.deepEqual(parquetColumns(metadata), ["id", "url", "rank"]);
    const ranges = columnChunkRanges(metadata, ["rank"], [1]);
    assert.equal(ranges.length, 1);
    const r = ranges[0];
    assert.ok(r);
    const allowed = (s: number, e: number) => s >= r.start && e <= r.end;
    const asyncBuffer = {
      byteLength: file.byteLength,
      slice(s: number, e?: number) {
        const end = e ?? file.byteLength;
        if (!allowed(s, end)) throw new Error(`read [${s}, ${end}) outside the rank column chunk [${r.start}, ${r.end})`);
        return file.slice(s, end).buffer;
      },
    };
    const units = rowGroupUnits(metadata);
    const first = units[1];
    assert.ok(first);
    const rowStart = units[0]?.rows ?? 0;
    const rows = await parquetReadObjects({ file: asyncBuffer, metadata, columns: ["rank"], rowStart, rowEnd: rowStart + first.rows });
    assert.equal(rows.length, first.rows);
    assert.equal(rows[5]?.rank, (rowStart + 5) % 97);
    assert.throws(() => columnChunkRanges(metadata, ["nope"]), /no column "nope" in this Parquet file; it has id, url, rank/);
  });

  it("says clearly when an object is not Parquet", async () => {
    const store = memoryStore("parquet-bad");
    await store.put("x.parquet", Buffer.from("definitely,not,parquet\n"));
    await assert.rejects(readParquetFooter(store, "x.parquet"), /does not end in PAR1/);
  });
});
