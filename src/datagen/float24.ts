/**
 * A fast, exact `Float.toString` for the values Java's `nextFloat()` returns: k / 2^24 for an
 * integer k in [0, 2^24). Gives exactly the bytes of {@link writeJavaFloat} (checked on all 2^24
 * values) at a fraction of the cost, for every value >= 0.001 (99.99% of them); the rest (which print
 * in scientific notation) go to writeJavaFloat.
 *
 * Why it is exact in doubles: with m = k * 2^j normalized to 24 bits, the float's rounding interval
 * is [4m - 2 (or 4m - 1 at a power of two), 4m + 2] in units of 2^-(26+j). Scaled to p significant
 * digits (p <= 9) of a value >= 0.001, that is (4m +- d) * 5^s / 2^t with s <= 11, t > 0: an
 * integer below 2^26 * 5^11 < 2^52 divided by a power of two, so every step is exact.
 */
import { writeJavaFloat } from "./javafloat.js";

/** 5^s, s = 0..11 (exact). */
const POW5 = Array.from({ length: 12 }, (_, s) => 5 ** s);
/** 2^-t, t = 0..63 (exact). */
const INV2 = Array.from({ length: 64 }, (_, t) => 2 ** -t);
/** 10^n, n = 0..9. */
const POW10 = Array.from({ length: 10 }, (_, n) => 10 ** n);
const K_MIN = 16778; // the smallest k with k / 2^24 >= 0.001

/** Writes `Float.toString(k / 2^24)` as ASCII into `out` at `pos`; returns the position after it. */
export function writeFloat24(k: number, out: Uint8Array, pos: number): number {
  if (k < K_MIN) return pos + writeJavaFloat(k / 16777216, out, pos);
  // decimal exponent of the value: -1, -2 or -3
  const e10 = k * 10 >= 16777216 ? -1 : k * 100 >= 16777216 ? -2 : -3;
  const j = Math.clz32(k) - 8;
  const m = k << j;
  const odd = (m & 1) === 1;
  const v4 = 4 * m;
  const lo4 = m === 0x800000 ? v4 - 1 : v4 - 2;
  const hi4 = v4 + 2;
  // the fewest digits p with a decimal in the rounding interval (p = 9 always has one)
  let p = 9;
  while (p > 1 && has(p - 1 - 1 - e10, 26 + j, lo4, hi4, odd)) p--;
  const s = p - 1 - e10;
  const t = 26 + j - s;
  const scale = (POW5[s] ?? 0) * (INV2[t] ?? 0);
  const cmin = bound(lo4 * scale, true, odd);
  const cmax = bound(hi4 * scale, false, odd);
  const a = v4 * scale;
  let c = Math.floor(a);
  const frac = a - c;
  if (frac > 0.5 || (frac === 0.5 && (c & 1) === 1)) c++;
  if (c < cmin) c = cmin;
  if (c > cmax) c = cmax;
  let nd = p;
  let sc = s;
  while (nd > 1 && c % 10 === 0) {
    c = (c / 10) | 0;
    nd--;
    sc--;
  }
  if (c >= (POW10[nd] ?? 0)) return pos + writeJavaFloat(k / 16777216, out, pos); // unreachable: rounded up a digit
  // value = c * 10^-sc, c has nd digits; first digit's exponent nd - 1 - sc is in -3..-1
  let o = pos;
  out[o++] = 48; // "0."
  out[o++] = 46;
  for (let z = sc - nd; z > 0; z--) out[o++] = 48;
  const end = o + nd;
  for (let i = end - 1; i >= o; i--) {
    const q = (c / 10) | 0;
    out[i] = 48 + c - q * 10;
    c = q;
  }
  return end;
}

/** Is there an integer in the rounding interval scaled by 10^s (bounds excluded when m is odd)? */
function has(s: number, e: number, lo4: number, hi4: number, odd: boolean): boolean {
  const scale = (POW5[s] ?? 0) * (INV2[e - s] ?? 0);
  return bound(lo4 * scale, true, odd) <= bound(hi4 * scale, false, odd);
}

/** The smallest (lower) or largest (upper) integer candidate for a scaled bound. */
function bound(x: number, lower: boolean, odd: boolean): number {
  if (lower) {
    const c = Math.ceil(x);
    return odd && c === x ? c + 1 : c;
  }
  const c = Math.floor(x);
  return odd && c === x ? c - 1 : c;
}
