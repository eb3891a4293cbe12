/**
 * The shuffle segments of `defineMapReduce` (src/mapreduce/pair-segments.ts) and the pairs on
 * both sides of the shuffle (pair-groups.ts): every key and value arrives as JSON would carry it
 * (the format before segments were columnar), odd keys included; a damaged segment is refused;
 * map-side and reduce-side folding give what folding everything at once gives.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MapPairs, ReduceGroups, partitionOf, sortedIndices } from "../../src/mapreduce/pair-groups.js";
import { decodePairs, encodePairs, groupId, keyOfId, SegmentWriter } from "../../src/mapreduce/pair-segments.js";

/** What the shuffle promises: a pair arrives as `JSON.parse(JSON.stringify(...))` of it. */
function viaJson(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x) ?? "null");
}

function roundTrip(keys: unknown[], values: unknown[]): { keys: unknown[]; values: unknown[] } {
  const { ids, values: got } = decodePairs(encodePairs(keys.map(groupId), values), "test");
  return { keys: ids.map(keyOfId), values: Array.from(got) };
}

const ODD_KEYS: unknown[] = [
  "",
  "a",
  "1",
  1,
  0,
  -1.5,
  1e308,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  "null",
  "true",
  ["a", 1],
  { a: 1, b: [null, "x"] },
  { b: 2, a: 1 },
  "\0",
  "\0starts with NUL",
  "mid\0dle",
  "é",
  "日本語のキー",
  "emoji 🎉 and 👩‍👩‍👧",
  "\u2028\u2029",
  '"quoted"',
  "back\\slash",
  "new\nline\r\n",
  "x".repeat(70_000),
];

