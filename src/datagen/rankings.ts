/**
 * The Big Data Benchmark's `rankings` table: `pageURL,pageRank,avgDuration`, headerless CSV.
 * Row `i` is page `i` of the URL space ({@link pageUrl}), so `uservisits.destURL` generated with the
 * same seed and `pages` = this table's row count joins to `pageURL`. pageRank is HiBench's inbound
 * link count, modelled as 10 + a log-normal (median 29, long tail: fitted to the benchmark's tiny
 * data); avgDuration is uniform in 1..99 (HiBench's `nextInt(99) + 1`). Each row has its own PRNG
 * stream, so any row range can be generated alone.
 */
import { deriveSeed, Xoshiro128 } from "./prng.js";
import { pageUrl } from "./urls.js";

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
  const chunkRows = options.chunkRows ?? 16_384;
  const first = options.startRow ?? 0;
  const end = first + options.rows;
  let chunk = "";
  let inChunk = 0;
  for (let id = first; id < end; id++) {
    const r = new Xoshiro128(deriveSeed(options.seed, TAG, id));
    const pageRank = 10 + Math.max(1, Math.round(19 * Math.exp(0.8 * r.nextGaussian())));
    const avgDuration = 1 + r.nextInt(99);
    chunk += pageUrl(options.seed, id) + "," + pageRank + "," + avgDuration + "\n";
    if (++inChunk === chunkRows) {
      yield Buffer.from(chunk, "latin1");
      chunk = "";
      inChunk = 0;
    }
  }
  if (inChunk > 0) yield Buffer.from(chunk, "latin1");
}
