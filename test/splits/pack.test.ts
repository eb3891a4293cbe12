import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cutSplit, packSplits, packSplitStream, taskCountForBytes } from "../../src/splits/pack.js";
import type { TaskInput } from "../../src/splits/pack.js";
import { splitBytes } from "../../src/splits/split.js";
import type { Split } from "../../src/splits/split.js";

const csv = (key: string, size: number): Split => ({ key, format: "csv", range: { start: 0, end: size }, fileSize: size });
const MB = 1024 * 1024;

function covered(tasks: TaskInput[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of tasks) for (const s of t.splits) m.set(s.key, (m.get(s.key) ?? 0) + splitBytes(s));
  return m;
}

describe("packing splits into tasks", () => {
  it("packs many small files into few tasks (first-fit decreasing)", () => {
    const splits = Array.from({ length: 100 }, (_, i) => csv(`f${i}`, (1 + (i % 10)) * MB));
    const tasks = packSplits(splits, { targetBytesPerTask: 64 * MB });
    const total = splits.reduce((s, x) => s + splitBytes(x), 0);
    assert.equal(taskCountForBytes(total, 64 * MB), 9);
    assert.ok(tasks.length <= 10, `${tasks.length} tasks`);
    assert.ok(tasks.every((t) => t.bytes <= 64 * MB));
    assert.equal(tasks.reduce((s, t) => s + t.splits.length, 0), 100);
  });

  it("cuts a big CSV file into ranges but keeps Parquet row groups and gzip files whole", () => {
    const big = csv("big", 1000 * MB);
    const pieces = cutSplit(big, 128 * MB);
    assert.equal(pieces.length, 8);
    assert.equal(pieces[0]?.range.start, 0);
    assert.equal(pieces[7]?.range.end, 1000 * MB);
    for (let i = 1; i < pieces.length; i++) assert.equal(pieces[i]?.range.start, pieces[i - 1]?.range.end);
    const gz: Split = { ...csv("g.gz", 1000 * MB), compression: "gzip" };
    assert.equal(cutSplit(gz, 128 * MB).length, 1);
    const rg: Split = { key: "p.parquet", format: "parquet", range: { start: 4, end: 300 * MB }, fileSize: 301 * MB, rowGroups: [0], rows: 5 };
    assert.equal(cutSplit(rg, 128 * MB).length, 1);
    assert.equal(packSplits([big, gz], { targetBytesPerTask: 128 * MB }).length, 9);
  });

  it("streams: emits full tasks before the input ends, and covers every byte once", async () => {
    const emittedAt: number[] = [];
    let pulled = 0;
    async function* source(): AsyncIterable<Split> {
      for (let i = 0; i < 200; i++) {
        pulled++;
        yield csv(`s${i}`, (1 + (i % 7)) * MB);
      }
    }
    const tasks: TaskInput[] = [];
    for await (const t of packSplitStream(source(), { targetBytesPerTask: 32 * MB })) {
      emittedAt.push(pulled);
      tasks.push(t);
    }
    assert.ok((emittedAt[0] ?? 200) < 50, "the first task came early");
    assert.ok(tasks.every((t) => t.bytes <= 32 * MB));
    const got = covered(tasks);
    for (let i = 0; i < 200; i++) assert.equal(got.get(`s${i}`), (1 + (i % 7)) * MB);
    const total = [...got.values()].reduce((a, b) => a + b, 0);
    assert.ok(tasks.length <= taskCountForBytes(total, 32 * MB) + 4, `${tasks.length} tasks`);
  });

  it("limits splits per task", () => {
    const tasks = packSplits(Array.from({ length: 10 }, (_, i) => csv(`t${i}`, 10)), { targetBytesPerTask: MB, maxSplitsPerTask: 3 });
    assert.equal(tasks.length, 4);
  });
});
