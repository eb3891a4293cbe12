/**
 * The Big Data Benchmark's `uservisits` table as HiBench generates it, row for row in its format:
 * `sourceIP,destURL,visitDate,adRevenue,userAgent,countryCode,languageCode,searchWord,duration`,
 * headerless, comma-separated, no quoting. Deterministic for a seed; rows are generated in blocks
 * of {@link BLOCK_ROWS}, each with its own PRNG stream, so any row range can be generated on its
 * own (files in parallel) and the concatenated output does not depend on how it was cut into files.
 *
 * Speed: every field is written as ASCII straight into the caller's buffer, a word at a time from
 * lookup tables (src/datagen/bytes.ts) that hold each string with the separator that follows it.
 */
import { BytePool, COPY_SLACK } from "./bytes.js";
import { writeFloat24 } from "./float24.js";
import { deriveSeed, Xoshiro128 } from "./prng.js";
import { generateChunks, type RowSource } from "./row-source.js";
import { MAX_URL_LENGTH, URL_OVERRUN, UrlSpace } from "./urls.js";
import { COUNTRY_LANGUAGE, RANDOM_USER_AGENT_WEIGHT, RANDOM_USER_AGENTS, SEARCH_WORDS, USER_AGENTS } from "./vocab.js";

/** Rows per independently seeded block. */
export const BLOCK_ROWS = 65_536;
/** PRNG draws per row: four octets, url, date, revenue, agent, country, word, duration. */
const DRAWS_PER_ROW = 11;
const TAG = 0x55564953; // "UVIS"

/** Options of {@link generateUservisits}. */
export interface UservisitsOptions {
  /** The data set's seed (the same seed gives the same bytes). */
  seed: number;
  /** Rows to generate. */
  rows: number;
  /** Index of the first row (to generate one file of many). @default 0 */
  startRow?: number;
  /** Pages in the URL space; generate `rankings` with `rows = pages` and the same seed to join. */
  pages: number;
  /** Rows per yielded text chunk. @default 16384 */
  chunkRows?: number;
}

/** Yields the CSV bytes (ASCII, `\n` after every row) in chunks of `chunkRows` rows. */
export function* generateUservisits(options: UservisitsOptions): Generator<Uint8Array> {
  yield* generateChunks(new UservisitsSource(options), options.chunkRows);
}

/** The rows of a range of uservisits, written on demand into caller buffers. */
export class UservisitsSource implements RowSource {
  readonly maxRowBytes: number;
  private readonly v: Vocabulary;
  private readonly urls: UrlSpace;
  private readonly seed: number;
  private readonly pages: number;
  private row: number;
  private readonly end: number;
  private rng: Xoshiro128 | undefined;
  private readonly draws = new Uint32Array(BATCH_ROWS * DRAWS_PER_ROW);
  private readonly urlIds = new Float64Array(BATCH_ROWS);
  private readonly urlRefs = new Int32Array(BATCH_ROWS);
  /** Sum of the prefetched words (kept so the loads stay). */
  touched = 0;

  constructor(options: UservisitsOptions) {
    this.v = vocabulary();
    this.maxRowBytes = this.v.maxRowBytes;
    this.seed = options.seed;
    this.pages = Math.max(1, options.pages);
    this.urls = UrlSpace.shared(options.seed, this.pages);
    this.row = options.startRow ?? 0;
    this.end = this.row + options.rows;
  }

  get rowsLeft(): number {
    return this.end - this.row;
  }

  /**
   * Writes the next rows (at most `maxRows`, and as many as fit with {@link maxRowBytes} each and
   * COPY_SLACK spare) into `out` from offset 0; returns the rows and bytes written.
   */
  fill(out: Uint8Array, maxRows: number): { rows: number; bytes: number } {
    const fit = Math.floor((out.byteLength - COPY_SLACK) / this.maxRowBytes);
    const rows = Math.max(0, Math.min(maxRows, fit, this.end - this.row));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let pos = 0;
    let row = this.row;
    const end = row + rows;
    while (row < end) {
      let r = this.rng;
      if (r === undefined || row % BLOCK_ROWS === 0) {
        r = this.rng = new Xoshiro128(deriveSeed(this.seed, TAG, Math.floor(row / BLOCK_ROWS)));
        r.skip((row % BLOCK_ROWS) * DRAWS_PER_ROW); // start mid-block: skip what the earlier rows draw
      }
      const n = Math.min(BATCH_ROWS, end - row, BLOCK_ROWS - (row % BLOCK_ROWS));
      pos = this.batch(r, n, out, view, pos);
      row += n;
    }
    this.row = row;
    return { rows, bytes: pos };
  }

