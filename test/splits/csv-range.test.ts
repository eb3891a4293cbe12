import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readRangeBytes, readRangeLines, readStoreRangeBytes, readStoreRangeLines } from "../../src/splits/csv-range.js";
import type { ReadRangeFn } from "../../src/splits/csv-range.js";
import { memoryStore } from "../../src/storage/memory.js";

/** A small deterministic PRNG for the randomized tests. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

function randomFile(rand: (n: number) => number): string {
  const lines = rand(40);
  const crlf = rand(3) === 0;
  let text = "";
  for (let i = 0; i < lines; i++) {
    const kind = rand(10);
    const len = kind === 0 ? 0 : kind === 1 ? 60 + rand(200) : rand(12);
    let line = "";
    for (let j = 0; j < len; j++) line += "abcdefghij,é\"x"[rand(14)];
    text += line + (crlf || rand(8) === 0 ? "\r\n" : "\n");
  }
  if (rand(2) === 0) text += "last-without-newline" + "x".repeat(rand(5));
  return text;
}

/** Random cut points over [0, size): adjacent ranges covering the file. */
function randomCuts(rand: (n: number) => number, size: number): number[] {
  const cuts = new Set<number>([0, size]);
  const n = rand(12);
  for (let i = 0; i < n; i++) cuts.add(rand(size + 1));
  if (rand(3) === 0) for (let p = 0; p <= size; p += 1 + rand(4)) cuts.add(p); // many ranges smaller than a line
  return [...cuts].sort((a, b) => a - b);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

function expectedLines(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

describe("record-aligned range reads", () => {
  it("reads every record exactly once over random files and random adjacent ranges", async () => {
    const store = memoryStore("csv-range-random");
    const rand = rng(20240611);
    for (let file = 0; file < 300; file++) {
      const text = randomFile(rand);
      const bytes = Buffer.from(text, "utf8");
      const key = `f/${file}.csv`;
      await store.put(key, bytes);
      const cuts = randomCuts(rand, bytes.byteLength);
      const chunkSize = 1 + rand(64);
      const tailChunkSize = 1 + rand(16);
      const byteParts: Uint8Array[] = [];
      const lines: string[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        const [start, end] = [cuts[i] ?? 0, cuts[i + 1] ?? 0];
        byteParts.push(...(await collect(readStoreRangeBytes(store, key, start, end, bytes.byteLength, { chunkSize, tailChunkSize }))));
        lines.push(...(await collect(readStoreRangeLines(store, key, start, end, bytes.byteLength, { chunkSize, tailChunkSize }))));
      }
      assert.deepEqual(concat(byteParts), bytes, `file ${file}: bytes differ with cuts ${cuts.join(",")}`);
      assert.deepEqual(lines, expectedLines(text), `file ${file}: lines differ with cuts ${cuts.join(",")}`);
    }
  });

  it("gives a range smaller than one line nothing, and the line to the range holding its first byte", async () => {
    const text = Buffer.from("aaaaaaaaaa\nbbbbbbbbbb\n");
    const read: ReadRangeFn = async (s, e) => text.subarray(s, e);
    assert.deepEqual(await collect(readRangeLines(read, 2, 5, text.length)), []);
    assert.deepEqual(await collect(readRangeLines(read, 0, 1, text.length)), ["aaaaaaaaaa"]);
    assert.deepEqual(await collect(readRangeLines(read, 1, 11, text.length)), []);
    assert.deepEqual(await collect(readRangeLines(read, 1, 12, text.length)), ["bbbbbbbbbb"]);
    assert.deepEqual(await collect(readRangeLines(read, 11, 12, text.length)), ["bbbbbbbbbb"]);
    assert.deepEqual(await collect(readRangeLines(read, 12, 22, text.length)), []);
  });

  it("handles CRLF, a last line without newline, empty lines and empty files", async () => {
    const text = Buffer.from("a,1\r\n\r\nb,2\r\nc,3");
    const read: ReadRangeFn = async (s, e) => text.subarray(s, e);
    assert.deepEqual(await collect(readRangeLines(read, 0, text.length, text.length)), ["a,1", "", "b,2", "c,3"]);
    assert.deepEqual(await collect(readRangeLines(read, 7, text.length, text.length)), ["b,2", "c,3"]);
    assert.deepEqual(await collect(readRangeLines(read, 8, text.length, text.length)), ["c,3"]);
    const empty: ReadRangeFn = async () => new Uint8Array(0);
    assert.deepEqual(await collect(readRangeLines(empty, 0, 0, 0)), []);
  });

  it("streams: reads in ranged chunks and stops shortly after the range end", async () => {
    const line = "x".repeat(99) + "\n";
    const text = Buffer.from(line.repeat(10_000)); // 1 MB
    const requests: [number, number][] = [];
    const read: ReadRangeFn = async (s, e) => {
      requests.push([s, e]);
      return text.subarray(s, e);
    };
    const got = await collect(readRangeBytes(read, 250_050, 500_050, text.length, { chunkSize: 64 * 1024, tailChunkSize: 1024 }));
    assert.equal(concat(got).byteLength, 250_000);
    const fetched = requests.reduce((s, [a, b]) => s + (b - a), 0);
    assert.ok(fetched < 252_000, `fetched ${fetched} bytes for a 250 kB range`);
    assert.ok(requests.every(([a, b]) => b - a <= 64 * 1024));
  });

  it("rejects a range outside the file", async () => {
    const read: ReadRangeFn = async () => new Uint8Array(0);
    await assert.rejects(collect(readRangeBytes(read, 5, 20, 10)), /start <= end <= fileSize/);
  });
});
