/**
 * The first record's line ending (splits/line-end.ts): the first `\n` outside quotes, fed in
 * chunks of any size, and what DuckDB then reads: a CRLF file whose first record holds a quoted
 * LF is refused by DuckDB's own line-ending detection and read with the ending found.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { FirstLineEnd, firstLineEndOf } from "../../src/splits/line-end.js";
import { sourceSql } from "../../src/mapreduce/table-source.js";

const rfc = { quote: '"', escape: '"' };
const enc = (s: string) => new TextEncoder().encode(s);

function endOf(text: string, dialect: { quote: string; escape: string } | undefined, chunk: number): string | undefined {
  const e = new FirstLineEnd(dialect);
  const bytes = enc(text);
  for (let i = 0; i < bytes.length && !e.feed(bytes.subarray(i, i + chunk)); i += chunk);
  return e.found;
}

describe("the first record's line ending", () => {
  let dir: string;
  let db: DuckDb;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-line-end-"));
    db = await openDuckDb({ threads: 1 });
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the first newline outside quotes, whatever the chunks", () => {
    const cases: [string, { quote: string; escape: string } | undefined, string | undefined][] = [
      ["a,1\r\nb,2\n", rfc, "\r\n"],
      ["a,1\nb,2\r\n", rfc, "\n"],
      ['"k\nnl",1\r\nb,2\r\n', rfc, "\r\n"],
      ['"x ""\n"" y",1\n', rfc, "\n"],
      ['"a\r\nb",1\n', rfc, "\n"],
      ['"a\\"\n",1\r\n', { quote: '"', escape: "\\" }, "\r\n"],
      ['"k\nnl",1\r\n', { quote: "", escape: "" }, "\n"],
      ['"k\nnl",1\r\n', undefined, "\n"],
      ['"never closed\r\n', rfc, undefined],
      ["no newline", rfc, undefined],
    ];
    for (const [text, dialect, want] of cases) {
      for (const chunk of [1, 2, 3, 1000]) assert.equal(endOf(text, dialect, chunk), want, `${JSON.stringify(text)} in chunks of ${chunk}`);
    }
  });

  test("DuckDB refuses a CRLF file whose first record holds a quoted LF (and an LF file with a quoted CRLF first) unless told; told the ending found, it reads every row", async () => {
    const text = '"k\nnl",5\r\n"a,b",4\r\nB,-3\r\n';
    const file = join(dir, "crlf.csv");
    writeFileSync(file, text);
    const spec = { format: "csv" as const, columns: [{ name: "k", type: "VARCHAR" }, { name: "g", type: "BIGINT" }] };
    await assert.rejects(db.all(`SELECT * FROM ${sourceSql(spec, [{ path: file, headerLine: false }])}`), /invalid state/);
    const newLine = await firstLineEndOf(async (s, e) => enc(text).subarray(s, e), text.length, rfc, 1 << 20);
    assert.equal(newLine, "\r\n");
    const rows = await db.all<{ k: string; g: bigint }>(`SELECT * FROM ${sourceSql(spec, [{ path: file, headerLine: false, newLine }])}`);
    assert.deepEqual(rows.map((r) => [r.k, Number(r.g)]), [["k\nnl", 5], ["a,b", 4], ["B", -3]]);

    // The mirror case (fuzz seed 31014): an LF file whose first record holds a quoted CRLF.
    const lf = '"a\r\nb",5\nB,-3\n';
    const lfFile = join(dir, "lf.csv");
    writeFileSync(lfFile, lf);
    await assert.rejects(db.all(`SELECT * FROM ${sourceSql(spec, [{ path: lfFile, headerLine: false }])}`), /invalid state/);
    const lfEnd = await firstLineEndOf(async (s, e) => enc(lf).subarray(s, e), lf.length, rfc, 1 << 20);
    assert.equal(lfEnd, "\n");
    const lfRows = await db.all<{ k: string; g: bigint }>(`SELECT * FROM ${sourceSql(spec, [{ path: lfFile, headerLine: false, newLine: lfEnd }])}`);
    assert.deepEqual(lfRows.map((r) => [r.k, Number(r.g)]), [["a\r\nb", 5], ["B", -3]]);
  });
});
