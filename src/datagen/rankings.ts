/**
 * The Big Data Benchmark's `rankings` table: `pageURL,pageRank,avgDuration`, headerless CSV.
 * Row `i` is page `i` of the URL space ({@link writePageUrl}), so `uservisits.destURL` generated with
 * the same seed and `pages` = this table's row count joins to `pageURL`. pageRank is HiBench's
 * inbound link count, modelled as 10 + a log-normal (median 29, long tail: fitted to the benchmark's
 * tiny data); avgDuration is uniform in 1..99 (HiBench's `nextInt(99) + 1`). Each row has its own
 * PRNG stream, so any row range can be generated alone.
 */
import { COPY_SLACK } from "./bytes.js";
import { deriveSeed, Xoshiro128 } from "./prng.js";
import { generateChunks, type RowSource } from "./row-source.js";
import { MAX_URL_LENGTH, URL_OVERRUN, writePageUrl } from "./urls.js";

const TAG = 0x52414e4b; // "RANK"

/** Options of {@link generateRankings}. */
export interface RankingsOptions {
  /** The data set's seed (use the uservisits seed so the URLs join). */
  seed: number;
  /** Rows to generate. */
  rows: number;
  /** Index of the first row (page id). @default 0 */
  startRow?: number;
  /** Rows per yielded text chunk. @default 16384 */
  chunkRows?: number;
}

/** Yields the CSV bytes (ASCII, `\n` after every row) in chunks of `chunkRows` rows. */
export function* generateRankings(options: RankingsOptions): Generator<Uint8Array> {
  yield* generateChunks(new RankingsSource(options), options.chunkRows);
}

/** The rows of a range of rankings, written on demand into caller buffers. */
export class RankingsSource implements RowSource {
  /** url + overrun, two numbers of at most 16 digits, separators. */
  readonly maxRowBytes = MAX_URL_LENGTH + URL_OVERRUN + 2 * 17 + 2 + COPY_SLACK;
  private readonly seed: number;
  private id: number;
  private readonly end: number;

  constructor(options: RankingsOptions) {
    this.seed = options.seed;
    this.id = options.startRow ?? 0;
    this.end = this.id + options.rows;
  }

  get rowsLeft(): number {
    return this.end - this.id;
  }

  fill(out: Uint8Array, maxRows: number): { rows: number; bytes: number } {
    const fit = Math.floor((out.byteLength - COPY_SLACK) / this.maxRowBytes);
    const rows = Math.max(0, Math.min(maxRows, fit, this.end - this.id));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let pos = 0;
    const end = this.id + rows;
    for (let id = this.id; id < end; id++) {
      const r = new Xoshiro128(deriveSeed(this.seed, TAG, id));
      const pageRank = 10 + Math.max(1, Math.round(19 * Math.exp(0.8 * r.nextGaussian())));
      const avgDuration = 1 + r.nextInt(99);
      pos += writePageUrl(this.seed, id, out, pos, view);
      out[pos++] = 44;
      pos = writeUint(pageRank, out, pos);
      out[pos++] = 44;
      pos = writeUint(avgDuration, out, pos);
      out[pos++] = 10;
    }
    this.id = end;
    return { rows, bytes: pos };
  }
}

/** Writes a non-negative integer below 2^53 in decimal; returns the position after it. */
function writeUint(n: number, out: Uint8Array, pos: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = pos + digits - 1; i >= pos; i--) {
    const q = Math.floor(n / 10);
    out[i] = 48 + n - q * 10;
    n = q;
  }
  return pos + digits;
}
