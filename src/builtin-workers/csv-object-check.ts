/**
 * The check DuckDB alone makes of each further file of a CSV glob, made by the task that reads an
 * object's first records. DuckDB alone sniffs a glob's first 10 files for its columns (the
 * catalog does the same: sql/catalog.ts), then sniffs every other file as it opens it: a file
 * whose columns sniff to a type that does not widen to the glob's (fractions in a BIGINT column)
 * is refused ("Schema mismatch between globbed files"), and a file of another dialect is read
 * with its own. Smelter reads a table's objects with one dialect and types, so without this check
 * such an object was read wrong: its fractions rounded, its quotes kept as data.
 *
 * The object's first records are sniffed where the task already has them: its local file, when
 * that holds the object's first 20,480 rows (DuckDB's `sample_size`) or all of its data; else a
 * sample read from the store (a byte range shorter than that). The object is refused when its
 * dialect differs from the table's in any way the table's one dialect would misread, when it has
 * another number of columns, or when a column's type does not widen to the table's as DuckDB's
 * rule has it (sql/csv-sniff.ts castsTo). Tables whose columns were given (--schema) are not
 * checked: DuckDB alone does not sniff their files either.
 */
import { open } from "node:fs/promises";
import type { DuckDb } from "../duckdb/index.js";
import { sqlString } from "../duckdb/sql.js";
import { NonRetryableError } from "../job/errors.js";
import type { LocalFile } from "../mapreduce/materialize.js";
import { columnOrder, type tableSchema } from "../mapreduce/table-source.js";
import { castsTo, dialectDifference, lineCount, sample, SAMPLE_LINES, sniffCsv, sniffCsvFile, type Sniffed, type WithDuckDb } from "../sql/csv-sniff.js";
import type { ObjectStore } from "../storage/contract.js";
import type { z } from "zod";

type Table = z.output<typeof tableSchema>;

/** Checks each of `files` that holds the first records of an object the table was not sniffed from (a no-op for other tables). */
export async function checkLaterObjects(files: LocalFile[], table: Table, store: ObjectStore, db: DuckDb): Promise<void> {
  const from = table.sniffedFrom;
  if (!from || table.format !== "csv") return;
  for (const f of files) {
    if (f.split.range.start !== 0 || from.objects.includes(f.split.key)) continue;
    await checkObject(f, table, store, (fn) => fn(db));
  }
}

async function checkObject(f: LocalFile, table: Table, store: ObjectStore, use: WithDuckDb): Promise<void> {
  const from = table.sniffedFrom!;
  const object = f.object ?? f.split.key;
  const where = `object ${object}`;
  const options = { ...from.given, badRows: table.badRows, ...(table.nullString !== undefined ? { nullString: table.nullString } : {}) };
  // The local file holds all of the object's data (whole, or decompressed), or a range of at least DuckDB's sample.
  const whole = f.split.compression !== undefined || f.split.range.end >= f.split.fileSize;
  const zstd = f.split.compression === "zstd";
  let local: boolean;
  if (zstd) {
    if (!(await hasData(f.path, f.headerLine, use))) return; // no data rows: DuckDB alone reads none and checks nothing
    local = true;
  } else {
    const lines = await linesIn(f.path, whole ? 2 : SAMPLE_LINES);
    if (lines < (f.headerLine ? 2 : 1)) return; // no data rows: nothing to check
    local = whole || lines >= SAMPLE_LINES;
  }
  const told = local ? f.headerLine : table.header;
  let sniffed: Sniffed;
  try {
    if (local) sniffed = await sniffCsvFile(f.path, { ...options, header: told }, { where, file: "its first records", ...(f.newLine ? { newLine: f.newLine } : {}) }, use);
    else sniffed = await sniffCsv(await sample(store, f.split, where), { ...options, header: told }, where, use);
  } catch (err) {
    // Rows the table skips (--bad-rows skip) may be what DuckDB's sniffer cannot read: the object is read as the table says, its bad rows counted.
    if (table.badRows === "skip") return;
    throw err;
  }
  const refuse = (why: string, fix: string): never => {
    throw new NonRetryableError(`${object}: ${why} (the table's were sniffed from its first ${from.objects.length} objects, as DuckDB alone sniffs a glob's first 10 files). ${fix}`, { type: "InputError" });
  };
  const d = dialectDifference({ delimiter: table.delimiter, quote: table.quote, escape: table.escape, header: told }, sniffed.dialect);
  if (d) {
    const show = (c: string) => (c === "" ? "none" : JSON.stringify(c));
    refuse(`its first records sniff as another CSV dialect than the table's: ${d.what} ${show(d.other)} here, ${show(d.table)} in the table`, `DuckDB alone reads such an object with its own dialect; Smelter reads a table's objects with one, which would misread this one. Pass the table's CSV options (--${d.what === "a header" ? "header" : d.what} ${shellQuote(d.other)}), or define a table per set of objects`);
  }
  if (sniffed.columns.length !== table.columns.length) {
    refuse(`its first records hold ${sniffed.columns.length} columns, the table's ${table.columns.length}`, `DuckDB alone refuses such a glob too. Define a table per set of objects`);
  }
  const order = f.names && table.header ? columnOrder(table, f) : undefined;
  for (const [i, c] of sniffed.columns.entries()) {
    const want = table.columns[order ? order[i]! : i]!;
    if (castsTo(c.type, want.type)) continue;
    const fits = castsTo(want.type, c.type) ? c.type : (["BIGINT", "DOUBLE", "VARCHAR"].find((t) => castsTo(c.type, t) && castsTo(want.type, t)) ?? "VARCHAR");
    refuse(`column ${want.name} sniffs as ${c.type} in its first rows, where the table's ${want.name} is ${want.type}`, `DuckDB alone refuses such a glob too ("Schema mismatch between globbed files"); read as ${want.type}, this object's values would be changed or refused. Pass --schema for the table with a type every object fits (${want.name} ${fits}), or define a table per set of objects`);
  }
}

/** A CSV option's value as a shell word. */
function shellQuote(v: string): string {
  return `'${v.replaceAll("'", "'\\''")}'`;
}

/** Lines of a local file (a last line without its LF counts), counted up to `atMost`. */
async function linesIn(path: string, atMost: number): Promise<number> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(1024 * 1024);
    let [n, at, last] = [0, 0, 10];
    while (n < atMost) {
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, at);
      if (bytesRead === 0) return last === 10 ? n : n + 1;
      const chunk = buf.subarray(0, bytesRead);
      for (let i = chunk.indexOf(10); i >= 0 && n < atMost; i = chunk.indexOf(10, i + 1)) n++;
      last = chunk[bytesRead - 1]!;
      at += bytesRead;
    }
    return n;
  } finally {
    await fh.close();
  }
}

/** Whether a zstd CSV file holds a data row (DuckDB decompresses it; Node 20 cannot). */
async function hasData(path: string, header: boolean, use: WithDuckDb): Promise<boolean> {
  const rows = await use((db) => db.all(`SELECT 1 FROM read_csv(${sqlString(path)}, header = ${header}, all_varchar = true) LIMIT 1`));
  return rows.length > 0;
}
