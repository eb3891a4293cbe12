/**
 * Puts a task's splits where DuckDB can read them: local temp files, written from ranged GETs
 * (parallel, hedged: storage/ranged.ts) without holding whole objects in JS memory.
 * - CSV/NDJSON byte ranges: exactly the data records the range owns, never a header line, read by
 *   the one split reader (splits/csv-split.ts) with the table's dialect; the file records the
 *   object's header names, so objects with the same columns in another order are matched by name.
 * - gzip/deflate objects: decompressed as they stream (node:zlib), header line dropped likewise.
 *   zstd objects (Node 20 has no zstd): the whole object, keeping its extension (DuckDB
 *   decompresses; the file keeps its header line, its names read by DuckDB).
 * - Parquet: a sparse file of the object's size holding only the footer and the column chunks
 *   of the needed columns, at their own offsets; DuckDB reads nothing else. Fetched in few GETs:
 *   the footer's one tail read reused, nearby chunks merged ({@link PARQUET_GAP_BYTES}). A
 *   Parquet object is read whole by one task (all its row groups): the planner must not spread
 *   one file's row groups over several tasks (mapreduce/inputs.ts wholeParquetFiles merges them
 *   back).
 * - In place, for a store whose objects are local files (`store.localPath`): a Parquet object, a compressed object or a
 *   CSV/NDJSON split covering its whole object is not copied: DuckDB reads the store's own file
 *   (for Parquet, only the footer and the needed column chunks, as from the sparse copy). Byte
 *   ranges of part of an object are still copied (DuckDB cannot read a byte range of a file).
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectStore } from "../storage/contract.js";
import type { RangedReader } from "../storage/ranged.js";
import { ValidationError } from "../job/errors.js";
import { NotFoundError } from "../storage/errors.js";
import { checkVersion, InputChangedError, objectUrl } from "../storage/versions.js";
import { checkRecordLengths } from "../splits/csv-range.js";
import { openDuckDb } from "../duckdb/index.js";
import { sqlString } from "../duckdb/sql.js";
import { parseHeader, type CsvSplitData } from "../splits/csv-split.js";
import { csvDialectSchema, MAX_RECORD_BYTES, type CsvDialect } from "../splits/dialect.js";
import { FirstLineEnd, firstLineEndOf } from "../splits/line-end.js";
import { coalesceRanges, columnChunkRanges, parquetColumns, readParquetFooter } from "../splits/parquet.js";
import type { Split } from "../splits/split.js";
import { openSplitReads, pinnedRead, workerReadAhead } from "./split-reads.js";
import type { CsvFile } from "./table-source.js";

/**
 * A CSV/NDJSON range is parsed in reads of READ_CHUNK_BYTES out of read-ahead blocks (split-reads.ts;
 * views of a block: no copy; at most MAX_RECORD_BYTES, so the record length check stays a few
 * native searches per read). Memory: up to 1 + ahead blocks per task, sized by split-reads.ts (readAheadFor).
 */
const READ_CHUNK_BYTES = 8 * 1024 * 1024;
const MiB = 1024 * 1024;

export interface MaterializeOptions {
  reader: RangedReader;
  /** Parquet: the columns the query reads. @default all */
  columns?: string[];
  signal?: AbortSignal;
  /** Called with the bytes DuckDB will read from files read in place (the reader does not see them). */
  onInPlaceBytes?: (bytes: number) => void;
  /** CSV: the table's dialect. @default headerless, RFC 4180 quoting */
  dialect?: CsvDialect;
  /** CSV ranges: read-ahead block size and count, and the bytes per read of the range (tests use small ones to cross many blocks). @default {@link workerReadAhead}, 8 MiB reads */
  readAhead?: { blockSize: number; ahead: number; chunkSize: number };
}

export interface LocalFile extends CsvFile {
  path: string;
  /** The split it holds (for Parquet, the first split of its object). */
  split: Split;
  /** The store's own file (local store), not a temp copy. */
  inPlace?: boolean;
}

