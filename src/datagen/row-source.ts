/**
 * A row source: one contiguous row range of a generated table, written on demand as CSV bytes into
 * buffers the caller owns (so a worker can fill a fresh buffer and hand it over without a copy).
 */
import { COPY_SLACK } from "./bytes.js";

export interface RowSource {
  /** An upper bound on one row's bytes, including scratch room. */
  readonly maxRowBytes: number;
  /** Rows not yet written. */
  readonly rowsLeft: number;
  /** Writes the next rows (at most `maxRows`, as many as fit) into `out` at 0; returns rows and bytes. */
  fill(out: Uint8Array, maxRows: number): { rows: number; bytes: number };
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
