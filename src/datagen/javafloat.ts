/**
 * Java's `Float.toString(float)`, digit for digit: the shortest decimal that rounds back to the same
 * float32 (closest to the exact value when several are that short, even last digit on a tie),
 * printed plain for 1e-3 <= |v| < 1e7 (`0.0014`, `123.0`) and in computerized scientific
 * notation otherwise (`3.1352043E-5`, `1.0E7`), always with at least one digit after the point.
 *
 * The fast path works in doubles and is exact except when a scaled bound or midpoint lands within
 * rounding error of an integer; those rare cases are redone exactly with BigInt.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** Exact powers of ten 1e0..1e22 (every one is a double). */
const POW10: number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Formats `value` (rounded to float32 first) as Java's `Float.toString` does. */
export function javaFloatToString(value: number): string {
  const n = writeJavaFloat(value, scratch, 0);
  return String.fromCharCode.apply(null, scratch.subarray(0, n) as unknown as number[]);
}

const scratch = new Uint16Array(32);
const digitBuf = new Uint8Array(12);
const NAN = [78, 97, 78];
const INF = [73, 110, 102, 105, 110, 105, 116, 121];

/**
 * Writes Java's `Float.toString(value)` as ASCII codes into `out` at `pos` (at most 16 units:
 * sign, 9 digits, point, `E-45`) and returns the number written. No allocation on the fast path.
 */
export function writeJavaFloat(value: number, out: Uint8Array | Uint16Array, pos: number): number {
  const f = Math.fround(value);
  let p = pos;
  if (f !== f) return put(out, p, NAN) - pos;
  if (f < 0 || 1 / f < 0) out[p++] = 45; // "-" (also for -0)
  const a = Math.abs(f);
  if (a === Infinity) return put(out, p, INF) - pos;
  if (a === 0) {
    out[p] = 48;
    out[p + 1] = 46;
    out[p + 2] = 48;
    return p + 3 - pos;
  }
  if (!search.run(a)) exactDigits(a);
  // digits of c (no trailing zeros) into digitBuf, last digit first
  let c = search.c;
  let nd = 0;
  while (c >= 2147483648) {
    const q = Math.floor(c / 10);
    digitBuf[nd++] = c - q * 10;
    c = q;
  }
  let ci = c | 0;
  while (ci >= 10) {
    const q = (ci / 10) | 0;
    digitBuf[nd++] = ci - q * 10;
    ci = q;
  }
  digitBuf[nd++] = ci;
  // digitBuf holds the digits last-first; exp = decimal exponent of the first digit
  const exp = nd - 1 - search.s;
  if (exp >= -3 && exp < 7) {
    if (exp < 0) {
      out[p++] = 48;
      out[p++] = 46;
      for (let i = -1; i > exp; i--) out[p++] = 48;
      for (let i = nd - 1; i >= 0; i--) out[p++] = 48 + (digitBuf[i] ?? 0);
      return p - pos;
    }
    let i = nd - 1;
    for (let k = 0; k <= exp; k++) out[p++] = i >= 0 ? 48 + (digitBuf[i--] ?? 0) : 48;
    out[p++] = 46;
    if (i < 0) out[p++] = 48;
    while (i >= 0) out[p++] = 48 + (digitBuf[i--] ?? 0);
    return p - pos;
  }
  out[p++] = 48 + (digitBuf[nd - 1] ?? 0);
  out[p++] = 46;
  if (nd === 1) out[p++] = 48;
  for (let i = nd - 2; i >= 0; i--) out[p++] = 48 + (digitBuf[i] ?? 0);
  out[p++] = 69; // "E"
  let e = exp;
  if (e < 0) {
    out[p++] = 45;
    e = -e;
  }
  if (e >= 10) out[p++] = 48 + Math.floor(e / 10);
  out[p++] = 48 + (e % 10);
  return p - pos;
}

function put(out: Uint8Array | Uint16Array, p: number, codes: number[]): number {
  for (const c of codes) out[p++] = c;
  return p;
}

const LOG10_2 = 0.30102999566398114;
const NONE = 0;
const FOUND = 1;
const AMBIGUOUS = 2;

/**
 * The shortest-digit search in doubles. State lives in fields (unboxed doubles) rather than
 * module variables, so the hot path allocates nothing.
 */
class DigitSearch {
  /** Result: value ~= c * 10^-s, c without trailing zeros. */
  c = 0;
  s = 0;
  private lo = 0.5;
  private hi = 0.5;
  private a = 0.5;
  private e10 = 0;
  private ps = 0;
  private min = 0;
  private max = 0;
  private scaled = 0.5;

  /** Returns false when a bound or the midpoint is within rounding error of an integer. */
  run(a: number): boolean {
    f32[0] = a;
    const bits = u32[0] ?? 0;
    const biased = bits >>> 23;
    if (biased === 0) return false; // subnormal: leave it to the exact search
    const q = biased - 150;
    const frac = bits & 0x7fffff;
    // half an ulp, 2^(q-1) = a / 2m exactly (a = m * 2^q)
    const half = a / (2 * (frac | 0x800000));
    this.lo = a - (frac === 0 && biased > 1 ? half / 2 : half);
    this.hi = a + half;
    this.a = a;
    let e10 = Math.floor((q + 23) * LOG10_2);
    if (a < scale(1, e10)) e10--;
    else if (a >= scale(1, e10 + 1)) e10++;
    this.e10 = e10;
    // The first length whose grid is finer than the rounding interval usually is the answer.
    let p = Math.min(9, Math.max(1, Math.ceil(e10 + 1 - q * LOG10_2)));
    let r = this.probe(p);
    if (r === AMBIGUOUS) return false;
    if (r === FOUND) {
      while (p > 1) {
        const down = this.probe(p - 1);
        if (down === AMBIGUOUS) return false;
        if (down === NONE) break;
        p--;
      }
      return this.probe(p) === FOUND && this.choose();
    }
    while (r === NONE && p < 10) r = this.probe(++p);
    return r === FOUND && this.choose();
  }

