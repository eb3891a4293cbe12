/**
 * The Big Data Benchmark's `uservisits` table as HiBench generates it, row for row in its format:
 * `sourceIP,destURL,visitDate,adRevenue,userAgent,countryCode,languageCode,searchWord,duration`,
 * headerless, comma-separated, no quoting. Deterministic for a seed; rows are generated in blocks
 * of {@link BLOCK_ROWS}, each with its own PRNG stream, so any row range can be generated on its
 * own (files in parallel) and the concatenated output does not depend on how it was cut into files.
 */
import { writeJavaFloat } from "./javafloat.js";
import { deriveSeed, Xoshiro128 } from "./prng.js";
import { BytePool } from "./bytes.js";
import { MAX_URL_LENGTH, UrlSpace } from "./urls.js";
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
  const v = vocabulary();
  const pages = Math.max(1, options.pages);
  const urls = new UrlSpace(options.seed, pages);
  const chunkRows = options.chunkRows ?? 16_384;
  const first = options.startRow ?? 0;
  const end = first + options.rows;
  const out = new Uint8Array(chunkRows * v.maxRowBytes);
  const { octets, dates, agents, countries, words } = v;
  const nDates = v.dates.size;
  const nAgents = v.agentPicks.length;
  const nCountries = v.countryPicks.length;
  const nWords = v.words.size;
  let rng: Xoshiro128 | undefined;
  let pos = 0;
  let inChunk = 0;
  for (let row = first; row < end; row++) {
    if (rng === undefined || row % BLOCK_ROWS === 0) {
      rng = new Xoshiro128(deriveSeed(options.seed, TAG, Math.floor(row / BLOCK_ROWS)));
      for (let skip = row % BLOCK_ROWS; skip > 0; skip--) skipRow(rng);
    }
    const r = rng;
    pos = octets.copy(1 + r.nextInt(254), out, pos);
    out[pos++] = DOT;
    pos = octets.copy(r.nextInt(255), out, pos);
    out[pos++] = DOT;
    pos = octets.copy(r.nextInt(255), out, pos);
    out[pos++] = DOT;
    pos = octets.copy(1 + r.nextInt(254), out, pos);
    out[pos++] = COMMA;
    pos = urls.write(r.nextInt(pages), out, pos);
    out[pos++] = COMMA;
    pos = dates.copy(r.nextInt(nDates), out, pos);
    out[pos++] = COMMA;
    pos += writeJavaFloat(r.nextFloat24(), out, pos);
    out[pos++] = COMMA;
    pos = agents.copy(v.agentPicks[r.nextInt(nAgents)] ?? 0, out, pos);
    out[pos++] = COMMA;
    pos = countries.copy(v.countryPicks[r.nextInt(nCountries)] ?? 0, out, pos);
    out[pos++] = COMMA;
    pos = words.copy(r.nextInt(nWords), out, pos);
    out[pos++] = COMMA;
    pos = octets.copy(1 + r.nextInt(10), out, pos);
    out[pos++] = NEWLINE;
    if (++inChunk === chunkRows) {
      yield out.slice(0, pos);
      pos = 0;
      inChunk = 0;
    }
  }
  if (inChunk > 0) yield out.slice(0, pos);
}

const DOT = 46;
const COMMA = 44;
const NEWLINE = 10;

/** Draws exactly what one row draws, to start mid-block. */
function skipRow(r: Xoshiro128): void {
  for (let i = 0; i < DRAWS_PER_ROW; i++) r.nextU32();
}

interface Vocabulary {
  octets: BytePool;
  dates: BytePool;
  agents: BytePool;
  /** Weighted picks: pool indexes repeated by weight, so a pick is one uniform index. */
  agentPicks: Uint16Array;
  countries: BytePool;
  countryPicks: Uint16Array;
  words: BytePool;
  /** An upper bound on one row's length in bytes. */
  maxRowBytes: number;
}
let cached: Vocabulary | undefined;

/** Lookup tables, built once. */
function vocabulary(): Vocabulary {
  if (cached) return cached;
  const octets = new BytePool();
  for (let i = 0; i < 256; i++) octets.add(String(i));
  // HiBench: a uniform instant in [1970-01-01, 2012-05-01), printed as its day.
  const dates = new BytePool();
  for (let t = 0; t < Date.UTC(2012, 4, 1); t += 86_400_000) dates.add(new Date(t).toISOString().slice(0, 10));
  const agents = new BytePool();
  const agentPicks: number[] = [];
  for (const [agent, weight] of USER_AGENTS) {
    const i = agents.add(agent);
    for (let k = 0; k < weight; k++) agentPicks.push(i);
  }
  const randomAgents = randomUserAgents(RANDOM_USER_AGENTS).map((a) => agents.add(a));
  for (let k = 0; k < RANDOM_USER_AGENT_WEIGHT; k++) agentPicks.push(randomAgents[k % randomAgents.length] ?? 0);
  const countries = new BytePool();
  const countryPicks: number[] = [];
  for (const [pair, weight] of COUNTRY_LANGUAGE) {
    const i = countries.add(pair);
    for (let k = 0; k < weight; k++) countryPicks.push(i);
  }
  const words = new BytePool();
  for (const w of SEARCH_WORDS) words.add(w);
  // ip 15 + date 10 + revenue 16 + duration 2 + 9 separators, plus the longest strings
  const maxRowBytes = 52 + MAX_URL_LENGTH + agents.maxLength + countries.maxLength + words.maxLength;
  cached = { octets, dates, agents, agentPicks: Uint16Array.from(agentPicks), countries, countryPicks: Uint16Array.from(countryPicks), words, maxRowBytes };
  return cached;
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