  /** Draws `n` rows' random numbers, looks up (and prefetches) their URLs, then writes the rows. */
  private batch(r: Xoshiro128, n: number, out: Uint8Array, view: DataView, start: number): number {
    const { pool, octetDot, octetComma, dates, agentPicks, countryPicks, words, durations } = this.v;
    const u = this.draws;
    r.fillU32(u, n * DRAWS_PER_ROW);
    const pages = this.pages;
    for (let i = 0; i < n; i++) this.urlIds[i] = Math.floor((u[i * DRAWS_PER_ROW + 4]! * pages) / 0x100000000);
    this.touched ^= this.urls.resolve(this.urlIds, this.urlRefs, n);
    const nDates = dates.length;
    const nAgents = agentPicks.length;
    const nCountries = countryPicks.length;
    const nWords = words.length;
    let pos = start;
    for (let i = 0, d = 0; i < n; i++, d += DRAWS_PER_ROW) {
      pos = pool.copy(octetDot[1 + pick(u[d]!, 254)]!, view, pos);
      pos = pool.copy(octetDot[pick(u[d + 1]!, 255)]!, view, pos);
      pos = pool.copy(octetDot[pick(u[d + 2]!, 255)]!, view, pos);
      pos = pool.copy(octetComma[1 + pick(u[d + 3]!, 254)]!, view, pos);
      const ref = this.urlRefs[i]!;
      pos = ref >= 0 ? this.urls.copy(ref, view, pos) : this.urls.write(this.urlIds[i]!, out, view, pos);
      out[pos++] = COMMA;
      pos = pool.copy(dates[pick(u[d + 5]!, nDates)]!, view, pos);
      pos = writeFloat24(u[d + 6]! >>> 8, out, pos);
      out[pos++] = COMMA;
      pos = pool.copy(agentPicks[pick(u[d + 7]!, nAgents)]!, view, pos);
      pos = pool.copy(countryPicks[pick(u[d + 8]!, nCountries)]!, view, pos);
      pos = pool.copy(words[pick(u[d + 9]!, nWords)]!, view, pos);
      pos = pool.copy(durations[1 + pick(u[d + 10]!, 10)]!, view, pos);
    }
    return pos;
  }
}

/** Rows drawn at once (their URL lookups overlap). */
const BATCH_ROWS = 64;

/** Xoshiro128.nextInt on an already drawn value: a uniform integer in [0, n). */
function pick(u32: number, n: number): number {
  return Math.floor((u32 * n) / 0x100000000);
}

const COMMA = 44;

/** Lookup tables: refs into one pool of each string followed by its separator. */
interface Vocabulary {
  pool: BytePool;
  /** "0." .. "255." and "0," .. "255,". */
  octetDot: Int32Array;
  octetComma: Int32Array;
  /** Every day 1970-01-01 .. 2012-04-30, with its comma. */
  dates: Int32Array;
  agents: Int32Array;
  /** Weighted picks: refs repeated by weight, so a pick is one uniform index. */
  agentPicks: Int32Array;
  countries: Int32Array;
  countryPicks: Int32Array;
  words: Int32Array;
  /** "0\n" .. "10\n". */
  durations: Int32Array;
  /** An upper bound on one row's length in bytes (plus room for the overrun of word copies). */
  maxRowBytes: number;
}
let cached: Vocabulary | undefined;

/** Lookup tables, built once. */
function vocabulary(): Vocabulary {
  if (cached) return cached;
  const pool = new BytePool();
  const refs = (strings: Iterable<string>, suffix: string) => Int32Array.from(strings, (s) => pool.add(s + suffix));
  const numbers = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  // HiBench: a uniform instant in [1970-01-01, 2012-05-01), printed as its day.
  const days = isoDays(Date.UTC(2012, 4, 1) / 86_400_000);
  const agents = refs([...USER_AGENTS.map(([a]) => a), ...randomUserAgents(RANDOM_USER_AGENTS)], ",");
  const agentPicks: number[] = [];
  USER_AGENTS.forEach(([, weight], i) => {
    for (let k = 0; k < weight; k++) agentPicks.push(agents[i]!);
  });
  for (let k = 0; k < RANDOM_USER_AGENT_WEIGHT; k++) agentPicks.push(agents[USER_AGENTS.length + (k % RANDOM_USER_AGENTS)]!);
  const countries = refs(
    COUNTRY_LANGUAGE.map(([pair]) => pair),
    ",",
  );
  const countryPicks: number[] = [];
  COUNTRY_LANGUAGE.forEach(([, weight], i) => {
    for (let k = 0; k < weight; k++) countryPicks.push(countries[i]!);
  });
  const octetDot = refs(numbers(256), ".");
  const octetComma = refs(numbers(256), ",");
  const dates = refs(days, ",");
  const words = refs(SEARCH_WORDS, ",");
  const durations = refs(numbers(11), "\n");
  const longest = (xs: Int32Array) => xs.reduce((m, ref) => Math.max(m, pool.length(ref)), 0);
  // ip 16 + url and its comma + date 11 + revenue 16 and comma + agent, country, word (with commas) + duration 3
  const maxRowBytes = 16 + MAX_URL_LENGTH + URL_OVERRUN + 1 + 11 + 17 + longest(agents) + longest(countries) + longest(words) + 3 + COPY_SLACK;
  cached = { pool, octetDot, octetComma, dates, agents, agentPicks: Int32Array.from(agentPicks), countries, countryPicks: Int32Array.from(countryPicks), words, durations, maxRowBytes };
  return cached;
}

/** "1970-01-01", "1970-01-02", ... for `n` days (what `new Date(day * 86400000).toISOString()` starts with). */
export function isoDays(n: number): string[] {
  const days: string[] = [];
  const pad = (x: number) => (x < 10 ? `0${x}` : String(x));
  for (let y = 1970, m = 1, d = 1; days.length < n; ) {
    days.push(`${y}-${pad(m)}-${pad(d)}`);
    const monthDays = m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
    if (++d > monthDays) {
      d = 1;
      if (++m > 12) {
        m = 1;
        y++;
      }
    }
  }
  return days;
}

/** HiBench's list also holds made-up agents such as `Mqficffodvfmbqcyscwo/8.8`. Fixed, not seeded. */
function randomUserAgents(n: number): string[] {
  const r = new Xoshiro128(0x41474e54);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 5 + r.nextInt(20);
    let name = String.fromCharCode(65 + r.nextInt(26));
    for (let j = 1; j < len; j++) name += String.fromCharCode(97 + r.nextInt(26));
    out.push(`${name}/${r.nextInt(10)}.${r.nextInt(10)}`);
  }
  return out;
}
