import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { writeFloat24 } from "../../src/datagen/float24.js";
import { writeJavaFloat } from "../../src/datagen/javafloat.js";

const a = new Uint8Array(64);
const b = new Uint8Array(64);
const same = (k: number): void => {
  const n = writeFloat24(k, a, 3) - 3;
  const m = writeJavaFloat(k / 16777216, b, 3);
  if (n !== m || Buffer.compare(a.subarray(3, 3 + n), b.subarray(3, 3 + m)) !== 0)
    assert.fail(`k=${k}: fast ${Buffer.from(a.subarray(3, 3 + n)).toString("latin1")} vs ${Buffer.from(b.subarray(3, 3 + m)).toString("latin1")}`);
};

describe("fast Float.toString of k / 2^24 (the generator's adRevenue)", () => {
  it("prints exactly what writeJavaFloat prints (all 2^24 values were checked once; here a sample)", () => {
    for (let k = 0; k < 40_000; k++) same(k); // scientific notation, the 0.001 boundary
    for (let k = 40_000; k < 1 << 24; k += 11) same(k);
    for (let e = 0; e < 24; e++) for (const d of [-2, -1, 0, 1, 2]) if ((1 << e) + d >= 0 && (1 << e) + d < 1 << 24) same((1 << e) + d);
    for (let k = (1 << 24) - 1000; k < 1 << 24; k++) same(k);
  });

  it("writes at the position given and returns the position after it", () => {
    const out = new Uint8Array(32).fill(120);
    assert.equal(writeFloat24(1945604, out, 5), 5 + "0.115967035".length);
    assert.equal(Buffer.from(out.subarray(5, 16)).toString("latin1"), "0.115967035");
    assert.equal(out[4], 120);
    assert.equal(Buffer.from(out.subarray(0, writeFloat24(526, out, 0))).toString("latin1"), "3.1352043E-5");
  });
});