describe("pairs segments", () => {
  test("odd keys and numeric values survive the round trip as JSON would carry them", () => {
    const values = ODD_KEYS.map((_, i) => i * 1.25 - 3);
    const got = roundTrip(ODD_KEYS, values);
    assert.deepEqual(got.keys, ODD_KEYS.map(viaJson));
    assert.deepEqual(got.values, values);
  });

  test("a key starting with U+FEFF (a BOM) keeps it, first in a segment or after a switch to JSON ids", () => {
    const keys = ["\uFEFFbom", "x", "\uFEFF"];
    assert.deepEqual(roundTrip(keys, [1, 2, 3]).keys, keys);
    const w = new SegmentWriter();
    w.add("\uFEFFfirst", 1);
    w.add("\uD800", 2); // not well-formed: the ids so far are read back from their bytes
    assert.deepEqual(decodePairs(w.finish(), "t").ids, ["\uFEFFfirst", "\uD800"]);
  });

  test("numbers and strings stay different keys, ids never collide", () => {
    const keys = [1, "1", "\u00001", '"1"', "\0\"1\"", [1], "[1]", null, "null", "\0null"];
    const ids = keys.map(groupId);
    assert.equal(new Set(ids).size, keys.length);
    assert.deepEqual(roundTrip(keys, keys.map(() => 0)).keys, keys);
  });

  test("lone surrogates in keys survive (keys then travel as a JSON column)", () => {
    const keys = ["\uD800", "a\uDC00b", "ok", "🎉".slice(0, 1), "🎉".slice(1)];
    const got = roundTrip(keys, [1, 2, 3, 4, 5]);
    assert.deepEqual(got.keys, keys);
    assert.deepEqual(got.values, [1, 2, 3, 4, 5]);
    assert.equal(encodePairs(keys, [1, 2, 3, 4, 5])[8], 1, "key kind 1: a JSON column");
    assert.equal(encodePairs(["ok"], [1])[8], 0, "key kind 0: cut text");
  });

  test("values: float64 column exact, anything else as JSON (undefined, NaN and Infinity as null, -0 as 0)", () => {
    const floats = [0, -0, 1e-320, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_SAFE_INTEGER, 0.1 + 0.2, Math.fround(0.42190307)];
    const f = roundTrip(floats.map((_, i) => `k${i}`), floats);
    assert.deepEqual(f.values, floats.map(viaJson));
    assert.ok(Object.is(f.values[1], 0));
    assert.equal(encodePairs(["k"], [1.5])[9], 0, "value kind 0: float64");

    const mixed: unknown[] = [1, "1", null, undefined, NaN, Infinity, -Infinity, -0, { sum: 2, n: [1, 2] }, [1, "x"], true, "x".repeat(3_000_000), "日本\uD800"];
    const m = roundTrip(mixed.map((_, i) => i), mixed);
    assert.deepEqual(m.values, mixed.map(viaJson));
    assert.deepEqual(m.keys, mixed.map((_, i) => i));
  });

  test("a segment written pair by pair turns a column to JSON where it must, mid-segment, and reads back the same", () => {
    let x = 7;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    const pieces = ["a", "1.2", "é", "日本", "🎉", "\0", "", "x".repeat(300)];
    for (const [lone, odd] of [[-1, -1], [700, -1], [-1, 900], [1500, 20], [0, 0]] as const) {
      const keys: string[] = [];
      const values: unknown[] = [];
      for (let i = 0; i < 2000; i++) {
        keys.push(i === lone ? "\uD800 lone" : `${pieces[rnd(pieces.length)]}${i}${pieces[rnd(pieces.length)]}`);
        values.push(i === odd ? "not a number" : rnd(3) === 0 ? -0 : (rnd(1e6) - 5e5) / 7);
      }
      const w = new SegmentWriter();
      for (let i = 0; i < keys.length; i++) w.add(keys[i]!, values[i]);
      assert.equal(w.size, keys.length);
      const bytes = w.finish();
      assert.equal(bytes[8], lone >= 0 ? 1 : 0, "key kind");
      assert.equal(bytes[9], odd >= 0 ? 1 : 0, "value kind");
      const got = decodePairs(bytes, "t");
      assert.deepEqual(got.ids, keys);
      assert.deepEqual(Array.from(got.values), values.map(viaJson));
      assert.deepEqual(bytes, encodePairs(keys, values), "encodePairs writes the same bytes");
    }
  });

  test("empty segments are empty bytes", () => {
    assert.equal(encodePairs([], []).byteLength, 0);
    assert.deepEqual(decodePairs(new Uint8Array(0), "x"), { ids: [], values: [] });
  });

  test("a damaged segment is refused with a message, never read wrong", () => {
    const good = encodePairs(["ab", "c"], [1, 2]);
    const cases: [string, Uint8Array][] = [
      ["NDJSON", new TextEncoder().encode('["a",1]\n')],
      ["truncated", good.subarray(0, good.byteLength - 1)],
      ["short", good.subarray(0, 10)],
      ["longer", new Uint8Array([...good, 0])],
    ];
    const lengths = good.slice();
    new DataView(lengths.buffer).setUint32(20, 1, true); // first key 1 code unit, not 2
    cases.push(["key lengths", lengths]);
    const wide = encodePairs(["é"], [1]); // 0xc3 0xa9: the continuation byte damaged
    wide[wide.indexOf(0xc3) + 1] = 0x41;
    cases.push(["keys not UTF-8", wide]);
    for (const [what, bytes] of cases) {
      assert.throws(() => decodePairs(bytes, "t1-a1"), /\[smelter\] shuffle segment of t1-a1 is not a pairs segment .*rerun the job/, what);
    }
  });

  test("a key JSON cannot hold is an error at emit", () => {
    const pairs = new MapPairs<unknown, number>(undefined, 1);
    assert.throws(() => pairs.add(undefined, 1), /the key is undefined/);
    assert.throws(() => pairs.add(10n, 1), /cannot be written as JSON/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => pairs.add(cyclic, 1), /cannot be written as JSON/);
  });
});

