import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { exactFloatDigits, javaFloatToString, shortestFloatDigits } from "../../src/datagen/javafloat.js";
import { BDB_TINY_USERVISITS } from "../helpers/bdb-tiny.js";

const TINY = BDB_TINY_USERVISITS;

describe("Java Float.toString", () => {
  it("matches Java on known values", () => {
    const cases: [number, string][] = [
      [0, "0.0"],
      [-0, "-0.0"],
      [NaN, "NaN"],
      [Infinity, "Infinity"],
      [-Infinity, "-Infinity"],
      [1, "1.0"],
      [0.1, "0.1"],
      [1 / 3, "0.33333334"],
      [0.001, "0.001"],
      [0.0009999999, "9.999999E-4"],
      [1e-5, "1.0E-5"],
      [3.1352043e-5, "3.1352043E-5"],
      [100, "100.0"],
      [1234567, "1234567.0"],
      [9999999, "9999999.0"],
      [1e7, "1.0E7"],
      [12345678, "1.2345678E7"],
      [3.4028235e38, "3.4028235E38"],
      [1.17549435e-38, "1.1754944E-38"], // JDK 19+ (shortest); JDK <= 18 printed 1.17549435E-38
      [1.4e-45, "1.4E-45"],
      [-2.5, "-2.5"],
      [16777216, "1.6777216E7"],
      [0.5, "0.5"],
      [2 ** -24, "5.9604645E-8"],
    ];
    for (const [v, s] of cases) assert.equal(javaFloatToString(v), s, `Float.toString(${v}f)`);
  });

  it("prints every adRevenue of the benchmark's tiny data exactly as HiBench's Java did", () => {
    let n = 0;
    let scientific = 0;
    for (const f of readdirSync(TINY)) {
      for (const line of readFileSync(TINY + f, "latin1").split("\n")) {
        if (!line) continue;
        const revenue = line.split(",")[3] ?? "";
        assert.equal(javaFloatToString(Number(revenue)), revenue);
        if (revenue.includes("E")) scientific++;
        n++;
      }
    }
    assert.equal(n, 10_000);
    assert.equal(scientific, 14);
  });

  it("agrees with the exact BigInt search on k/2^24 values and random floats", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let s = 987654321;
    for (let i = 0; i < 30_000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const k = (s >>> 8) || 1;
      assert.deepEqual(shortestFloatDigits(k / 16777216), exactFloatDigits(k / 16777216), `k=${k}`);
      u[0] = s & 0x7fffffff;
      const a = f[0] ?? 0;
      if (a > 0 && Number.isFinite(a)) assert.deepEqual(shortestFloatDigits(a), exactFloatDigits(a), `bits=${s}`);
    }
  });

  it("round-trips: the printed value parses back to the same float32", () => {
    for (let k = 1; k < 1 << 24; k += 4099) {
      const v = k / 16777216;
      assert.equal(Math.fround(Number(javaFloatToString(v))), v);
    }
  });
});
