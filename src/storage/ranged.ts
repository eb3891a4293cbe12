/**
 * Reads that don't wait on the slowest request. A large object (or range) is read as ranged
 * GETs of `partSize` with at most `concurrency` in flight, in order, with bounded read-ahead.
 * Each GET is hedged (Starling; the rule is hedging.ts's, which the simulator runs too): with no
 * response headers after `firstByteAfter` times the median time to first byte of the reader's
 * GETs (stores that tell it: S3), or still running after `hedgeAfter` times its expected time
 * (latency + bytes / bandwidth, learned from the requests seen so far), it is duplicated, and
 * again one delay later when the hedge is slow too (at most `maxHedges` per GET); the first to
 * finish wins and the others are aborted through their AbortSignal. Hedges bypass the
 * concurrency limit, so a straggler never waits behind the queue.
 */
import pLimit from "p-limit";
import { z } from "zod";
import { systemClock, type Clock, type TimerHandle } from "../job/clock.js";
import { parseOrThrow } from "../job/policy.js";
import { isViewOf, type ByteRange, type ObjectStore } from "./contract.js";
import { NotFoundError } from "./errors.js";
import { DEFAULT_HEDGE_RULE, hedgeAt } from "./hedging.js";
import { LatencyModel, type LatencyModelOptions } from "./latency-model.js";

/** Options of {@link RangedReader}. */
export interface RangedReaderOptions {
  /** Bytes per ranged GET. @default 8 MiB */
  partSize?: number;
  /** Ranged GETs in flight at once (hedges not counted). @default 8 */
  concurrency?: number;
  /** Duplicate a GET still running after this many times its expected time; 0 turns hedging off. @default 3 */
  hedgeAfter?: number;
  /** Never hedge sooner than this, ms (timer granularity, tiny GETs). @default 10 */
  minHedgeDelayMs?: number;
  /** Hedges of one GET at most: a hedge still running one more delay later (slow too) is hedged again. @default 2 */
  maxHedges?: number;
  /** Hedge a GET without response headers after this many times the median time to first byte of the reader's GETs (stores that tell it: S3); 0: off. @default 5 */
  firstByteAfter?: number;
  /** Never hedge for a late first byte sooner than this, ms. @default 50 */
  minFirstByteDelayMs?: number;
  /** The latency model's prior and window. @default {} (50 ms, 50 MB/s, 64 samples) */
  model?: LatencyModelOptions;
  /** Times GETs and hedge delays (the runtime context's clock; a task passes `ctx.clock`). @default the system clock */
  clock?: Clock;
}

const optionsSchema = z.strictObject({
  partSize: z.number().int().min(1).default(8 * 1024 * 1024),
  concurrency: z.number().int().min(1).max(1024).default(8),
  hedgeAfter: z.number().min(0).default(DEFAULT_HEDGE_RULE.hedgeAfter),
  minHedgeDelayMs: z.number().min(0).default(DEFAULT_HEDGE_RULE.minHedgeDelayMs),
  maxHedges: z.number().int().min(1).max(8).default(DEFAULT_HEDGE_RULE.maxHedges),
  firstByteAfter: z.number().min(0).default(DEFAULT_HEDGE_RULE.firstByteAfter),
  minFirstByteDelayMs: z.number().min(0).default(DEFAULT_HEDGE_RULE.minFirstByteDelayMs),
  model: z.strictObject({ priorLatencyMs: z.number().min(0).optional(), priorBandwidth: z.number().gt(0).optional(), window: z.number().int().min(2).optional(), minSamples: z.number().int().min(1).optional() }).default({}),
  clock: z.custom<Clock>((c) => typeof c === "object" && c !== null && typeof (c as Clock).now === "function", "a clock").optional(),
});

/** What a reader did, for a task's counters. */
export interface RangedReadStats {
  /** Bytes received by GETs that won (losers' bytes not counted). */
  bytesRead: number;
  /** GETs sent, hedges included. */
  readRequests: number;
  /** Hedges sent. */
  hedgesFired: number;
  /** Hedges that finished first. */
  hedgesWon: number;
  /** GETs aborted because their twin won. */
  readsAborted: number;
}

