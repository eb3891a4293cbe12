/**
 * Parquet footers read with ranged GETs only: the tail of the object (the last 8 bytes, `len` +
 * `PAR1`, plus up to `footerPrefetchBytes` before them), then the rest of the footer if it did not
 * fit. The footer is parsed by `hyparquet`. Row groups are the split units; column chunk byte
 * ranges let a task fetch only the columns it needs, merged into few GETs by {@link coalesceRanges}.
 */
import { parquetMetadata } from "hyparquet";
import type { ColumnChunk, FileMetaData } from "hyparquet";
import { z } from "zod";
import { ValidationError } from "../job/errors.js";
import { parseOrThrow } from "../job/policy.js";
import type { ObjectStore } from "../storage/contract.js";
import { InputChangedError } from "../storage/versions.js";

export type { FileMetaData } from "hyparquet";

/** Options of {@link readParquetFooter}. */
export interface ParquetFooterOptions {
  /** The object's size when already known (saves a HEAD). @default looked up with head() */
  fileSize?: number;
  /** Bytes read before the 8-byte trailer in the first request, so small footers take one GET. @default 64 KiB */
  footerPrefetchBytes?: number;
  signal?: AbortSignal;
  /** The object's listed version (`Split.version`): the reads check it. */
  version?: string | undefined;
  /**
   * Reads bytes [start, end) of the object, e.g. a RangedReader's `getRange` (hedged, counted in
   * its stats). @default `store.get` with `signal` and `version`
   */
  read?: (range: { start: number; end: number }) => Promise<Uint8Array>;
}

const optionsSchema = z.strictObject({
  fileSize: z.number().int().min(0).optional(),
  footerPrefetchBytes: z.number().int().min(0).default(64 * 1024),
  signal: z.instanceof(AbortSignal).optional(),
  version: z.string().optional(),
  read: z.custom<(range: { start: number; end: number }) => Promise<Uint8Array>>((f) => typeof f === "function", "a function reading a byte range").optional(),
});

/** One row group as a split unit. */
export interface RowGroupUnit {
  index: number;
  rows: number;
  /** Bytes [start, end) holding all of the row group's column chunks. */
  start: number;
  end: number;
}

/** The bytes of one column chunk. */
export interface ColumnChunkRange {
  rowGroup: number;
  column: string;
  start: number;
  end: number;
}

export interface ParquetFooter {
  metadata: FileMetaData;
  fileSize: number;
  /** Bytes of the footer (metadata + 8-byte trailer). */
  footerBytes: number;
  /** The footer's bytes as read (the object's last `footerBytes` bytes). */
  bytes: Uint8Array;
  /**
   * Every byte read to find the footer: the object's bytes from `start` to its end (the footer
   * and whatever the first read held before it), so a caller reuses them instead of reading again.
   */
  tail: { start: number; bytes: Uint8Array };
}

const MAGIC = 0x31524150; // "PAR1" little-endian

/** Reads and parses the footer of a Parquet object with one or two ranged GETs. */
export async function readParquetFooter(store: ObjectStore, key: string, options: ParquetFooterOptions = {}): Promise<ParquetFooter> {
  const opts = parseOrThrow(optionsSchema, options, "parquet footer options");
  const where = `${store.url.replace(/\/$/, "")}/${key}`;
  let fileSize = opts.fileSize;
  if (fileSize === undefined) {
    const info = await store.head(key);
    if (!info) throw new ValidationError(`parquet object ${where} not found: check the key or pattern`);
    fileSize = info.size;
  }
  if (fileSize < 12) throw new ValidationError(`${where} is not a Parquet file (${fileSize} bytes, a Parquet file has at least 12): check the format option`);
  const read = opts.read ?? ((range: { start: number; end: number }) => store.get(key, { range, signal: opts.signal, version: opts.version }));
  const tailStart = Math.max(0, fileSize - 8 - opts.footerPrefetchBytes);
  /** A read of exactly [start, end): a shorter one means the object is shorter than listed. */
  const readExactly = async (start: number, end: number): Promise<Uint8Array> => {
    const got = await read({ start, end });
    if (got.byteLength !== end - start) throw new InputChangedError(where, `${fileSize} bytes when listed, a read of bytes ${start}-${end} returned ${got.byteLength}`);
    return got;
  };
  let tail = await readExactly(tailStart, fileSize);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (view.getUint32(tail.byteLength - 4, true) !== MAGIC) throw new ValidationError(`${where} does not end in PAR1, so it is not a Parquet file: check the format option or the file`);
  const metadataLength = view.getUint32(tail.byteLength - 8, true);
  const footerStart = fileSize - 8 - metadataLength;
  if (footerStart < 4) throw new ValidationError(`${where} has a footer length of ${metadataLength} bytes, more than the file holds: the file is damaged`);
  let readFrom = tailStart;
  if (footerStart < tailStart) {
    // The footer is longer than the first read: one more GET for the rest of it.
    const head = await readExactly(footerStart, tailStart);
    const joined = new Uint8Array(fileSize - footerStart);
    joined.set(head, 0);
    joined.set(tail, head.byteLength);
    tail = joined;
    readFrom = footerStart;
  }
  const bytes = tail.subarray(footerStart - readFrom);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes);
  } catch (err) {
    throw new ValidationError(`cannot parse the Parquet footer of ${where}: ${(err as Error).message}`, { cause: err });
  }
  return { metadata, fileSize, footerBytes: metadataLength + 8, bytes, tail: { start: readFrom, bytes: tail } };
}

