/**
 * A split: one unit of input work, small JSON that rides in task payloads. A byte range of a
 * CSV/NDJSON object (records owned by the range, see csv-range.ts), one or more row groups of a
 * Parquet object, or a whole compressed object.
 */
import { z } from "zod";

export const splitFormats = ["csv", "ndjson", "parquet"] as const;
export type SplitFormat = (typeof splitFormats)[number];

export const compressions = ["gzip", "deflate", "zstd"] as const;
export type Compression = (typeof compressions)[number];

export const splitSchema = z.strictObject({
  /** The object's key in its store. */
  key: z.string().min(1),
  /** The store's root URL (`s3://bucket`, `file:///dir`, `memory://name`), when known. */
  store: z.string().optional(),
  format: z.enum(splitFormats),
  /** Bytes [start, end) of the object this split covers (the row groups' bytes for Parquet). */
  range: z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) }),
  /** The object's size in bytes. */
  fileSize: z.number().int().min(0),
  /** The object's version when listed (storage/versions.ts: the ETag on S3; size, mtime and inode of a local file): every read of the split checks it, so an input rewritten during the job fails it instead of mixing two versions. */
  version: z.string().min(1).optional(),
  /** Set when the object is compressed: the split is then the whole object. */
  compression: z.enum(compressions).optional(),
  /** Parquet: the row group indexes this split reads. */
  rowGroups: z.array(z.number().int().min(0)).optional(),
  /** Parquet: rows in those row groups. */
  rows: z.number().int().min(0).optional(),
  /** The object is read whole, never cut into byte ranges (CSV whose quoted fields may hold newlines, or with an escape character other than the quote). */
  whole: z.literal(true).optional(),
});

export type Split = z.infer<typeof splitSchema>;

/** Bytes a split reads: its range length (a compressed object's whole size). */
export function splitBytes(split: Split): number {
  return split.range.end - split.range.start;
}

/** True when a split can be cut into smaller byte ranges (uncompressed CSV/NDJSON). */
export function isSplittable(split: Split): boolean {
  return split.format !== "parquet" && split.compression === undefined && split.whole !== true;
}

/** Known extensions; a key with none (the benchmark's `part-00000`) or another one is CSV. */
const FORMAT_BY_EXTENSION: Record<string, SplitFormat> = {
  csv: "csv",
  tsv: "csv",
  txt: "csv",
  ndjson: "ndjson",
  jsonl: "ndjson",
  json: "ndjson",
  parquet: "parquet",
  pq: "parquet",
};

const COMPRESSION_BY_EXTENSION: Record<string, Compression> = {
  gz: "gzip",
  gzip: "gzip",
  deflate: "deflate",
  zz: "deflate",
  zst: "zstd",
  zstd: "zstd",
};

/** The format and compression a key's extensions imply (`x.csv.gz` -> csv + gzip). */
export function detectFormat(key: string): { format: SplitFormat; compression?: Compression } {
  const base = key.slice(key.lastIndexOf("/") + 1);
  const parts = base.split(".").slice(1).map((p) => p.toLowerCase());
  let compression: Compression | undefined;
  const last = parts[parts.length - 1];
  if (last !== undefined && COMPRESSION_BY_EXTENSION[last]) {
    compression = COMPRESSION_BY_EXTENSION[last];
    parts.pop();
  }
  const ext = parts[parts.length - 1];
  const format = (ext !== undefined ? FORMAT_BY_EXTENSION[ext] : undefined) ?? "csv";
  return compression ? { format, compression } : { format };
}

/** Cuts bytes [0, size) into ceil(size / target) near-equal ranges. */
export function cutRanges(start: number, end: number, targetBytes: number): { start: number; end: number }[] {
  const size = end - start;
  if (size <= 0) return [];
  const n = Math.max(1, Math.ceil(size / targetBytes));
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < n; i++) out.push({ start: start + Math.floor((size * i) / n), end: start + Math.floor((size * (i + 1)) / n) });
  return out;
}