/** Writes each split to a file under `dir`; returns the files DuckDB should read (empty ranges skipped). */
export async function materializeSplits(store: ObjectStore, splits: Split[], dir: string, options: MaterializeOptions): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const parquetDone = new Set<string>();
  const localPath = store.localPath;
  const dialect = options.dialect ?? csvDialectSchema.parse({});
  const headers = new Map<string, Promise<CsvSplitData>>();
  const readAhead = options.readAhead ?? workerReadAhead(READ_CHUNK_BYTES);
  const object = (split: Split) => objectUrl(store.url, split.key);
  const pinned = (split: Split) => pinnedRead(split, options.signal);
  /** A split's records; `release()` once done with them (their bytes are views of read-ahead blocks, read into again after). */
  const open = (split: Split, range = split.range) => openSplitReads(options.reader, split, dialect, { object: object(split), readAhead, range, ...(options.signal ? { signal: options.signal } : {}) });
  /** The header names of a CSV object (one read per object and task). */
  const namesOf = async (split: Split): Promise<{ names?: string[] }> => {
    if (split.format !== "csv" || !dialect.header) return {};
    let h = headers.get(split.key);
    if (!h) {
      h = open(split, { start: 0, end: 0 }).then((d) => (d.release(), d));
      headers.set(split.key, h);
    }
    const names = (await h).header;
    return names ? { names } : {};
  };
  for (const [i, split] of splits.entries()) {
    const wholeObject = split.format === "parquet" || split.compression === "zstd" || (split.compression === undefined && split.range.start === 0 && split.range.end === split.fileSize);
    if (localPath && wholeObject) {
      if (split.format === "parquet") {
        if (parquetDone.has(split.key)) continue;
        parquetDone.add(split.key);
      }
      if (split.fileSize === 0) continue;
      // Read in place, the file is whatever it is now: checked before (here) and after DuckDB read it (checkInPlaceUnchanged).
      await checkInPlaceUnchanged(store, [split]);
      const path = localPath(split.key);
      const zstdHeader = split.compression === "zstd" && split.format === "csv" && dialect.header;
      const names = zstdHeader ? { names: await zstdHeaderNames(path, dialect, object(split)) } : split.compression ? {} : await namesOf(split);
      // DuckDB 1.5 drops a last line longer than its buffer without a word: check lengths first.
      const get = (start: number, end: number) => store.get(split.key, { range: { start, end }, ...pinned(split) });
      if (split.format !== "parquet" && !split.compression) await checkRecordLengths(get, split.fileSize, MAX_RECORD_BYTES, object(split));
      const newLine = split.format === "csv" && !split.compression ? await firstLineEndOf(get, split.fileSize, dialect, MAX_RECORD_BYTES) : undefined;
      files.push({ path, split, inPlace: true, headerLine: split.format === "csv" && dialect.header, object: object(split), ...names, ...(newLine ? { newLine } : {}) });
      options.onInPlaceBytes?.(split.format === "parquet" ? await parquetBytesNeeded(store, split, options) : split.fileSize);
      continue;
    }
    if (split.format === "parquet") {
      if (parquetDone.has(split.key)) continue;
      parquetDone.add(split.key);
      files.push({ path: await sparseParquet(store, split, join(dir, `p${i}.parquet`), options, readAhead), split, headerLine: false, object: object(split) });
    } else if (split.compression === "zstd") {
      const ext = split.key.slice(split.key.lastIndexOf("."));
      const file = join(dir, `c${i}.${split.format === "ndjson" ? "json" : "csv"}${ext}`);
      await writeStream(file, options.reader.stream(split.key, { range: { start: 0, end: split.fileSize }, ...pinned(split) }));
      const headerLine = split.format === "csv" && dialect.header;
      files.push({ path: file, split, headerLine, object: object(split), ...(headerLine ? { names: await zstdHeaderNames(file, dialect, object(split)) } : {}) });
    } else {
      if (split.range.end <= split.range.start) continue;
      const file = join(dir, `r${i}.${split.format === "ndjson" ? "json" : "csv"}`);
      const data = await open(split);
      if (data.header) headers.set(split.key, Promise.resolve(data));
      const lineEnd = new FirstLineEnd(split.format === "csv" ? dialect : undefined);
      let bytes: number;
      try {
        const records = lineEnd.tap(data.bytes);
        bytes = await writeStream(file, data.fromObjectStart ? records : featherBom(records));
      } finally {
        data.release();
      }
      const newLine = split.format === "csv" ? lineEnd.found : undefined;
      if (bytes > 0) files.push({ path: file, split, headerLine: false, object: object(split), ...(data.header ? { names: data.header } : {}), ...(newLine ? { newLine } : {}) });
    }
  }
  return files;
}