export class RangedReader {
  readonly model: LatencyModel;
  readonly #store: ObjectStore;
  readonly #opts: z.output<typeof optionsSchema>;
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #stats: RangedReadStats = { bytesRead: 0, readRequests: 0, hedgesFired: 0, hedgesWon: 0, readsAborted: 0 };
  /** Times to first byte (ms) of the latest GETs whose store told them. */
  readonly #firstBytes: number[] = [];
  #reported: RangedReadStats = { ...this.#stats };
  /** A read-ahead block read into a pool buffer came back in another buffer: this reader's store does not use `into`. */
  #intoUnused = false;

  constructor(store: ObjectStore, options: RangedReaderOptions = {}) {
    this.#store = store;
    this.#opts = parseOrThrow(optionsSchema, options, "ranged reader options");
    this.#limit = pLimit(this.#opts.concurrency);
    this.model = new LatencyModel(this.#opts.model);
  }

  /** A copy of the counters so far. */
  get stats(): RangedReadStats {
    return { ...this.#stats };
  }

  /** Adds what changed since the last call to a task's counters, e.g. `reader.reportTo(ctx.count)`. */
  reportTo(count: (name: string, delta: number) => void): void {
    for (const k of Object.keys(this.#stats) as (keyof RangedReadStats)[]) {
      const delta = this.#stats[k] - this.#reported[k];
      if (delta !== 0) count(k, delta);
    }
    this.#reported = { ...this.#stats };
  }

  /** Reads a whole object or a range as parallel hedged GETs; one buffer. */
  async read(key: string, options: { range?: ByteRange; signal?: AbortSignal; version?: string } = {}): Promise<Uint8Array> {
    const [start, end] = await this.#bounds(key, options.range);
    const out = new Uint8Array(end - start);
    let off = 0;
    for await (const chunk of this.stream(key, { ...options, range: { start, end } })) {
      out.set(chunk, off);
      off += chunk.byteLength;
    }
    return off === out.length ? out : out.subarray(0, off);
  }

  /** Streams an object or range in order, reading up to `concurrency` parts ahead. */
  async *stream(key: string, options: { range?: ByteRange; signal?: AbortSignal; version?: string } = {}): AsyncIterable<Uint8Array> {
    const [start, end] = await this.#bounds(key, options.range);
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const pending: Promise<Uint8Array>[] = [];
    let next = start;
    const fill = (): void => {
      while (next < end && pending.length < this.#opts.concurrency * 2) {
        const range = { start: next, end: Math.min(end, next + this.#opts.partSize) };
        const p = this.#limit(() => this.getRange(key, range, { signal: ac.signal, version: options.version }));
        p.catch(() => undefined); // observed when its turn comes
        pending.push(p);
        next = range.end;
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        const chunk = await pending.shift()!;
        fill();
        yield chunk;
      }
    } finally {
      ac.abort();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Reads for a caller that asks for the bytes of `window` in order (csv-range.ts's
   * record-aligned reader): the window is fetched as GETs of `blockSize` (few, large GETs: each
   * costs the client CPU besides its bytes), up to `ahead` of them beyond the one being read. A
   * read inside one block is a view of it (no copy); a read across two blocks is copied from both
   * (no GET of its own: a window that starts before the reads do, as a headered object's first
   * range does, keeps its blocks). Any other read (a header, a tail past the window) is one GET.
   * Every GET goes through {@link getRange} (with `version`, when given: the object's listed
   * version, checked by the store).
   *
   * A window smaller than `blockSize` takes a block of its own size (a power of two, at least
   * 1 MiB), not a whole block: many small windows at once in one process (the inline backend runs
   * every task of a stage at once) then hold about their bytes.
   *
   * **A returned view is valid until the next call** (or `release()`): with `pool`, the blocks the
   * reads have moved past are read into again. The caller is done with a view (written it out,
   * not just queued the write) before it reads on, and calls `release()` when done with the window.
   */
  readAhead(key: string, window: { start: number; end: number }, options: { blockSize: number; ahead: number; signal?: AbortSignal; version?: string | undefined; pool?: BlockPool }): ReadAhead {
    const { ahead, pool } = options;
    const blockSize = Math.min(options.blockSize, Math.max(MIN_WINDOW_BLOCK, 2 ** Math.ceil(Math.log2(Math.max(1, window.end - window.start)))));
    const read = { ...(options.signal ? { signal: options.signal } : {}), ...(options.version !== undefined ? { version: options.version } : {}) };
    const blocks = new Map<number, { bytes: Promise<Uint8Array>; into: Uint8Array | undefined }>();
    const blockStart = (k: number) => window.start + k * blockSize;
    let scratch: Uint8Array | undefined; // cross-block reads, reused: a view is valid until the next call
    const block = (k: number): Promise<Uint8Array> => {
      let b = blocks.get(k);
      if (!b) {
        const range = { start: blockStart(k), end: Math.min(window.end, blockStart(k + 1)) };
        const into = this.#intoUnused ? undefined : pool?.take(blockSize);
        const bytes = this.getRange(key, range, { ...read, ...(into ? { into } : {}) });
        // A store that does not read into the buffer (or a hedge that won) returns one of its own: stop taking buffers for it.
        if (into) bytes.then((got) => isViewOf(got, into) || (this.#intoUnused = true), () => undefined);
        b = { bytes, into };
        b.bytes.catch(() => undefined); // observed when read
        blocks.set(k, b);
      }
      return b.bytes;
    };
    /** Drops blocks before `k`; a block read into a pool buffer gives it back once settled (a failed read's buffer is given up). */
    const dropBefore = (k: number): void => {
      for (const [old, b] of blocks) {
        if (old >= k) continue;
        blocks.delete(old);
        const into = b.into;
        if (pool && into) b.bytes.then((bytes) => isViewOf(bytes, into) && pool.give(into), () => undefined);
      }
    };
    const readAt = async (start: number, end: number): Promise<Uint8Array> => {
      const k = Math.floor((start - window.start) / blockSize);
      const last = Math.floor((end - 1 - window.start) / blockSize);
      if (start < window.start || end > window.end || end <= start || last > k + 1) return this.getRange(key, { start, end }, read);
      dropBefore(k);
      const bytes = block(k);
      for (let n = k + 1; n <= k + ahead && blockStart(n) < window.end; n++) block(n);
      const from = start - blockStart(k);
      if (last === k) return (await bytes).subarray(from, from + (end - start));
      // Across blocks k and k + 1: copied from both, then the reads are in k + 1.
      const [a, b] = await Promise.all([bytes, block(last)]);
      if (!scratch || scratch.byteLength < end - start) scratch = Buffer.allocUnsafeSlow(end - start);
      const out = scratch.subarray(0, end - start);
      out.set(a.subarray(from), 0);
      out.set(b.subarray(0, end - blockStart(last)), a.byteLength - from);
      dropBefore(last);
      return out;
    };
    return Object.assign(readAt, { release: () => dropBefore(Infinity) });
  }

  /** One ranged GET, hedged (hedging.ts's rule). `range.end` must be given (the bytes expected). `version`: the object's listed version, checked by the store. */
  async getRange(key: string, range: { start: number; end: number }, options: { signal?: AbortSignal; version?: string | undefined; into?: Uint8Array } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    let firstByteSeen = false;
    let markFirstByte!: () => void;
    const firstByte = new Promise<"first-byte">((resolve) => (markFirstByte = () => resolve("first-byte")));
    const onFirstByte = (): void => {
      firstByteSeen = true;
      markFirstByte();
    };
    // Only the first attempt reads into the caller's buffer: a hedge reads into its own.
    const send = (): Attempt => this.#attempt(key, range, options.signal, options.version, onFirstByte, attempts.length === 0 ? options.into : undefined);
    const attempts: Attempt[] = [];
    attempts.push(send());
    if (this.#opts.hedgeAfter === 0) return attempts[0]!.done;
    const clock = this.#opts.clock ?? systemClock;
    const sentAt = clock.now();
    const expected = { totalMs: this.model.expectedMs(range.end - range.start), firstByteMs: this.expectedFirstByteMs() };
    for (let n = 1; ; ) {
      const at = hedgeAt(this.#opts, expected, n, firstByteSeen);
      let timer: TimerHandle | undefined;
      const hedgeDue = new Promise<"hedge">((resolve) => {
        if (at !== undefined) timer = clock.setTimeout(() => resolve("hedge"), sentAt + at - clock.now());
      });
      let winner: Attempt | "hedge" | "first-byte";
      try {
        winner = await Promise.race([Promise.any(attempts.map((a) => a.done.then(() => a))), hedgeDue, ...(firstByteSeen ? [] : [firstByte])]);
      } catch (err) {
        throw err instanceof AggregateError ? err.errors[0] : err; // every attempt failed
      } finally {
        clock.clearTimeout(timer);
      }
      if (winner === "first-byte") continue; // the same hedge, now due by the total rule
      if (winner === "hedge") {
        this.#stats.hedgesFired++;
        attempts.push(send());
        n++;
        continue;
      }
      if (winner !== attempts[0]) this.#stats.hedgesWon++;
      for (const loser of attempts) {
        if (loser === winner || loser.finished) continue;
        this.#stats.readsAborted++;
        loser.controller.abort();
      }
      return winner.done;
    }
  }

  /** The median time to first byte of this reader's recent GETs, ms; undefined before any (or when the store does not tell). */
  expectedFirstByteMs(): number | undefined {
    const s = this.#firstBytes;
    if (s.length === 0) return undefined;
    const sorted = [...s].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  #attempt(key: string, range: { start: number; end: number }, outer: AbortSignal | undefined, version: string | undefined, onFirstByte: () => void, into: Uint8Array | undefined): Attempt {
    const controller = new AbortController();
    const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    const clock = this.#opts.clock ?? systemClock;
    const started = clock.now();
    this.#stats.readRequests++;
    const attempt: Attempt = { controller, finished: false, done: undefined as unknown as Promise<Uint8Array> };
    const firstByte = (): void => {
      if (controller.signal.aborted) return;
      this.#firstBytes.push(clock.now() - started);
      if (this.#firstBytes.length > FIRST_BYTE_WINDOW) this.#firstBytes.shift();
      onFirstByte();
    };
    attempt.done = this.#store.get(key, { range, signal, onFirstByte: firstByte, ...(version !== undefined ? { version } : {}), ...(into ? { into } : {}) }).then(
      (data) => {
        attempt.finished = true;
        if (!controller.signal.aborted) {
          this.#stats.bytesRead += data.byteLength;
          this.model.observe(data.byteLength, clock.now() - started);
        }
        return data;
      },
      (err: unknown) => {
        attempt.finished = true;
        throw err;
      },
    );
    attempt.done.catch(() => undefined);
    return attempt;
  }

  async #bounds(key: string, range: ByteRange | undefined): Promise<[number, number]> {
    if (range?.end !== undefined) return [range.start, range.end];
    const info = await this.#store.head(key);
    if (!info) throw new NotFoundError(this.#store.url, key);
    return [Math.min(range?.start ?? 0, info.size), info.size];
  }
}

/** First-byte times kept for the median. */
const FIRST_BYTE_WINDOW = 64;

interface Attempt {
  controller: AbortController;
  finished: boolean;
  done: Promise<Uint8Array>;
}

/** The smallest block {@link RangedReader.readAhead} sizes to a small window. */
const MIN_WINDOW_BLOCK = 1024 * 1024;

/** What {@link RangedReader.readAhead} returns: reads of its window, and `release()` when done. */
export type ReadAhead = ((start: number, end: number) => Promise<Uint8Array>) & { release(): void };

/**
 * Buffers of a size kept for the next reads into them (read-ahead blocks). A fresh 32 MiB buffer
 * per GET costs ~0.6 CPU-s per GiB read (V8 answers the external memory with full collections,
 * and new pages fault in: docs/performance.md, "Through S3"); a worker that keeps a few reads
 * each GET into one it used before. Keeps at most `keep` buffers of each size, and lets them all
 * go after `idleMs` without a take or a give (a long-lived process that ran a job inline does not
 * hold them for good).
 */
export class BlockPool {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #idleMs: number;
  readonly #clock: Clock;
  #idle: TimerHandle | undefined;

  constructor(readonly keep: number, options: { idleMs?: number; clock?: Clock } = {}) {
    this.#idleMs = options.idleMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** A buffer of `size` bytes: a kept one, else a fresh one. */
  take(size: number): Uint8Array {
    this.#touch();
    return this.#free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  /** Gives a buffer back (its owner is done with every view of it); kept when there is room. */
  give(buffer: Uint8Array): void {
    this.#touch();
    let list = this.#free.get(buffer.byteLength);
    if (!list) this.#free.set(buffer.byteLength, (list = []));
    if (list.length < this.keep && !list.includes(buffer)) list.push(buffer);
  }

  #touch(): void {
    this.#clock.clearTimeout(this.#idle);
    this.#idle = this.#clock.setTimeout(() => this.#free.clear(), this.#idleMs, { unref: true });
  }

  /** Buffers kept now, of every size. */
  get kept(): number {
    let n = 0;
    for (const l of this.#free.values()) n += l.length;
    return n;
  }
}
