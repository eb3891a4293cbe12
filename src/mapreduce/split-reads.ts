/**
 * A split's records read through the worker's read-ahead blocks: the one way both the DuckDB
 * paths (materialize.ts, into temp files) and the functions API (records.ts, into JS records)
 * read a CSV/NDJSON split. GETs are of a block (8-32 MiB, {@link readAheadFor}), up to `ahead`
 * blocks beyond the one being read, into buffers the worker keeps ({@link blockPool}); the split
 * reader (splits/csv-split.ts) takes its reads as views of those blocks. Few, large GETs: each costs
 * the client ~5 ms of CPU besides its bytes through S3 (AWS SDK, signing, HTTP), and a local file's
 * read its open, stat and path checks (docs/performance.md).
 */
import { availableParallelism, totalmem } from "node:os";
import { openCsvSplit, type CsvSplitData } from "../splits/csv-split.js";
import type { CsvDialect } from "../splits/dialect.js";
import type { Split } from "../splits/split.js";
import { BlockPool, type RangedReader } from "../storage/ranged.js";

const MiB = 1024 * 1024;
/** The smallest read-ahead block, and the GET size without read-ahead. */
const MIN_BLOCK_BYTES = 8 * MiB;

/**
 * The read-ahead for a worker with `memoryBytes`: about 1/16 of it in flight (3 blocks of 32 MiB
 * from 1.5 GiB up, smaller blocks below), and none ahead under 512 MiB (a small Lambda), where a
 * range is read in 8 MiB GETs one after another as before read-ahead existed.
 */
export function readAheadFor(memoryBytes: number): { blockSize: number; ahead: number } {
  const blockSize = Math.min(32 * MiB, Math.max(MIN_BLOCK_BYTES, Math.floor(memoryBytes / 48 / MiB) * MiB));
  return { blockSize, ahead: memoryBytes >= 512 * MiB ? 2 : 0 };
}

/**
 * One worker's share of memory: the machine's (or its cgroup's limit when lower: a container, a
 * Lambda) divided by its cores, since local backends run a worker per core by default and each
 * worker reads ahead on its own.
 */
function workerMemory(): number {
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return Math.min(totalmem(), limit !== undefined && limit > 0 ? limit : Infinity) / availableParallelism();
}

let pool: BlockPool | undefined;
/**
 * The read-ahead blocks of this process (a worker), kept across its tasks: a block is read into
 * again once the split's reads moved past it, so a worker's GETs land in a few buffers it keeps
 * (the blocks in flight, `ahead + 2`: up to 4 x 32 MiB, {@link readAheadFor}).
 */
function blockPool(ahead: number): BlockPool {
  return (pool ??= new BlockPool(ahead + 2));
}

/** {@link readAheadFor} this worker's memory, with reads of `chunkSize` bytes out of the blocks. */
export function workerReadAhead(chunkSize: number): { blockSize: number; ahead: number; chunkSize: number } {
  return { ...readAheadFor(workerMemory()), chunkSize };
}

export interface SplitReadOptions {
  /** How the object is named in errors (its URL). */
  object: string;
  signal?: AbortSignal;
  /** Block size, blocks ahead, and the bytes of each read of the range. */
  readAhead: { blockSize: number; ahead: number; chunkSize: number };
  /** The part of the split to read. @default split.range */
  range?: { start: number; end: number };
}

/** Every read of a split carries the object's listed version (the store checks it) and the task's signal. */
export function pinnedRead(split: Split, signal: AbortSignal | undefined): { signal?: AbortSignal; version: string | undefined } {
  return { ...(signal ? { signal } : {}), version: split.version };
}

/**
 * A split's data records and header names (csv-split.ts), through read-ahead blocks. The bytes are
 * views of blocks that are read into again: each is valid until the next one is asked for (copy
 * what you keep), and `release()` must be called once done with them, or on error.
 */
export async function openSplitReads(reader: RangedReader, split: Split, dialect: CsvDialect | undefined, o: SplitReadOptions): Promise<CsvSplitData & { release(): void }> {
  const range = o.range ?? split.range;
  const pinned = pinnedRead(split, o.signal);
  const { blockSize, ahead, chunkSize } = o.readAhead;
  // The range's chunks are read in order from the byte before its start (csv-range.ts): the next ones are fetched meanwhile.
  const read = reader.readAhead(split.key, { start: Math.max(0, range.start - 1), end: range.end }, { blockSize, ahead, ...pinned, pool: blockPool(ahead) });
  try {
    const data = await openCsvSplit({ ...split, range }, split.format === "csv" ? dialect : undefined, {
      object: o.object,
      chunkSize,
      read,
      stream: () => reader.stream(split.key, { range: { start: 0, end: split.fileSize }, ...pinned }),
    });
    return { ...data, release: read.release };
  } catch (err) {
    read.release();
    throw err;
  }
}
