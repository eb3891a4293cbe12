/**
 * The functions API's record path (records.ts) on the split reader every path shares: objects cut
 * into byte ranges of ~1 KiB, every record read once, compared with DuckDB alone reading the same
 * files (all as text; DuckDB's NULL for an empty field is csv-parse's ""). Headers per object
 * (columns in another order matched by name), RFC 4180 quoting, gzip, the record limit, quoted
 * newlines (refused in a cut object, exact when read whole), and the bad-records policy.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { readRecords, recordFormatSchema, type RecordFormat } from "../../src/mapreduce/records.js";
import { bytesToLineBatches } from "../../src/splits/csv-range.js";
import { listSplits } from "../../src/splits/discover.js";
import { openStore } from "../../src/storage/url.js";

describe("functions API records through the shared split reader", () => {
  let dir: string;
  let db: DuckDb;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-records-"));
    db = await openDuckDb({ threads: 1 });
  });
  after(() => db?.close());

  function files(name: string, contents: Record<string, string | Uint8Array>): string {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(contents)) writeFileSync(join(d, f), text);
    return d;
  }

  /** Every record of every split, objects cut into ranges of `target` bytes. */
  async function read(path: string, format: RecordFormat, o: { target?: number; whole?: boolean; badRecords?: "fail" | "skip"; bad?: string[]; readAhead?: { blockSize: number; ahead: number; chunkSize: number } } = {}): Promise<unknown[]> {
    const { store, key } = await openStore(`${path}/`);
    const splits = await listSplits(store, key, { targetSplitBytes: o.target ?? 1024, ...(o.whole ? { whole: true } : {}) });
    const out: unknown[] = [];
    for (const split of splits) {
      const options = { format: recordFormatSchema.parse(format), badRecords: o.badRecords ?? "fail", onBadRecord: (m: string) => o.bad?.push(m), ...(o.readAhead ? { readAhead: o.readAhead } : {}) } as const;
      for await (const r of readRecords(store, split, options)) out.push(r);
    }
    return out;
  }

  /** DuckDB alone's rows as objects of strings. */
  async function alone(source: string): Promise<Record<string, string>[]> {
    const rows = await db.all<Record<string, string | null>>(`SELECT * FROM ${source}`);
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? ""])));
  }

  const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r, Object.keys(r as object).sort())).sort();

  test("headered objects in byte ranges, columns in another order, quoted delimiters and doubled quotes, gzip: the records DuckDB alone reads", async () => {
    const row = (i: number) => [`${i}`, i % 3 === 0 ? `"q,z ${i}"` : i % 3 === 1 ? `"he said ""hi"" ${i}"` : `plain ${i}`];
    const ab = Array.from({ length: 300 }, (_, i) => row(i).join(",")).join("\n");
    const ba = Array.from({ length: 300 }, (_, i) => row(i + 1000).reverse().join(",")).join("\r\n");
    const d = files("quoted", { "f1.csv": `a,b\n${ab}\n`, "f2.csv": `b,a\r\n${ba}\r\n`, "f3.csv.gz": gzipSync(`a,b\n${ab}\n`) });
    const got = await read(d, { csv: { header: true } });
    const want = await alone(`read_csv('${d}/*.csv*', union_by_name = true, all_varchar = true)`);
    assert.equal(got.length, 900);
    assert.deepEqual(sorted(got), sorted(want));
  });

  test("through tiny read-ahead blocks that are read into again (CSV, lines, NDJSON; ranges and whole objects): the same records as read at once", async () => {
    let x = 5;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    const row = (i: number) => [`${i}`, i % 4 === 0 ? `"q,z ${"é".repeat(i % 7)}"` : i % 4 === 1 ? `"he said ""hi"" ${i}"` : `plain ${"x".repeat(i % 50)}`];
    const ab = Array.from({ length: 400 }, (_, i) => row(i).join(",")).join("\n");
    const ba = Array.from({ length: 400 }, (_, i) => row(i + 1000).reverse().join(",")).join("\r\n");
    const csv = files("blocks-csv", { "f1.csv": `a,b\n${ab}\n`, "f2.csv": `b,a\r\n${ba}\r\n` });
    const nd = files("blocks-ndjson", { "f.ndjson": Array.from({ length: 500 }, (_, i) => JSON.stringify({ i, s: "ü".repeat(i % 9) })).join("\n") });
    const cases: [string, RecordFormat][] = [
      [csv, { csv: { header: true } }],
      [csv, "lines"],
      [nd, "ndjson"],
    ];
    for (const [path, format] of cases) {
      const expected = await read(path, format, { target: 1 << 20 });
      for (let round = 0; round < 6; round++) {
        const readAhead = { blockSize: 16 + rnd(300), ahead: rnd(3), chunkSize: 1 + rnd(64) };
        const target = 200 + rnd(3000);
        assert.deepEqual(sorted(await read(path, format, { target, readAhead })), sorted(expected), `${JSON.stringify(format)}, ${JSON.stringify(readAhead)}, ranges of ${target} bytes`);
      }
      assert.deepEqual(await read(path, format, { whole: true, readAhead: { blockSize: 64, ahead: 1, chunkSize: 7 } }), expected, `${JSON.stringify(format)}, whole objects`);
    }
  });

  test("a record over the limit fails naming the object, its byte offset and the limit", async () => {
    const head = "k,v\n1,x\n";
    const d = files("long", { "a.csv": `${head}2,${"y".repeat(17 * 1024 * 1024)}\n3,z\n` });
    await assert.rejects(read(d, { csv: { header: true } }, { target: 4 * 1024 * 1024 }), new RegExp(`long/a\\.csv: the record at byte ${head.length} is longer than the limit of 16777216 bytes`));
    await assert.rejects(read(d, "lines", { target: 64 * 1024 * 1024 }), /the record at byte 8 is longer than the limit/);
  });

  test("quoted newlines: refused in a cut object with the way out, exact when objects are read whole", async () => {
    const rows = Array.from({ length: 200 }, (_, i) => (i % 40 === 3 ? `${i},"two\nlines"` : `${i},one`));
    const d = files("multiline", { "m.csv": `id,note\n${rows.join("\n")}\n` });
    await assert.rejects(read(d, { csv: { header: true } }), /m\.csv: a quoted field holds a line break .*records \{ csv: \{ whole: true \} \}/);
    const got = await read(d, { csv: { header: true, whole: true } }, { whole: true });
    assert.deepEqual(sorted(got), sorted(await alone(`read_csv('${d}/m.csv', all_varchar = true)`)));
  });

  test("bad records: fail names the record; skip counts it and keeps the rest", async () => {
    const d = files("bad", { "b.csv": "k,v\n1,a\n2,b,extra\n3,c\n" });
    await assert.rejects(read(d, { csv: { header: true } }), /b\.csv: CSV record 2 of bytes \[0, \d+\) has 3 fields, the header 2/);
    const bad: string[] = [];
    const got = await read(d, { csv: { header: true } }, { badRecords: "skip", bad });
    assert.deepEqual(got, [
      { k: "1", v: "a" },
      { k: "3", v: "c" },
    ]);
    assert.equal(bad.length, 1);
  });

  test("lines from any chunking: the lines of the text decoded whole (multibyte characters cut across chunks, CRLF, BOM at the start only, invalid UTF-8)", async () => {
    let x = 7;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    const pieces = ["plain,ascii", "é", "日本語", "🎉", "\r\n", "\n", "\n", "\r", "\uFEFF", "x".repeat(40)];
    for (let round = 0; round < 200; round++) {
      const parts: Uint8Array[] = [];
      if (round % 3 === 0) parts.push(Uint8Array.of(0xef, 0xbb, 0xbf));
      for (let i = rnd(40); i > 0; i--) parts.push(Buffer.from(pieces[rnd(pieces.length)]!));
      if (round % 5 === 0) parts.push(Uint8Array.of(0xe6, 0x97, 0x0a, 0xff, 0x41));
      const bytes = Buffer.concat(parts);
      const text = new TextDecoder().decode(bytes); // drops a BOM at the start only
      const expected = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
      if (expected[expected.length - 1] === "") expected.pop();
      const cuts = [0];
      while (cuts[cuts.length - 1]! < bytes.byteLength) cuts.push(Math.min(bytes.byteLength, cuts[cuts.length - 1]! + 1 + rnd(round % 2 ? 4 : 64)));
      const chunks = (async function* () {
        for (let i = 1; i < cuts.length; i++) yield bytes.subarray(cuts[i - 1], cuts[i]);
      })();
      const got: string[] = [];
      for await (const batch of bytesToLineBatches(chunks)) got.push(...batch);
      assert.deepEqual(got, expected, `round ${round}: ${JSON.stringify(text)}`);
    }
  });
});
