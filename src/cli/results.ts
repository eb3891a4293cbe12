/** Printing a result table held in DuckDB: an aligned text table, or all rows as JSON / CSV streamed to stdout. */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier, sqlString } from "../duckdb/sql.js";

export type ResultFormat = "table" | "json" | "csv";

/** Writes every row of `table` to `out` as a JSON array of objects, or as CSV with a header. */
export async function streamResult(db: DuckDb, table: string, format: "json" | "csv", out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "smelter-out-"));
  try {
    const file = join(dir, `result.${format}`);
    const options = format === "json" ? "FORMAT json, ARRAY true" : "FORMAT csv, HEADER true";
    const json = format === "json" ? await jsonSelectList(db, table) : undefined;
    await db.run(`COPY (SELECT ${json?.list ?? "*"} FROM ${sqlIdentifier(table)}) TO ${sqlString(file)} (${options})`);
    if (json?.nestedFloats) await pipeline(createReadStream(file, "utf8"), nonFiniteAsStrings(), out, { end: false });
    else await pipeline(createReadStream(file), out, { end: false });
    if (format === "json") out.write("\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Columns for JSON that JavaScript reads back exactly: integers beyond 2^53 as strings (smaller
 * ones stay numbers), DECIMAL values with more than 15 significant digits as strings (a double
 * holds 15 exactly), timestamps as ISO strings (dates already are), a double's NaN and infinities
 * as the strings "nan", "inf", "-inf"; `nestedFloats`: some column holds doubles inside lists,
 * structs or maps, whose NaN and infinities DuckDB writes bare ({@link nonFiniteAsStrings}).
 */
async function jsonSelectList(db: DuckDb, table: string): Promise<{ list: string; nestedFloats: boolean }> {
  const columns = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sqlIdentifier(table)}`);
  const float = /^(DOUBLE|FLOAT|REAL|FLOAT4|FLOAT8)$/i;
  const list = columns
    .map(({ column_name: name, column_type: type }) => {
      const c = sqlIdentifier(name);
      // Unsigned: no negative bound (a UHUGEINT over 2^127 failed to compare with one: "out of range for INT128").
      if (/^(UBIGINT|UHUGEINT)$/i.test(type)) return `CASE WHEN ${c} <= 9007199254740991 THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END AS ${c}`;
      if (/^(BIGINT|HUGEINT|BIGNUM|VARINT)$/i.test(type)) return `CASE WHEN ${c} BETWEEN -9007199254740991 AND 9007199254740991 THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END AS ${c}`;
      const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
      if (decimal && Number(decimal[1]) > 15) return `CASE WHEN abs(${c}) < 1e${15 - Number(decimal[2])} THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END AS ${c}`;
      if (/^TIMESTAMP( WITH TIME ZONE)?$|^TIMESTAMP(_S|_MS|_NS)?$|^TIMESTAMPTZ$/i.test(type)) return `replace(${c}::VARCHAR, ' ', 'T') AS ${c}`;
      // JSON has no NaN or infinity (DuckDB writes bare NaN and Infinity, which JSON.parse refuses): as strings, "nan", "inf", "-inf".
      if (float.test(type)) return `CASE WHEN ${c} IS NULL OR isfinite(${c}) THEN to_json(${c}) ELSE to_json(${c}::VARCHAR) END AS ${c}`;
      return c;
    })
    .join(", ");
  const nestedFloats = columns.some(({ column_type: t }) => !float.test(t) && /\b(DOUBLE|FLOAT|REAL|FLOAT4|FLOAT8)\b/i.test(t));
  return { list, nestedFloats };
}

/**
 * JSON text with DuckDB's bare `NaN`, `Infinity` and `-Infinity` (outside strings) written as the
 * strings "nan", "inf" and "-inf", as top-level columns have them: for doubles inside lists,
 * structs and maps, which a select list cannot reach at any depth.
 */
export function nonFiniteAsStrings(): Transform {
  const words: Record<string, string> = { NaN: '"nan"', Infinity: '"inf"', "-Infinity": '"-inf"' };
  const outside = /"|NaN|-Infinity|Infinity/g;
  const inside = /["\\]/g;
  let inString = false;
  // Text held back for the next chunk: the start of a word the chunk cut, or an escape's backslash.
  let pending = "";
  const feed = (chunk: string): string => {
    const text = pending + chunk;
    pending = "";
    const out: string[] = [];
    let [copied, i] = [0, 0];
    while (i < text.length) {
      const re = inString ? inside : outside;
      re.lastIndex = i;
      const m = re.exec(text);
      if (!m) {
        if (!inString) {
          // A word cut at the chunk's end (NaN, Infinity, -Infinity; a lone "-" too, harmlessly).
          for (let n = Math.min(8, text.length - i); n >= 1; n--) {
            const tail = text.slice(text.length - n);
            if (Object.keys(words).some((w) => w.length > n && w.startsWith(tail))) {
              pending = tail;
              break;
            }
          }
        }
        break;
      }
      if (inString) {
        if (m[0] === "\\") {
          if (m.index + 1 >= text.length) {
            pending = "\\";
            break;
          }
          i = m.index + 2;
        } else [inString, i] = [false, m.index + 1];
      } else if (m[0] === '"') [inString, i] = [true, m.index + 1];
      else {
        out.push(text.slice(copied, m.index), words[m[0]]!);
        copied = i = m.index + m[0].length;
      }
    }
    out.push(text.slice(copied, text.length - pending.length));
    return out.join("");
  };
  return new Transform({
    decodeStrings: false,
    transform(chunk: string, _encoding, done) {
      done(null, feed(chunk));
    },
    flush(done) {
      done(null, pending);
    },
  });
}

/**
 * The first `limit` rows of `table` for {@link formatTable}: numbers and text as they are, every
 * other type (dates, timestamps, intervals, lists, structs...) as DuckDB prints it.
 */
export async function topRows(db: DuckDb, table: string, limit: number): Promise<{ names: string[]; rows: Record<string, unknown>[] }> {
  const columns = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sqlIdentifier(table)}`);
  const plain = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|REAL|DECIMAL(\(.*\))?|VARCHAR|BOOLEAN)$/i;
  const list = columns.map(({ column_name: n, column_type: t }) => (plain.test(t) ? sqlIdentifier(n) : `CAST(${sqlIdentifier(n)} AS VARCHAR) AS ${sqlIdentifier(n)}`)).join(", ");
  return { names: columns.map((c) => c.column_name), rows: await db.all(`SELECT ${list} FROM ${sqlIdentifier(table)} LIMIT ${limit}`) };
}

/** An aligned text table of rows (numbers right-aligned). */
export function formatTable(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number" || typeof r[c] === "bigint"));
  const line = (values: string[]) => values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(6);
  return String(v);
}
