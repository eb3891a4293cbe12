/**
 * The page URL space shared by `rankings.pageURL` and `uservisits.destURL`: page `id` of a seed is
 * always the same string (lowercase letters, 10 to 100 long, as in the benchmark), so visits drawn
 * from ids in [0, pages) join to the rankings rows 0..pages-1 generated with the same seed.
 */
import { BytePool } from "./bytes.js";
import { deriveSeed, Xoshiro128 } from "./prng.js";

const URL_TAG = 0x55524c53; // "URLS"
/** The longest URL. */
export const MAX_URL_LENGTH = 100;

/** Writes the URL of page `id` for `seed` into `out` at `pos`; returns its length. */
export function writePageUrl(seed: number, id: number, out: Uint8Array, pos: number): number {
  const rng = new Xoshiro128(deriveSeed(seed, URL_TAG, id));
  const len = 10 + rng.nextInt(91);
  for (let i = 0; i < len; i += 6) {
    // One 32-bit draw gives six letters (26^6 is 7% of 2^32: the bias is negligible).
    let r = rng.nextU32();
    const n = Math.min(6, len - i);
    for (let j = 0; j < n; j++) {
      out[pos + i + j] = 97 + (r % 26);
      r = Math.floor(r / 26);
    }
  }
  return len;
}

const scratch = new Uint8Array(MAX_URL_LENGTH);

/** The URL of page `id` for `seed`. */
export function pageUrl(seed: number, id: number): string {
  const len = writePageUrl(seed, id, scratch, 0);
  return Buffer.from(scratch.subarray(0, len)).toString("latin1");
}

/** Page URLs by id, cached up to `maxCached` ids (beyond that they are recomputed each time). */
export class UrlSpace {
  private readonly pool = new BytePool();
  private readonly index: Int32Array;

  /**
   * @param seed the data set's seed
   * @param pages how many pages exist (ids 0..pages-1)
   * @param maxCached ids cached in memory @default 2_000_000 (about 120 MB at most)
   */
  constructor(
    readonly seed: number,
    readonly pages: number,
    maxCached = 2_000_000,
  ) {
    this.index = new Int32Array(Math.min(pages, maxCached)).fill(-1);
  }

  /** Writes page `id`'s URL into `out` at `pos`; returns the position after it. */
  write(id: number, out: Uint8Array, pos: number): number {
    if (id >= this.index.length) return pos + writePageUrl(this.seed, id, out, pos);
    let i = this.index[id] ?? -1;
    if (i < 0) {
      const seed = this.seed;
      i = this.pool.addWith(MAX_URL_LENGTH, (target, offset) => writePageUrl(seed, id, target, offset));
      this.index[id] = i;
    }
    return this.pool.copy(i, out, pos);
  }
}