/**
 * Throws when an object read in place (a local store's own file) is no longer the one listed: its
 * version (size, mtime, inode), or its size for a split listed without one. A task calls it for
 * its in-place files once DuckDB has read them, as materializeSplits does before.
 */
export async function checkInPlaceUnchanged(store: ObjectStore, splits: Split[]): Promise<void> {
  for (const split of splits) {
    const now = await store.head(split.key);
    if (!now) throw new NotFoundError(store.url, split.key);
    const where = objectUrl(store.url, split.key);
    if (split.version !== undefined) checkVersion(where, split.version, now.version);
    else if (now.size !== split.fileSize) throw new InputChangedError(where, `${split.fileSize} bytes when listed, ${now.size} now`);
  }
}

/** The header names of a zstd CSV file, read by DuckDB (Node 20 cannot decompress zstd). */
async function zstdHeaderNames(file: string, d: CsvDialect, object: string): Promise<string[]> {
  const db = await openDuckDb({ threads: 1 });
  try {
    const [row] = await db.all<{ line: string }>(
      // Lines cut at LF (a CRLF line keeps its CR, dropped below): DuckDB's own line-ending detection fails on a CRLF file holding a quoted LF.
      `SELECT line FROM read_csv(${sqlString(file)}, columns = {'line': 'VARCHAR'}, header = false, delim = ${sqlString("\u0001")}, quote = '', escape = '', new_line = '\\n', strict_mode = false, auto_detect = false, max_line_size = ${MAX_RECORD_BYTES}) LIMIT 1`,
    );
    return parseHeader(new TextEncoder().encode((row?.line ?? "").replace(/\r$/, "")), d, object);
  } finally {
    db.close();
  }
}

/**
 * Writes `chunks` to a new file, each one written (not queued) before the next is asked for: a
 * chunk may be a view of a read-ahead block that is read into again after the next read.
 */
async function writeStream(file: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const fh = await open(file, "w");
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      for (let done = 0; done < chunk.byteLength; ) done += (await fh.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      bytes += chunk.byteLength;
    }
  } finally {
    await fh.close();
  }
  return bytes;
}

const BOM = Uint8Array.of(0xef, 0xbb, 0xbf);

/**
 * Bytes for a temp file whose first bytes are not its object's first: DuckDB drops a U+FEFF at a
 * file's start as a BOM, but here one is the first character of a record (a range cut mid-object,
 * the records after a header), which DuckDB alone reading the object keeps. So the file then starts
 * with one more, which DuckDB drops instead.
 */
async function* featherBom(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let head: Uint8Array = new Uint8Array(0); // the first bytes while fewer than 3, copied (chunks are views of blocks read into again)
  let decided = false;
  for await (const c of chunks) {
    if (decided) {
      yield c;
      continue;
    }
    const first: Uint8Array = head.byteLength === 0 && c.byteLength >= BOM.byteLength ? c : Buffer.concat([head, c]);
    if (first.byteLength < BOM.byteLength) {
      head = first;
      continue;
    }
    decided = true;
    if (first[0] === BOM[0] && first[1] === BOM[1] && first[2] === BOM[2]) yield BOM;
    yield first;
  }
  if (!decided && head.byteLength > 0) yield head;
}

