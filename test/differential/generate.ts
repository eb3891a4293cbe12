/**
 * Seeded random input files for the differential suite: a table's rows drawn from typed column
 * generators (NULLs, negative numbers, floats in scientific notation, unicode strings, strings
 * with delimiters and quotes), written as headered or headerless CSV (quoted fields, quoted
 * newlines, CRLF, BOM, no final newline, an empty file, a header-only file, each file's columns
 * in its own order), NDJSON, gzip, or Parquet (one file with several row groups). The files are
 * plain local files; the harness copies them to the store under test and DuckDB alone reads them.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { DuckDb } from "../../src/duckdb/index.js";
import { sqlIdentifier, sqlString } from "../../src/duckdb/sql.js";
import type { Rng } from "./rng.js";

export type FileFormat = "csv" | "ndjson" | "parquet";

/** What the files look like: every flag is a generator option drawn per case. */
export interface InputFlags {
  format: FileFormat;
  /** CSV: the first line of each file names the columns. */
  header: boolean;
  /** CSV: fields holding the delimiter or doubled quotes, and some other fields quoted. */
  quoting: boolean;
  /** CSV: newlines inside quoted fields (needs `quoting`). */
  quotedNewlines: boolean;
  /** Lines end with \r\n. */
  crlf: boolean;
  /** Files start with a UTF-8 byte order mark. */
  bom: boolean;
  /** CSV/NDJSON files gzipped (`.gz`), the first one always. */
  gzip: boolean;
  /** One more file holding nothing (Parquet: no rows). */
  emptyFile: boolean;
  /** Headered CSV: one more file holding only the header line. */
  headerOnly: boolean;
  /** Headered CSV / NDJSON: each file lists the columns in its own order. */
  shuffledColumns: boolean;
  /** The last line of each file ends with a newline. */
  finalNewline: boolean;
  /** Parquet: one file of several row groups. */
  rowGroups: boolean;
  /** Integers within +-2^53: NDJSON read by the functions API (JSON.parse gives JS numbers). */
  safeIntegers: boolean;
}

export interface Column {
  name: string;
  type: string;
}

/** A column and how its values are drawn: the value's text (as CSV holds it; JSON: numbers raw, other types as strings), or null. */
interface ColumnGen extends Column {
  draw: (r: Rng, f: InputFlags) => string | null;
  json: "number" | "string";
  /** Probability of NULL. */
  nulls: number;
}

const KEYS = ["a", "B", "é", "日本", "ключ", "😀", "a b", "z9", "Ω", "ß"];
const QUOTED_KEYS = ["k,1", 'say "hi"', '"q"', "x,\"y\",z"];
const WORDS = ["alpha", "Beta", "γάμμα", "дельта", "東京", "café", "naïve", "🙂ok", "x-y", "0042", "semi;colon"];
const QUOTED_WORDS = ["a,b", 'he said "no"', ',', '""', "end,"];

/** A float's text: fixed or scientific notation (e/E, signed exponents), negative or not. */
export function floatText(r: Rng, maxExp = 15): string {
  const sign = r.chance(0.35) ? "-" : "";
  switch (r.int(0, 3)) {
    case 0:
      return `${sign}${(r.next() * 1000).toFixed(r.int(1, 4))}`;
    case 1: {
      const exp = r.int(-12, maxExp);
      return `${sign}${(1 + r.next() * 8.999).toFixed(r.int(0, 6))}${r.pick(["e", "E"])}${exp < 0 ? "-" : r.pick(["", "+"])}${Math.abs(exp)}`;
    }
    case 2:
      return `${sign}0.${String(r.int(1, 99999)).padStart(5, "0")}`;
    default:
      return `${sign}${r.int(0, 5000)}.${r.int(0, 9)}`;
  }
}