  /** Is there a decimal of `p` significant digits in the rounding interval? */
  private probe(p: number): number {
    const s = p - 1 - this.e10;
    const L = scale(this.lo, s);
    const H = scale(this.hi, s);
    const A = scale(this.a, s);
    const tol = A * 1e-13;
    if (Math.abs(L - Math.round(L)) <= tol || Math.abs(H - Math.round(H)) <= tol) return AMBIGUOUS;
    this.ps = s;
    this.min = Math.ceil(L);
    this.max = Math.floor(H);
    this.scaled = A;
    return this.min <= this.max ? FOUND : NONE;
  }

  /** Picks the candidate closest to the value (after a FOUND probe). */
  private choose(): boolean {
    const A = this.scaled;
    if (Math.abs(A - Math.floor(A) - 0.5) < A * 1e-13) return false;
    let c = Math.round(A);
    if (c < this.min) c = this.min;
    if (c > this.max) c = this.max;
    let s = this.ps;
    while (c % 10 === 0 && c !== 0) {
      c /= 10;
      s--;
    }
    this.c = c;
    this.s = s;
    return true;
  }
}
const search = new DigitSearch();

/** The exact search, leaving its result in `search`. */
function exactDigits(a: number): void {
  const d = exactFloatDigits(a);
  search.c = Number(d.digits);
  search.s = d.digits.length - 1 - d.exp;
}

/**
 * The shortest digits of a positive finite float32: value ~= 0.d1d2d3... * 10^(exp+1), i.e.
 * `digits` is an integer without trailing zeros and `exp` the decimal exponent of its first digit.
 */
export function shortestFloatDigits(a: number): { digits: string; exp: number } {
  if (!search.run(a)) return exactFloatDigits(a);
  const digits = String(search.c);
  return { digits, exp: digits.length - 1 - search.s };
}

/** The exact (BigInt) digit search for a positive finite float32; slow, for tests and rare cases. */
export function exactFloatDigits(a: number): { digits: string; exp: number } {
  f32[0] = a;
  const bits = u32[0] ?? 0;
  const biased = bits >>> 23;
  const frac = bits & 0x7fffff;
  const m = biased === 0 ? frac : frac | 0x800000;
  const q = biased === 0 ? -149 : biased - 150;
  let e10 = Math.floor(Math.log10(a));
  if (a < scale(1, e10)) e10--;
  else if (a >= scale(1, e10 + 1)) e10++;
  return exactShortest(m, q, e10);
}

/** x * 10^s, with one rounding for |s| <= 22. */
function scale(x: number, s: number): number {
  if (s >= 0) return s <= 22 ? x * (POW10[s] ?? 1) : x * 1e22 * (POW10[s - 22] ?? 1);
  return -s <= 22 ? x / (POW10[-s] ?? 1) : x / 1e22 / (POW10[-s - 22] ?? 1);
}

/** Strips trailing zeros of integer string `c` scaled by 10^-s and returns digits + exponent. */
function normalize(c: string, s: number): { digits: string; exp: number } {
  let end = c.length;
  while (end > 1 && c.charCodeAt(end - 1) === 48) end--;
  return { digits: c.slice(0, end), exp: c.length - 1 - s };
}

/** The same search with exact rational arithmetic (value = m * 2^q). */
function exactShortest(m: number, q: number, e10: number): { digits: string; exp: number } {
  const even = (m & 1) === 0;
  const asymmetric = m === 0x800000 && q > -149;
  // Bounds in units of 2^(q-2): value = 4m, upper = 4m + 2, lower = 4m - 2 (or 4m - 1 at a power of two).
  const v4 = BigInt(m) * 4n;
  const hi4 = v4 + 2n;
  const lo4 = asymmetric ? v4 - 1n : v4 - 2n;
  for (let p = 1; p <= 12; p++) {
    const s = p - 1 - e10;
    // x * 2^(q-2) * 10^s as num/den.
    let num = 1n;
    let den = 1n;
    if (q - 2 >= 0) num <<= BigInt(q - 2);
    else den <<= BigInt(2 - q);
    if (s >= 0) num *= 10n ** BigInt(s);
    else den *= 10n ** BigInt(-s);
    const Lnum = lo4 * num;
    const Hnum = hi4 * num;
    let cmin = ceilDiv(Lnum, den);
    if (!even && cmin * den === Lnum) cmin += 1n;
    let cmax = Hnum / den;
    if (!even && cmax * den === Hnum) cmax -= 1n;
    if (cmin > cmax) continue;
    const Anum = v4 * num;
    let c = Anum / den;
    const rem2 = (Anum - c * den) * 2n;
    if (rem2 > den || (rem2 === den && c % 2n === 1n)) c += 1n;
    if (c < cmin) c = cmin;
    if (c > cmax) c = cmax;
    return normalize(c.toString(), s);
  }
  throw new Error(`unreachable: no shortest digits for m=${m} q=${q}`);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const d = a / b;
  return d * b === a ? d : d + 1n;
}
