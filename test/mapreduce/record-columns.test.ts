/**
 * How reducers hand records to the coordinator (src/mapreduce/record-columns.ts): records of one
 * shape travel as columns, any others as one JSON array, and either way each record arrives as
 * `JSON.parse(JSON.stringify(record))` gives it, its keys in the same order.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRecordsJson, recordsJson } from "../../src/mapreduce/record-columns.js";

const viaJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const CASES: [string, unknown[], boolean][] = [
  ["[key, sum] arrays", Array.from({ length: 1000 }, (_, i) => [`k${i}`, i * 0.1]), true],
  ["{ word, count } objects", Array.from({ length: 500 }, (_, i) => ({ word: `w${i}`, count: i })), true],
  ["fields JSON writes as null or 0: NaN, Infinity, -0, null; booleans; odd strings", [[NaN, Infinity, -0, null, true, "é\u2028\"\\"], [-Infinity, 1e-320, 0, null, false, ""]], true],
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
];

describe("reducer records to the coordinator", () => {
  for (const [what, records, columns] of CASES) {
    test(`${what}: ${columns ? "columns" : "one JSON array"}, arriving as JSON carries them`, () => {
      const text = recordsJson(records);
      assert.equal(text.startsWith('{"columns":'), columns);
      const got = parseRecordsJson(text, records.length, "r00000-a1.json");
      assert.deepEqual(got, viaJson(records));
      assert.equal(JSON.stringify(got), JSON.stringify(records), "the same keys in the same order");
    });
  }

  test("text that does not hold the records reported is refused, never read wrong", () => {
    const good = recordsJson([["a", 1], ["b", 2]]);
    const cases: [string, string, number][] = [
      ["not JSON", good.slice(0, -1), 2],
      ["fewer records than reported", good, 3],
      ["an array of fewer records", "[1,2]", 3],
      ["a column shorter", '{"columns":[["a","b"],[1]],"names":null}', 2],
      ["names not matching the columns", '{"columns":[["a","b"],[1,2]],"names":["k"]}', 2],
      ["a __proto__ name", '{"columns":[["a","b"]],"names":["__proto__"]}', 2],
      ["no columns", '{"columns":[],"names":null}', 0],
      ["another object", '{"records":[1,2]}', 2],
      ["a number", "2", 2],
    ];
    for (const [what, text, n] of cases) {
      assert.throws(() => parseRecordsJson(text, n, "r00003-a2.json"), /r00003-a2\.json does not hold the \d+ records its reducer reported .*rerun the job/, what);
    }
  });
});