/**
 * Parquet column chunks less than this apart are read in one GET (the gap read and dropped).
 * Merging two chunks costs reading the gap; a GET of its own costs the GET. Through versitygw
 * (docs/performance.md, "Through S3") a GET costs the client ~5 ms of CPU besides its bytes, and
 * bytes ~2.8 ms per MiB (2.9 CPU-s/GiB in 32 MiB GETs): a gap costs less than the GET it saves up
 * to ~1.8 MiB, and on average over gaps of 0-2 MiB merging saves ~2 ms per GET. Measured on
 * Query 2's Parquet (`npm run bench s3-read`; gaps of 1.12 MiB between row groups), 2 MiB made 40
 * GETs where 1 MiB made 56 and cost less CPU on both sides (client 0.16-0.17 against 0.18-0.19
 * CPU-s, server 0.07 against 0.07-0.08) for 35% more bytes (69 MiB against 51). With a cheaper GET body path bytes
 * cost less, which moves the break-even up. On AWS S3 a GET's time to first byte (~15-30 ms) at
 * ~90 MB/s per connection is worth 1.3-2.7 MB. The gap bytes are fetched, so they count in
 * `bytesRead`.
 */
export const PARQUET_GAP_BYTES = 2 * MiB;
/**
 * The first, speculative read of a Parquet object's tail (plus its 8-byte trailer). Footers of a
 * few row groups take a few KiB (Query 2's 33 MB files: 3.9 KB), of hundreds of row groups x tens
 * of columns a few hundred KiB. 256 KiB costs ~0.5 ms of client CPU more than 64 KiB would, a
 * second GET ~5 ms; and the bytes it holds before the footer serve the last column chunks (an
 * object under 256 KiB takes this one GET in all).
 */
export const PARQUET_TAIL_BYTES = 256 * 1024;
/** GETs of column chunks in flight at once per object (the RangedReader's own default concurrency). */
const PARQUET_GETS_IN_FLIGHT = 8;
const PARQUET_MAGIC = new TextEncoder().encode("PAR1");

/**
 * The sparse copy of a Parquet object read through a store (not in place). The footer is read
 * once: the object's last PARQUET_TAIL_BYTES in one GET (one more GET only for a longer footer),
 * and those bytes are written as the file's tail. The needed column chunks, less what that read
 * already holds, are fetched as the GETs {@link coalesceRanges} makes of them: chunks less than
 * PARQUET_GAP_BYTES (2 MiB) apart share a GET, none longer than the read-ahead block (8-32 MiB by the
 * worker's memory, so a hedge's repeat and a GET's buffer stay bounded), at most
 * PARQUET_GETS_IN_FLIGHT at once and at most (1 + ahead) blocks of bytes in flight (what a CSV
 * range's read-ahead holds). Only the footer's and the chunks' bytes are written, at their own
 * offsets: a gap read inside a GET is dropped, holes stay holes.
 */
async function sparseParquet(store: ObjectStore, split: Split, file: string, options: MaterializeOptions, readAhead: { blockSize: number; ahead: number }): Promise<string> {
  const signal = options.signal;
  const { footer, ranges } = await neededChunks(store, split, options, (range) => options.reader.getRange(split.key, range, pinnedRead(split, signal)));
  const tail = footer.tail;
  const reads = coalesceRanges(
    ranges.map((r) => ({ start: r.start, end: Math.min(r.end, tail.start) })),
    { maxGap: PARQUET_GAP_BYTES, maxBytes: readAhead.blockSize },
  );
  const fh = await open(file, "w");
  try {
    await fh.truncate(split.fileSize);
    await fh.write(PARQUET_MAGIC, 0, PARQUET_MAGIC.byteLength, 0);
    await fh.write(footer.bytes, 0, footer.bytes.byteLength, split.fileSize - footer.footerBytes);
    // The chunks' bytes the tail read already holds.
    for (const r of ranges) {
      const start = Math.max(r.start, tail.start);
      if (r.end > start) await fh.write(tail.bytes, start - tail.start, r.end - start, start);
    }
    await eachWithin(reads, (r) => r.end - r.start, { concurrency: PARQUET_GETS_IN_FLIGHT, bytes: (1 + readAhead.ahead) * readAhead.blockSize }, signal, async (r, readSignal) => {
      const bytes = await options.reader.getRange(split.key, { start: r.start, end: r.end }, pinnedRead(split, readSignal));
      if (bytes.byteLength !== r.end - r.start) throw new InputChangedError(objectUrl(store.url, split.key), `a read of bytes ${r.start}-${r.end} returned ${bytes.byteLength} bytes`);
      for (const p of r.parts) await fh.write(bytes, p.start - r.start, p.end - p.start, p.start);
    });
  } finally {
    await fh.close();
  }
  return file;
}