function bigintText(r: Rng, f: InputFlags): string {
  switch (r.int(0, f.safeIntegers ? 2 : 4)) {
    case 0:
      return String(r.int(-50, 50));
    case 3:
      return String(BigInt(r.int(-1e6, 1e6)) * 1_000_000_007n); // beyond 2^53
    case 4:
      return "9007199254740993";
    default:
      return String(r.int(-100000, 100000));
  }
}

function dateText(r: Rng): string {
  const d = new Date(Date.UTC(1950, 0, 1) + r.int(0, 365 * 90) * 86400000);
  return d.toISOString().slice(0, 10);
}

function words(r: Rng, f: InputFlags): string {
  const pool = [...WORDS, ...(f.quoting ? QUOTED_WORDS : []), ...(f.quotedNewlines ? ["line1\nline2", "a\r\nb"] : [])];
  return Array.from({ length: r.int(1, 3) }, () => r.pick(pool)).join(r.pick([" ", "_", ""]));
}

function key(r: Rng, f: InputFlags): string {
  return r.pick([...KEYS, ...(f.quoting ? QUOTED_KEYS : []), ...(f.quotedNewlines ? ["k\nnl"] : [])]);
}

/** Table `t`: the suite's main table. */
export const T_COLUMNS: ColumnGen[] = [
  { name: "k", type: "VARCHAR", json: "string", nulls: 0.05, draw: key },
  { name: "g", type: "BIGINT", json: "number", nulls: 0.1, draw: (r) => String(r.int(-3, 5)) },
  { name: "x", type: "BIGINT", json: "number", nulls: 0.1, draw: bigintText },
  { name: "y", type: "DOUBLE", json: "number", nulls: 0.1, draw: (r) => floatText(r) },
  { name: "s", type: "VARCHAR", json: "string", nulls: 0.1, draw: words },
  { name: "d", type: "DATE", json: "string", nulls: 0.1, draw: dateText },
];

/** Table `u`: the other side of joins. */
export const U_COLUMNS: ColumnGen[] = [
  { name: "k", type: "VARCHAR", json: "string", nulls: 0.05, draw: key },
  { name: "w", type: "BIGINT", json: "number", nulls: 0.1, draw: (r) => String(r.int(-1000, 1000)) },
];

function sourceIp(r: Rng, f: InputFlags): string {
  const parts = Array.from({ length: r.int(1, 4) }, () => (r.chance(0.15) ? r.pick(["é", "日", "ü", "😀"]) : String(r.int(0, 255))));
  const ip = parts.join(".");
  return f.quoting && r.chance(0.1) ? `${ip},${r.int(0, 9)}` : ip;
}

/** Table `uservisits` (the benchmark's columns, headerless CSV or Parquet): Query 2's input. */
export const UV_COLUMNS: ColumnGen[] = [
  { name: "sourceIP", type: "VARCHAR", json: "string", nulls: 0.03, draw: sourceIp },
  { name: "destURL", type: "VARCHAR", json: "string", nulls: 0, draw: (r) => `http://site${r.int(0, 50)}.example/p${r.int(0, 999)}` },
  { name: "visitDate", type: "DATE", json: "string", nulls: 0, draw: dateText },
  { name: "adRevenue", type: "FLOAT", json: "number", nulls: 0.05, draw: (r) => floatText(r, 12) },
  { name: "userAgent", type: "VARCHAR", json: "string", nulls: 0, draw: words },
  { name: "countryCode", type: "VARCHAR", json: "string", nulls: 0, draw: (r) => r.pick(["FRA", "DEU", "USA", "BRA", "JPN"]) },
  { name: "languageCode", type: "VARCHAR", json: "string", nulls: 0, draw: (r) => r.pick(["fr", "de", "en", "pt", "ja"]) },
  { name: "searchWord", type: "VARCHAR", json: "string", nulls: 0, draw: (r, f) => words(r, f) },
  { name: "duration", type: "INTEGER", json: "number", nulls: 0, draw: (r) => String(r.int(1, 100)) },
];

