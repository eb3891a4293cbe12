/**
 * The JSON text filter of `--format json` (src/cli/results.ts nonFiniteAsStrings): DuckDB's bare
 * NaN, Infinity and -Infinity outside strings become "nan", "inf", "-inf", however the text is cut
 * into chunks; strings (with escaped quotes and backslashes) and negative numbers pass unchanged.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, test } from "node:test";
import { nonFiniteAsStrings } from "../../src/cli/results.js";

const filtered = async (chunks: string[]) => text(Readable.from(chunks, { objectMode: false }).setEncoding("utf8").pipe(nonFiniteAsStrings()));

describe("--format json: non-finite doubles inside lists and structs", () => {
  const input = '[{"l":[1.5,NaN,Infinity,-Infinity,-2],"s":"NaN \\"Infinity\\" -Infinity","m":{"k":-Infinity},"n":null,"b":"C:\\\\","t":[NaN]}]';
  const want = '[{"l":[1.5,"nan","inf","-inf",-2],"s":"NaN \\"Infinity\\" -Infinity","m":{"k":"-inf"},"n":null,"b":"C:\\\\","t":["nan"]}]';

  test("whole, and cut at every position into two chunks", async () => {
    assert.equal(await filtered([input]), want);
    for (let i = 1; i < input.length; i++) assert.equal(await filtered([input.slice(0, i), input.slice(i)]), want, `cut at ${i}`);
  });

  test("one character at a time", async () => {
    assert.equal(await filtered([...input]), want);
    assert.deepEqual(JSON.parse(want), [{ l: [1.5, "nan", "inf", "-inf", -2], s: 'NaN "Infinity" -Infinity', m: { k: "-inf" }, n: null, b: "C:\\", t: ["nan"] }]);
  });
});