describe("a reducer's key order", () => {
  test("sortedIndices orders as sorting the strings does, ties and fallbacks included", () => {
    let x = 3;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    const ip = () => `${rnd(256)}.${rnd(256)}.${rnd(256)}`.slice(0, 1 + rnd(11));
    const unicode = () => Array.from({ length: rnd(6) }, () => String.fromCharCode(rnd(3) === 0 ? rnd(65536) : 32 + rnd(90))).join("");
    const sets: [string, string[]][] = [
      ["none", []],
      ["one", ["a"]],
      ["IP prefixes (a small alphabet: ordered by the packed words alone)", Array.from({ length: 50_000 }, ip)],
      ["any code units, lone surrogates, NUL", Array.from({ length: 20_000 }, unicode)],
      ["long common prefixes (ties broken by comparing)", Array.from({ length: 5_000 }, () => `${"p".repeat(20)}${rnd(1000)}${rnd(2) ? "" : "\0"}`)],
      ["prefixes of each other, empty strings, duplicates", ["", "a", "a\0", "ab", "a", "", "\0", "\0\0", "b", "aa", "a\u0001", "\uFFFF", "\uD800"]],
      ["JSON ids of non-string keys", [1, "1", null, [1, 2], { a: 1 }, "z", -3, "é"].map(groupId)],
      ["every code unit (65,536 ranks)", Array.from({ length: 70_000 }, (_, i) => (i < 65_536 ? String.fromCharCode((i * 7919) % 65_536) : `${String.fromCharCode(rnd(65_536))}${String.fromCharCode(rnd(65_536))}`))],
    ];
    for (const [what, strings] of sets) {
      const expected = strings.slice().sort();
      for (const maxPacked of [undefined, 0]) {
        const order = sortedIndices(strings, maxPacked);
        assert.equal(order.length, strings.length);
        assert.deepEqual(Array.from(order, (i) => strings[i]), expected, `${what}${maxPacked === 0 ? ", compared" : ""}`);
        assert.equal(new Set(order).size, strings.length, "each index once");
      }
    }
  });
});