export const TABLE_COLUMNS = { t: T_COLUMNS, u: U_COLUMNS, uservisits: UV_COLUMNS } as const;
export type TableName = keyof typeof TABLE_COLUMNS;

/** A generated table: its local files (in listing order) and how they were written. */
export interface GeneratedTable {
  name: TableName;
  columns: Column[];
  dir: string;
  files: string[];
  /** The column order of each file (CSV and NDJSON; canonical for Parquet). */
  fileColumns: Column[][];
  flags: InputFlags;
  rows: number;
  /** Some CSV field was written between quotes. */
  quoted: boolean;
  /** Some quoted CSV field holds a newline. */
  quotedNewline: boolean;
}

type Row = (string | null)[];

function drawRow(r: Rng, cols: ColumnGen[], f: InputFlags, nulls: boolean): Row {
  return cols.map((c) => (nulls && r.chance(c.nulls) ? null : c.draw(r, f)));
}

function csvField(v: string | null, c: ColumnGen, r: Rng, f: InputFlags): string {
  if (v === null) return "";
  if (/[",\r\n]/.test(v)) return `"${v.replace(/"/g, '""')}"`;
  if (f.quoting && c.json === "string" && r.chance(0.2)) return `"${v}"`;
  return v;
}

function jsonField(v: string | null, c: ColumnGen): string {
  if (v === null) return "null";
  return c.json === "number" ? v : JSON.stringify(v);
}

/**
 * Writes table `name`'s files under `dir/<name>/` with `flags`: `files` data files of up to
 * `maxRows` rows each (the first one at least 8 rows, its first row without NULLs, so that a
 * reader sniffing the first file sees every column's type), plus the empty / header-only file
 * when asked for, at a random place after the first.
 */
export async function generateTable(db: DuckDb, r: Rng, dir: string, name: TableName, flags: InputFlags, o: { files: number; maxRows: number }): Promise<GeneratedTable> {
  const gens = TABLE_COLUMNS[name];
  const tdir = join(dir, name);
  mkdirSync(tdir, { recursive: true });
  const bodies: { rows: Row[]; order: ColumnGen[]; kind: "data" | "empty" | "headerOnly" }[] = [];
  let total = 0;
  for (let i = 0; i < o.files; i++) {
    const big = flags.format === "parquet" && flags.rowGroups && i === o.files - 1;
    const n = big ? r.int(4200, 6000) : i === 0 ? r.int(8, Math.max(8, o.maxRows)) : r.int(0, o.maxRows);
    const rows = Array.from({ length: n }, (_, j) => drawRow(r, gens, flags, !(i === 0 && j === 0)));
    total += n;
    const order = flags.shuffledColumns && (flags.format === "ndjson" || flags.header) ? r.shuffle(gens) : gens;
    bodies.push({ rows, order, kind: "data" });
  }
  const extra = (kind: "empty" | "headerOnly") => bodies.splice(r.int(1, bodies.length), 0, { rows: [], order: flags.shuffledColumns ? r.shuffle(gens) : gens, kind });
  if (flags.emptyFile) extra("empty");
  if (flags.headerOnly && flags.format === "csv" && flags.header) extra("headerOnly");
  const files: string[] = [];
  const fileColumns: Column[][] = [];
  const eol = flags.crlf ? "\r\n" : "\n";
  let quoted = false;
  let quotedNewline = false;
  for (const [i, b] of bodies.entries()) {
    const base = join(tdir, `part-${String(i).padStart(2, "0")}`);
    fileColumns.push(b.order.map(({ name, type }) => ({ name, type })));
    if (flags.format === "parquet") {
      const file = `${base}.parquet`;
      await writeParquet(db, file, gens, b.rows, flags.rowGroups && b.rows.length > 2048 ? 2048 : 100_000);
      files.push(file);
      continue;
    }
    const gz = flags.gzip && (i === 0 || r.chance(0.6));
    const file = `${base}.${flags.format}${gz ? ".gz" : ""}`;
    let text = "";
    if (b.kind !== "empty") {
      const idx = b.order.map((c) => gens.indexOf(c));
      const lines = flags.format === "csv"
        ? [...(flags.header ? [b.order.map((c) => c.name).join(",")] : []), ...b.rows.map((row) => idx.map((j) => csvField(row[j]!, gens[j]!, r, flags)).join(","))]
        : b.rows.map((row) => `{${idx.filter((j) => row[j] !== null || r.chance(0.5)).map((j) => `${JSON.stringify(gens[j]!.name)}:${jsonField(row[j]!, gens[j]!)}`).join(",")}}`);
      text = lines.join(eol) + (lines.length > 0 && (flags.finalNewline || b.kind === "headerOnly") ? eol : "");
      if (flags.format === "csv" && text.includes('"')) quoted = true;
      if (flags.format === "csv" && b.rows.some((row) => row.some((v) => v !== null && /[\r\n]/.test(v)))) quotedNewline = true;
      if (flags.bom && (i === 0 || r.chance(0.5))) text = `\uFEFF${text}`;
    }
    writeFileSync(file, gz ? gzipSync(Buffer.from(text)) : text);
    files.push(file);
  }
  return { name, columns: gens.map(({ name, type }) => ({ name, type })), dir: tdir, files, fileColumns, flags, rows: total, quoted, quotedNewline };
}

/** A Parquet file of `rows`, written by DuckDB from an NDJSON temp file with the columns' types. */
async function writeParquet(db: DuckDb, file: string, gens: ColumnGen[], rows: Row[], rowGroupSize: number): Promise<void> {
  const tmp = `${file}.src.json`;
  writeFileSync(tmp, rows.map((row) => `{${gens.map((c, j) => `${JSON.stringify(c.name)}:${row[j] === null ? "null" : JSON.stringify(row[j])}`).join(",")}}`).join("\n") + "\n");
  const cols = `{${gens.map((c) => `${sqlString(c.name)}: 'VARCHAR'`).join(", ")}}`;
  const select = gens.map((c) => `CAST(${sqlIdentifier(c.name)} AS ${c.type}) AS ${sqlIdentifier(c.name)}`).join(", ");
  await db.run(`COPY (SELECT ${select} FROM read_json(${sqlString(tmp)}, format = 'newline_delimited', columns = ${cols})) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
  const { rmSync } = await import("node:fs");
  rmSync(tmp);
}

/** Draws the input flags for `format`; `headerless` CSV gets no header (and so no header-only file or column orders). */
export function drawFlags(r: Rng, format: FileFormat, o: { header?: boolean; safeIntegers?: boolean } = {}): InputFlags {
  const csv = format === "csv";
  const header = csv ? (o.header ?? r.chance(0.5)) : false;
  const quoting = csv && r.chance(0.4);
  return {
    format,
    header,
    quoting,
    quotedNewlines: quoting && r.chance(0.25),
    crlf: format !== "parquet" && r.chance(0.3),
    bom: format !== "parquet" && r.chance(0.15),
    gzip: format !== "parquet" && r.chance(0.15),
    emptyFile: r.chance(0.2),
    headerOnly: header && r.chance(0.2),
    shuffledColumns: (header || format === "ndjson") && r.chance(0.2),
    finalNewline: r.chance(0.8),
    rowGroups: format === "parquet" && r.chance(0.5),
    safeIntegers: o.safeIntegers ?? false,
  };
}

/** The flags set, as short words (printed with a case). */
export function describeFlags(f: InputFlags): string {
  const on = (Object.entries(f) as [string, unknown][]).filter(([k, v]) => v === true && k !== "finalNewline" && k !== "safeIntegers").map(([k]) => k);
  if (!f.finalNewline && f.format !== "parquet") on.push("noFinalNewline");
  return [f.format, ...on].join("+");
}
