/**
 * A small, fast, seedable PRNG: xoshiro128** (Blackman and Vigna), seeded through splitmix32 so
 * that nearby seeds give unrelated streams. Deterministic across platforms: only 32-bit integer
 * arithmetic (`Math.imul`, shifts).
 */

/** Mixes a 32-bit value (splitmix32's finalizer). */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Derives one 32-bit seed from several integers (a seed, a table tag, a block number...). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x6a09e667;
  for (const p of parts) {
    h = mix32(h ^ (p >>> 0));
    h = mix32(h ^ Math.floor(p / 0x100000000));
  }
  return h;
}

export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    this.a = s = mix32(s);
    this.b = s = mix32(s);
    this.c = s = mix32(s);
    this.d = mix32(s);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Writes the next `n` values of {@link nextU32} into `out` (the same stream, faster in bulk). */
  fillU32(out: Uint32Array, n: number): void {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0; i < n; i++) {
      out[i] = Math.imul(rotl(Math.imul(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Skips `n` values of the stream (as `n` calls of {@link nextU32}). */
  skip(n: number): void {
    const sink = new Uint32Array(1024);
    for (; n > 0; n -= 1024) this.fillU32(sink, Math.min(n, 1024));
  }

  /** A uniform integer in [0, n) for n <= 2^32 (multiply-shift; bias below 2^-32 * n). */
  nextInt(n: number): number {
    return Math.floor((this.nextU32() * n) / 0x100000000);
  }

  /** Java's `nextFloat()` distribution: k / 2^24 for a uniform 24-bit k, so exactly a float32 in [0, 1). */
  nextFloat24(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** A standard normal deviate (Box-Muller). */
  nextGaussian(): number {
    const u = 1 - this.nextDouble();
    const v = this.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