/** The first byte of a column chunk: its dictionary page when it has one, else its first data page. */
function chunkStart(chunk: ColumnChunk): number {
  const md = chunk.meta_data;
  if (!md) return Number(chunk.file_offset);
  const data = Number(md.data_page_offset);
  const dict = md.dictionary_page_offset === undefined ? undefined : Number(md.dictionary_page_offset);
  // Some writers put 0 for "no dictionary"; a real dictionary page comes before the data pages.
  return dict !== undefined && dict > 0 && dict < data ? dict : data;
}

function chunkRange(chunk: ColumnChunk): { start: number; end: number } {
  const start = chunkStart(chunk);
  return { start, end: start + Number(chunk.meta_data?.total_compressed_size ?? 0n) };
}

/** One unit per row group, with its row count and byte range. */
export function rowGroupUnits(metadata: FileMetaData): RowGroupUnit[] {
  return metadata.row_groups.map((rg, index) => {
    let start = Infinity;
    let end = 0;
    for (const c of rg.columns) {
      const r = chunkRange(c);
      if (r.start < start) start = r.start;
      if (r.end > end) end = r.end;
    }
    if (!Number.isFinite(start)) start = end = 0;
    return { index, rows: Number(rg.num_rows), start, end };
  });
}

/** The dotted column path of a chunk (`a.b` for nested columns). */
function columnName(chunk: ColumnChunk): string {
  return chunk.meta_data?.path_in_schema.join(".") ?? "";
}

/** The names of the leaf columns, in file order. */
export function parquetColumns(metadata: FileMetaData): string[] {
  return metadata.row_groups[0]?.columns.map(columnName) ?? [];
}

/**
 * Byte ranges of the chunks of `columns` (all row groups, or only `rowGroups`), so a task can GET
 * just those: a nested column's every leaf, a name matched ignoring case when no leaf has it
 * exactly. Throws ValidationError naming the file's columns when one is missing.
 */
export function columnChunkRanges(metadata: FileMetaData, columns: string[], rowGroups?: number[]): ColumnChunkRange[] {
  if (metadata.row_groups.length === 0) return []; // no rows: no chunks (the footer names the columns)
  const known = parquetColumns(metadata);
  // A column is its leaf, or every leaf under it (a LIST, STRUCT or MAP: `lst.list.element`); named as the table names it, else ignoring case, as DuckDB binds names.
  const under = (leaf: string, c: string) => leaf === c || leaf.startsWith(`${c}.`);
  const leavesOf = (c: string) => {
    const exact = known.filter((n) => under(n, c));
    return exact.length > 0 ? exact : known.filter((n) => under(n.toLowerCase(), c.toLowerCase()));
  };
  const missing = columns.filter((c) => leavesOf(c).length === 0);
  if (missing.length > 0) throw new ValidationError(`no column ${missing.map((m) => `"${m}"`).join(", ")} in this Parquet file; it has ${known.join(", ")}`);
  const wanted = new Set(columns.flatMap(leavesOf));
  const groups = rowGroups ?? metadata.row_groups.map((_, i) => i);
  const out: ColumnChunkRange[] = [];
  for (const g of groups) {
    const rg = metadata.row_groups[g];
    if (!rg) throw new ValidationError(`row group ${g} does not exist (the file has ${metadata.row_groups.length})`);
    for (const c of rg.columns) {
      const name = columnName(c);
      if (wanted.has(name)) out.push({ rowGroup: g, column: name, ...chunkRange(c) });
    }
  }
  return out;
}

/** One GET of {@link coalesceRanges}: bytes [start, end), of which only `parts` are wanted (the rest are gaps read and dropped). */
export interface CoalescedRead {
  start: number;
  end: number;
  /** The wanted byte ranges inside the read, in order, disjoint. */
  parts: { start: number; end: number }[];
}

/**
 * Byte ranges (any order, overlaps allowed) as the fewest reads within two limits: ranges less
 * than `maxGap` bytes apart share one read (the gap between them is read and dropped), and no
 * read is longer than `maxBytes` (a longer range is cut into reads of `maxBytes`), so a read's
 * memory and a hedge's repeat stay bounded. Empty ranges are dropped.
 */
export function coalesceRanges(ranges: { start: number; end: number }[], limits: { maxGap: number; maxBytes: number }): CoalescedRead[] {
  const { maxGap, maxBytes } = limits;
  if (!(maxBytes >= 1) || !(maxGap >= 0)) throw new RangeError(`coalesceRanges: maxBytes must be >= 1 and maxGap >= 0 (got ${maxBytes}, ${maxGap})`);
  // Disjoint, sorted: overlapping or touching ranges joined.
  const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const joined: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = joined[joined.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else joined.push({ start: r.start, end: r.end });
  }
  const reads: CoalescedRead[] = [];
  for (const r of joined) {
    for (let start = r.start; start < r.end; start = Math.min(r.end, start + maxBytes)) {
      const part = { start, end: Math.min(r.end, start + maxBytes) };
      const last = reads[reads.length - 1];
      if (last && part.start - last.end < maxGap && part.end - last.start <= maxBytes) {
        last.end = part.end;
        last.parts.push(part);
      } else {
        reads.push({ start: part.start, end: part.end, parts: [part] });
      }
    }
  }
  return reads;
}
