/**
 * The line ending of a CSV file's first record, told to DuckDB's reader. DuckDB takes a file's
 * line ending from its first line break, even one inside a quoted field: a CRLF file whose first
 * record holds a quoted `\n` is then refused ("The CSV Parser state machine reached an invalid
 * state"), while `new_line = '\r\n'` reads it. The first record's end is the first `\n` outside
 * quotes (the dialect's quote and escape), so every file Smelter hands DuckDB (a byte range, a
 * decompressed object, an object read in place) says which ending it has.
 */
import type { CsvDialect } from "./dialect.js";

const NL = 10;
const CR = 13;

/** Finds the end of the first record of a stream of CSV bytes, chunk by chunk. */
export class FirstLineEnd {
  readonly #quote: number | undefined;
  readonly #escape: number | undefined;
  #inQuote = false;
  #escaped = false;
  #last = -1;
  #found: "\r\n" | "\n" | undefined;

  constructor(dialect: Pick<CsvDialect, "quote" | "escape"> | undefined) {
    this.#quote = dialect && dialect.quote !== "" ? dialect.quote.charCodeAt(0) : undefined;
    this.#escape = dialect && dialect.quote !== "" && dialect.escape !== "" && dialect.escape !== dialect.quote ? dialect.escape.charCodeAt(0) : undefined;
  }

  /** The first record's line ending, once seen. */
  get found(): "\r\n" | "\n" | undefined {
    return this.#found;
  }

  /** Looks at the next bytes; true once the first record's end is found. */
  feed(chunk: Uint8Array): boolean {
    if (this.#found) return true;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.#escaped) this.#escaped = false;
      else if (this.#inQuote && b === this.#escape) this.#escaped = true;
      else if (b === this.#quote) this.#inQuote = !this.#inQuote;
      else if (b === NL && !this.#inQuote) {
        this.#found = this.#last === CR ? "\r\n" : "\n";
        return true;
      }
      this.#last = b;
    }
    return false;
  }

  /** `chunks` passed through, looked at until the first record's end. */
  async *tap(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of chunks) {
      if (!this.#found) this.feed(c);
      yield c;
    }
  }
}

/**
 * The first record's line ending of an object read with `read(start, end)`, in windows of 64 KiB
 * up to `limit` bytes (the record limit: a longer record is refused elsewhere).
 */
export async function firstLineEndOf(read: (start: number, end: number) => Promise<Uint8Array>, fileSize: number, dialect: Pick<CsvDialect, "quote" | "escape">, limit: number): Promise<"\r\n" | "\n" | undefined> {
  const end = new FirstLineEnd(dialect);
  for (let at = 0, window = 64 * 1024; at < Math.min(fileSize, limit + 2); at += window, window *= 2) {
    if (end.feed(await read(at, Math.min(fileSize, at + window)))) break;
  }
  return end.found;
}