/**
 * Runs `work` on each item in order, with at most `limits.concurrency` running and the sizes of
 * the running ones within `limits.bytes` (one item always runs, however large). On the first
 * failure the others are aborted (their signal) and waited for before it is thrown, so nothing
 * still writes once this returns.
 */
async function eachWithin<T>(items: T[], size: (item: T) => number, limits: { concurrency: number; bytes: number }, outer: AbortSignal | undefined, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  const signal = outer ? AbortSignal.any([outer, ac.signal]) : ac.signal;
  let next = 0;
  let running = 0;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!failure && next < items.length && running < limits.concurrency && (running === 0 || inFlight + size(items[next]!) <= limits.bytes)) {
        const item = items[next++]!;
        const n = size(item);
        running++;
        inFlight += n;
        work(item, signal).then(
          () => settle(n),
          (error: unknown) => {
            failure ??= { error };
            ac.abort();
            settle(n);
          },
        );
      }
      if (running === 0 && (failure || next === items.length)) resolve();
    };
    const settle = (n: number): void => {
      running--;
      inFlight -= n;
      pump();
    };
    pump();
  });
  if (failure) throw failure.error;
}


/** The bytes DuckDB reads of a Parquet object read in place: its footer and the needed columns' chunks. */
async function parquetBytesNeeded(store: ObjectStore, split: Split, options: MaterializeOptions): Promise<number> {
  const { footer, ranges } = await neededChunks(store, split, options, (range) => store.get(split.key, { range, ...pinnedRead(split, options.signal) }));
  return footer.footerBytes + ranges.reduce((n, r) => n + (r.end - r.start), 0);
}

/**
 * A Parquet object's footer (one read of its last PARQUET_TAIL_BYTES, through `read`) and the
 * byte ranges of the column chunks of the needed columns (`options.columns`, else all). A chunk
 * outside the object's data (before byte 4 or into the footer) is refused: the file is damaged.
 */
async function neededChunks(store: ObjectStore, split: Split, options: MaterializeOptions, read: (range: { start: number; end: number }) => Promise<Uint8Array>) {
  const footer = await readParquetFooter(store, split.key, { fileSize: split.fileSize, footerPrefetchBytes: PARQUET_TAIL_BYTES, ...pinnedRead(split, options.signal), read });
  // Every leaf when no columns are named (the schema's flattened elements name a LIST's inner `list` and `element` too: a SELECT * in a subquery over a LIST column failed on them).
  const columns = options.columns ?? parquetColumns(footer.metadata);
  let ranges: ReturnType<typeof columnChunkRanges>;
  try {
    ranges = columnChunkRanges(footer.metadata, columns);
  } catch (err) {
    // Named by the object (was "no column "c" in this Parquet file", which file not said).
    if (err instanceof ValidationError) throw new ValidationError(`${objectUrl(store.url, split.key)}: ${err.message.replace(/^\[smelter\] /, "")}; DuckDB alone refuses such a glob too ("Schema mismatch"): read the objects with the same columns as one table`);
    throw err;
  }
  const dataEnd = split.fileSize - footer.footerBytes;
  const outside = ranges.find((r) => r.end > r.start && (r.start < 4 || r.end > dataEnd));
  if (outside) throw new ValidationError(`${objectUrl(store.url, split.key)}: the footer puts column "${outside.column}" of row group ${outside.rowGroup} at bytes ${outside.start}-${outside.end}, outside the file's data (bytes 4-${dataEnd}): the Parquet file is damaged; rewrite it`);
  return { footer, ranges };
}

