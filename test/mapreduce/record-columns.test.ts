/**
 * How reducers hand records to the coordinator (src/mapreduce/record-columns.ts): records of one
 * shape travel as columns (strings, float64 or JSON), any others as one JSON array, and either way
 * each record arrives as `JSON.parse(JSON.stringify(record))` gives it, its keys in the same order.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeRecords, encodeRecords } from "../../src/mapreduce/record-columns.js";

const viaJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));
const isColumns = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(0, 4)) === "SMR1";

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const CASES: [string, unknown[], boolean][] = [
  ["[key, sum] arrays", Array.from({ length: 1000 }, (_, i) => [`k${i}`, i * 0.1]), true],
  ["{ word, count } objects", Array.from({ length: 500 }, (_, i) => ({ word: `w${i}`, count: i })), true],
  ["width 1", [[1], [2]], true],
  ["width 3", [["a", 1, true], ["b", 2, false]], true],
  ["width 4", [["a", 1, true, null], ["b", 2, false, "x"]], true],
  ["width 6", [[1, 2, 3, 4, 5, "six"], [7, 8, 9, 10, 11, "twelve"]], true],
  ["fields JSON writes as null or 0: NaN, Infinity, -0, null; booleans; odd strings", [[NaN, Infinity, -0, null, true, "é\u2028\"\\"], [-Infinity, 1e-320, 0, null, false, ""]], true],
  ["numbers only: -0 and subnormals in a float64 column", [[-0, 5e-324], [Number.MAX_VALUE, -1.5]], true],
  ["strings with a BOM first, lone surrogates, a pair split across fields, NUL", [["\uFEFFbom", "\uD800"], ["\uD83C", "\uDF89"], ["\u0000", "日本"]], true],
  ["strings: a surrogate pair split across two records", [["\uD83C"], ["\uDF89"]], true],
  ["numeric-like keys (ordered alike by for...in and JSON)", [{ b: 1, 2: "x", 1: "y" }, { b: 2, 2: "z", 1: "w" }], true],
  ["null-prototype objects", [Object.assign(Object.create(null), { a: 1 }), Object.assign(Object.create(null), { a: 2 })], true],
  ["keys in another order", [{ a: 1, b: 2 }, { b: 3, a: 4 }], false],
  ["a key missing", [{ a: 1, b: 2 }, { a: 3 }], false],
  ["an extra key", [{ a: 1 }, { a: 3, b: 4 }], false],
  ["an undefined field (JSON drops it from an object)", [{ a: 1, b: undefined }, { a: 2, b: 3 }], false],
  ["undefined, functions and symbols in arrays", [[1, undefined], [2, () => 1], [3, Symbol("s")]], false],
  ["nested values", [{ a: [1, 2] }, { a: { b: 1 } }], false],
  ["a Date field (toJSON)", [{ at: new Date(0) }, { at: new Date(1) }], false],
  ["an object with its own toJSON", [{ a: 1, toJSON: () => "x" }, { a: 2, toJSON: () => "y" }], false],
  ["class instances", [new Point(1, 2), new Point(3, 4)], false],
  ["a __proto__ key", [JSON.parse('{"__proto__": 1}'), JSON.parse('{"__proto__": 2}')], false],
  ["arrays of different lengths", [[1, 2], [3]], false],
  ["empty arrays and objects", [[], []], false],
  ["arrays then objects", [[1], { 0: 1 }], false],
  ["primitives", [1, "a", null, true], false],
  ["sparse arrays", [[1, , 3], [4, 5, 6]], false], // eslint-disable-line no-sparse-arrays
  ["no records", [], false],
];

describe("reducer records to the coordinator", () => {
  for (const [what, records, columns] of CASES) {
    test(`${what}: ${columns ? "columns" : "one JSON array"}, arriving as JSON carries them`, () => {
      const bytes = encodeRecords(records);
      assert.equal(isColumns(bytes), columns);
      const got = decodeRecords(bytes, records.length, "r00000-a1.records");
      assert.deepEqual(got, viaJson(records));
      assert.equal(JSON.stringify(got), JSON.stringify(records), "the same keys in the same order");
      for (const [i, r] of got.entries()) if (Array.isArray(r)) for (const [j, f] of r.entries()) assert.ok(!Object.is(f, -0), `record ${i} field ${j} is -0`);
    });
  }

  test("each column takes the cheapest kind its fields allow", () => {
    const bytes = encodeRecords([["a", 1, true], ["b", 2, null]]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const kinds: number[] = [];
    for (let at = 16 + view.getUint32(12, true), j = 0; j < 3; j++) {
      kinds.push(bytes[at]!);
      at += 8 + view.getUint32(at + 4, true);
    }
    assert.deepEqual(kinds, [0, 1, 2], "strings, float64, JSON");
    assert.equal(encodeRecords([["\uD800"], ["x"]])[16], 2, "a lone surrogate standing alone turns its column to JSON");
    assert.equal(encodeRecords([["\uD83C"], ["\uDF89"]])[16], 0, "a pair split across two records is still a string column");
  });

  test("bytes that do not hold the records reported are refused, never read wrong", () => {
    const good = encodeRecords([["a", 1], ["b", 2]]);
    const withByte = (at: number, value: number) => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    const view = new DataView(good.buffer);
    const stringsLength = good.slice();
    new DataView(stringsLength.buffer).setUint32(16 + 8, 2, true); // the first string 2 code units, not 1
    const cases: [string, Uint8Array, number][] = [
      ["fewer records than reported", good, 3],
      ["truncated", good.subarray(0, good.byteLength - 1), 2],
      ["longer", new Uint8Array([...good, 0]), 2],
      ["a column kind unknown", withByte(16, 7), 2],
      ["a width of 0", withByte(8, 0), 2],
      ["string lengths", stringsLength, 2],
      ["not JSON", new TextEncoder().encode("[1,"), 2],
      ["an array of fewer records", new TextEncoder().encode("[1,2]"), 3],
      ["a JSON object", new TextEncoder().encode('{"records":[1,2]}'), 2],
      ["empty", new Uint8Array(0), 2],
    ];
    assert.equal(view.getUint32(8, true), 2);
    for (const [what, bytes, n] of cases) {
      assert.throws(() => decodeRecords(bytes, n, "r00003-a2.records"), /r00003-a2\.records does not hold the \d+ records its reducer reported .*rerun the job/, what);
    }
    // Names that are not the columns' (an object's keys): refused too.
    const objects = new TextDecoder("utf-8", { ignoreBOM: true }).decode(encodeRecords([{ abcdefghi: 1 }, { abcdefghi: 2 }]));
    for (const names of ["[1,2,3,4,5,6]", '["__proto__"]', '["a","b","c"]']) {
      assert.equal(names.length, '["abcdefghi"]'.length);
      const changed = new TextEncoder().encode(objects.replace('["abcdefghi"]', names));
      assert.throws(() => decodeRecords(changed, 2, "r1.records"), /r1\.records does not hold the 2 records .*column names/, names);
    }
    // The same key twice (objects would silently lose a field).
    const twice = new TextDecoder("utf-8", { ignoreBOM: true }).decode(encodeRecords([{ a: 1, b: 2 }, { a: 3, b: 4 }]));
    assert.throws(() => decodeRecords(new TextEncoder().encode(twice.replace('["a","b"]', '["a","a"]')), 2, "r2.records"), /column names/);
    // A string column's bytes that are not UTF-8 (a multibyte character damaged): refused, not read as U+FFFD.
    const emoji = encodeRecords([["😀", 1], ["a", 2]]);
    const at = emoji.indexOf(0xf0);
    const damaged = emoji.slice();
    damaged[at + 3] = 0x41;
    assert.throws(() => decodeRecords(damaged, 2, "r3.records"), /r3\.records does not hold the 2 records .*not UTF-8/);
  });
});
