/**
 * A row source: one contiguous row range of a generated table, written on demand as CSV bytes into
 * buffers the caller owns (so a worker can fill a fresh buffer and hand it over without a copy).
 */
import { COPY_SLACK } from "./bytes.js";
import { RankingsSource } from "./rankings.js";
import { BLOCK_ROWS, UservisitsSource } from "./uservisits.js";

export const tables = ["uservisits", "rankings"] as const;
export type Table = (typeof tables)[number];

export interface RowSource {
  /** An upper bound on one row's bytes, including scratch room. */
  readonly maxRowBytes: number;
  /** Rows not yet written. */
  readonly rowsLeft: number;
  /** Writes the next rows (at most `maxRows`, as many as fit) into `out` at 0; returns rows and bytes. */
  fill(out: Uint8Array, maxRows: number): { rows: number; bytes: number };
}

/** What to generate: one contiguous row range of a table. */
export interface RangeSpec {
  table: Table;
  seed: number;
  /** uservisits only: pages in the URL space. */
  pages: number;
  startRow: number;
  rows: number;
}

export function openSource(spec: RangeSpec): RowSource {
  return spec.table === "uservisits"
    ? new UservisitsSource({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow, pages: spec.pages })
    : new RankingsSource({ seed: spec.seed, rows: spec.rows, startRow: spec.startRow });
}

/** A fresh buffer for `rows` rows of `source` (not zero-filled: only the bytes written are used). */
export function allocChunk(source: RowSource, rows: number): Uint8Array {
  return Buffer.allocUnsafeSlow(Math.min(rows, source.rowsLeft) * source.maxRowBytes + COPY_SLACK);
}

/** Yields `source`'s CSV bytes (ASCII, `\n` after every row) in chunks of `chunkRows` rows, each in an exact-size buffer. */
export function* generateChunks(source: RowSource, chunkRows = 16_384): Generator<Uint8Array> {
  while (source.rowsLeft > 0) {
    const out = allocChunk(source, chunkRows);
    yield out.slice(0, source.fill(out, chunkRows).bytes);
  }
}

/**
 * The row range is cut at PRNG block boundaries (the unit spread over workers): how many pieces,
 * and piece `i` as [startRow, rows]. Computed, never listed: a trillion rows are 15 million pieces.
 */
export function blockCount(spec: Pick<RangeSpec, "startRow" | "rows">): number {
  if (spec.rows <= 0) return 0;
  return Math.floor((spec.startRow + spec.rows - 1) / BLOCK_ROWS) - Math.floor(spec.startRow / BLOCK_ROWS) + 1;
}

export function blockRange(spec: Pick<RangeSpec, "startRow" | "rows">, i: number): [number, number] {
  const blockStart = (Math.floor(spec.startRow / BLOCK_ROWS) + i) * BLOCK_ROWS;
  const start = Math.max(spec.startRow, blockStart);
  const end = Math.min(spec.startRow + spec.rows, blockStart + BLOCK_ROWS);
  return [start, end - start];
}