describe("pairs on both sides of the shuffle", () => {
  const keys = ["b", "a", 2, "", { x: 1 }, "日本", "a", 2, "b", "", "\0z"];

  /** Map tasks over `emits` (one task per inner array), R partitions, then the reducers; returns every key's values. */
  function shuffle(tasks: [unknown, number][][], combine: ((k: unknown, v: number[]) => number) | undefined, R: number, sample?: number): [unknown, number[]][] {
    const outputs = tasks.map((emits) => {
      const pairs = new MapPairs<unknown, number>(combine, R, sample);
      for (const [k, v] of emits) pairs.add(k, v);
      const out = pairs.encode();
      if (sample === undefined) assert.equal(out.rows.reduce((a, b) => a + b, 0), combine ? new Set(emits.map(([k]) => groupId(k))).size : emits.length);
      return out.segments;
    });
    const result: [unknown, number[]][] = [];
    for (let r = 0; r < R; r++) {
      const groups = new ReduceGroups<unknown, number>(combine);
      for (const [t, segments] of outputs.entries()) groups.addSegment(segments[r]!, `t${t}`);
      groups.drain((k, v) => {
        assert.equal(partitionOf(groupId(k), R), r, "a key is reduced in its partition");
        result.push([k, v]);
      });
    }
    return result;
  }

  const tasks: [unknown, number][][] = [keys.map((k, i): [unknown, number] => [k, i]), keys.map((k, i): [unknown, number] => [k, 100 + i]).reverse(), []];

  test("without combine: every value, by map task then emit order; keys sorted in each reducer", () => {
    const got = shuffle(tasks, undefined, 1);
    const expected = new Map<string, [unknown, number[]]>();
    for (const emits of tasks) for (const [k, v] of emits) {
      const id = groupId(k);
      if (!expected.has(id)) expected.set(id, [viaJson(k), []]);
      expected.get(id)![1].push(v);
    }
    assert.deepEqual(got, [...expected.keys()].sort().map((id) => expected.get(id)!));
  });

  test("with combine folded at emit and on arrival: the same sums as folding at once, one value per key", () => {
    let calls = 0;
    const sum = (_k: unknown, v: number[]) => {
      calls++;
      assert.equal(v.length, 2);
      return v[0]! + v[1]!;
    };
    for (const R of [1, 3, 7]) {
      const got = new Map(shuffle(tasks, sum, R).map(([k, v]) => [groupId(k), v]));
      const expected = new Map<string, number>();
      for (const emits of tasks) for (const [k, v] of emits) expected.set(groupId(k), (expected.get(groupId(k)) ?? 0) + v);
      assert.deepEqual(new Map([...got].map(([k, v]) => [k, v.length === 1 ? v[0] : NaN])), expected);
    }
    assert.ok(calls > 0);
  });

  test("a map task stops folding once most keys were new, and the reducers' sums stay the same", () => {
    let x = 11;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    const sum = (_k: unknown, v: number[]) => v[0]! + v[1]!;
    // Distinct keys: after the first 8 emits every pair is shipped as it is.
    const distinct = new MapPairs<string, number>(sum, 1, 8);
    for (let i = 0; i < 100; i++) distinct.add(`k${i}`, i);
    assert.equal(distinct.folds, false);
    for (let i = 0; i < 50; i++) distinct.add("again", 1);
    assert.deepEqual(distinct.encode().rows, [150], "pairs after the switch are not folded");
    const early = new MapPairs<string, number>(sum, 1, 8);
    for (let i = 0; i < 7; i++) early.add(`k${i}`, i);
    assert.equal(early.folds, true, "no decision before the window ends");
    early.add("k7", 7);
    assert.equal(early.folds, false);
    // Keys that repeat (4 in the first 8 emits): still folding after many emits, one pair per key.
    const repeating = new MapPairs<string, number>(sum, 1, 8);
    for (let i = 0; i < 1000; i++) repeating.add(`k${i % 4}`, i);
    assert.equal(repeating.folds, true);
    assert.deepEqual(repeating.encode().rows, [4]);
    // Without combine there is nothing to fold.
    assert.equal(new MapPairs<string, number>(undefined, 1).folds, false);
    // Mixed tasks (some keys repeat, most do not), small windows: the sums of folding at once.
    for (let round = 0; round < 20; round++) {
      const mixed: [unknown, number][][] = Array.from({ length: 1 + rnd(4) }, () => Array.from({ length: rnd(300) }, (): [unknown, number] => [rnd(3) === 0 ? `hot${rnd(3)}` : `k${rnd(1000)}`, rnd(100)]));
      for (const R of [1, 3]) {
        const got = new Map(shuffle(mixed, sum, R, 1 + rnd(64)).map(([k, v]) => [groupId(k), v]));
        const expected = new Map<string, number[]>();
        for (const emits of mixed) for (const [k, v] of emits) expected.set(groupId(k), [(expected.get(groupId(k))?.[0] ?? 0) + v]);
        assert.deepEqual(got, expected, `round ${round}, R = ${R}`);
      }
    }
  });

  test("combine gets the key itself, on both sides", () => {
    const seen: unknown[] = [];
    const combine = (k: unknown, v: number[]) => {
      seen.push(k);
      return v[0]! + v[1]!;
    };
    shuffle([[[{ x: 1 }, 1], [{ x: 1 }, 2]], [[{ x: 1 }, 3]]], combine, 1);
    assert.deepEqual(seen, [{ x: 1 }, { x: 1 }]);
  });

  test("an undefined value is still a value", async () => {
    const pairs = new MapPairs<string, unknown>((_k, v) => v.filter((x) => x !== null && x !== undefined).length, 1);
    pairs.add("k", undefined);
    pairs.add("k", undefined);
    const groups = new ReduceGroups<string, unknown>((_k, v) => v.length);
    groups.addSegment(pairs.encode().segments[0]!, "t0");
    const got: unknown[] = [];
    await groups.drain((k, v) => void got.push([k, v]));
    assert.deepEqual(got, [["k", [0]]]);
  });
});
