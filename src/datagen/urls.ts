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
/** Bytes {@link writePageUrl} may write past a URL's end (later output overwrites them). */
export const URL_OVERRUN = 8;

/** Three letters for each x < 26^3, packed little-endian: x % 26, x / 26 % 26, x / 676. */
const TRIGRAMS = Int32Array.from({ length: 17_576 }, (_, x) => (97 + (x % 26)) | ((97 + (Math.floor(x / 26) % 26)) << 8) | ((97 + Math.floor(x / 676)) << 16));

/**
 * Writes the URL of page `id` for `seed` into `out` (`view` over the same bytes) at `pos`; returns
 * its length. It may write up to {@link URL_OVERRUN} bytes past the end.
 */
export function writePageUrl(seed: number, id: number, out: Uint8Array, pos: number, view?: DataView): number {
  const rng = new Xoshiro128(deriveSeed(seed, URL_TAG, id));
  const len = 10 + rng.nextInt(91);
  if (!view) {
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    if (out.byteLength - pos < len + URL_OVERRUN) {
      // no room to overrun: go through a scratch buffer
      const n = writePageUrl(seed, id, scratch, 0, scratchView);
      out.set(scratch.subarray(0, n), pos);
      return n;
    }
    view = dv;
  }
  // One 32-bit draw gives six letters (26^6 is 7% of 2^32: the bias is negligible): r % 26, r / 26 % 26, ...
  for (let i = 0; i < len; i += 6) {
    const r = rng.nextU32();
    const high = Math.floor(r / 17_576);
    view.setInt32(pos + i, TRIGRAMS[r - high * 17_576]!, true);
    view.setInt32(pos + i + 3, TRIGRAMS[high % 17_576]!, true);
  }
  return len;
}

const scratch = new Uint8Array(MAX_URL_LENGTH + URL_OVERRUN);
const scratchView = new DataView(scratch.buffer);

/** The URL of page `id` for `seed`. */
export function pageUrl(seed: number, id: number): string {
  const len = writePageUrl(seed, id, scratch, 0, scratchView);
  return Buffer.from(scratch.subarray(0, len)).toString("latin1");
}

let shared: UrlSpace | undefined;

/** Page URLs by id, cached up to `maxCached` ids (beyond that they are recomputed each time). */
export class UrlSpace {
  /** One URL space per thread for the latest (seed, pages), so every row range of a data set reuses its cache. */
  static shared(seed: number, pages: number): UrlSpace {
    if (shared?.seed !== seed || shared.pages !== pages) shared = new UrlSpace(seed, pages);
    return shared;
  }

  private readonly pool: BytePool;
  /** Pool ref of each cached id, -1 until first used. */
  private readonly refs: Int32Array;

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
    const cached = Math.min(pages, maxCached);
    this.refs = new Int32Array(cached).fill(-1);
    this.pool = new BytePool(Math.min(cached, 1 << 16) * 64);
  }

  /** Writes page `id`'s URL into `out` (`view` over the same bytes) at `pos`; returns the position after it. */
  write(id: number, out: Uint8Array, view: DataView, pos: number): number {
    const ref = id < this.refs.length ? this.ref(id) : -1;
    return ref < 0 ? pos + writePageUrl(this.seed, id, out, pos, view) : this.pool.copy(ref, view, pos);
  }

  /**
   * Looks up the pool refs of `n` ids (-1: not cached, write it with {@link write}) and touches their
   * bytes, so that the cache misses of a batch of rows overlap instead of stalling one row each.
   * Returns a value to keep (so the loads are not optimized away).
   */
  resolve(ids: Float64Array, refs: Int32Array, n: number): number {
    const cached = this.refs.length;
    const words = this.pool.words;
    const last = words.length - 1;
    let touched = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      const ref = id < cached ? this.refs[id]! : -1;
      refs[i] = ref;
      if (ref >= 0) touched = (touched + words[ref]! + words[Math.min(ref + 15, last)]!) | 0;
    }
    // first uses (cache fills) after the touches: they may grow the pool
    for (let i = 0; i < n; i++) if (refs[i]! < 0 && ids[i]! < cached) refs[i] = this.ref(ids[i]!);
    return touched;
  }

  /** Copies the cached URL at pool `ref` into `view` at `pos`; returns the position after it. */
  copy(ref: number, view: DataView, pos: number): number {
    return this.pool.copy(ref, view, pos);
  }

  private ref(id: number): number {
    let ref = this.refs[id]!;
    if (ref < 0) {
      const seed = this.seed;
      ref = this.pool.addWith(MAX_URL_LENGTH, (bytes, offset, v) => writePageUrl(seed, id, bytes, offset, v));
      this.refs[id] = ref;
    }
    return ref;
  }
}
