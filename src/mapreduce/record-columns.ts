/**
 * How a reducer hands its records to the coordinator (`defineMapReduce` without `output`): one
 * object per reducer, read back whole.
 *
 * Records of one shape go as columns: every record an array of the same length, or every record a
 * plain object with the same keys in the same order, and every field a string, number, boolean or
 * null. Each column is then a string column (UTF-8 text cut by UTF-16 lengths) when all its fields
 * are strings, a float64 column when all are finite numbers, else one JSON array. The coordinator
 * rebuilds the records from them without parsing JSON for strings and numbers: 2M `[key, sum]`
 * records (Query 2A as functions) took 300-380 ms of `JSON.parse` as JSON columns, and about half
 * that as one JSON array per record. Any other records go as one JSON array of them (the object
 * then starts with `[`, never with the columns' magic). Either way each record arrives as
 * `JSON.parse(JSON.stringify(record))` would give it: the fields columns allow are exactly those
 * whose JSON text is the same wherever they stand, strings keep lone surrogates, `-0` arrives as 0.
 *
 * Layout of the columns (little-endian):
 * | bytes | what |
 * |---|---|
 * | 4 | `SMR1` |
 * | 4 | n, the records |
 * | 4 | w, the fields per record |
 * | 4 | m, bytes of the names |
 * | m | the objects' keys as a JSON array (UTF-8), or nothing for arrays |
 * | per field: 1 | kind: 0 strings, 1 float64, 2 JSON |
 * | 3 | 0 |
 * | 4 | b, bytes of the column |
 * | b | strings: 4n lengths in UTF-16 code units, then the UTF-8 text; float64: 8n; JSON: one array |
 */
import { ValidationError } from "../job/errors.js";
import { decodeColumn } from "./pair-segments.js";

const MAGIC = 0x31524d53; // "SMR1" read as a little-endian u32
const HEAD = 16;
const encoder = new TextEncoder();
const STRINGS = 0;
const FLOAT64 = 1;
const JSON_COLUMN = 2;

/** The bytes a reducer writes for `records` (an array): columns when they have one shape, else one JSON array. */
export function encodeRecords(records: readonly unknown[]): Uint8Array {
  const shape = columnsOf(records);
  if (!shape) return encoder.encode(JSON.stringify(records));
  const names = shape.names ? encoder.encode(JSON.stringify(shape.names)) : new Uint8Array(0);
  const parts = shape.columns.map(encodeColumn);
  const out = new Uint8Array(HEAD + names.byteLength + parts.reduce((a, b) => a + 7 + b.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, records.length, true);
  view.setUint32(8, parts.length, true);
  view.setUint32(12, names.byteLength, true);
  out.set(names, HEAD);
  let at = HEAD + names.byteLength;
  for (const body of parts) {
    out[at] = body[0]!;
    view.setUint32(at + 4, body.byteLength - 1, true);
    out.set(body.subarray(1), at + 8);
    at += 8 + body.byteLength - 1;
  }
  return out;
}

/** One column: its kind byte, then its body. */
function encodeColumn(column: unknown[]): Uint8Array {
  const n = column.length;
  let strings = true;
  let numbers = true;
  for (let i = 0; i < n && (strings || numbers); i++) {
    const v = column[i];
    if (typeof v !== "string") strings = false;
    if (typeof v !== "number" || !Number.isFinite(v)) numbers = false;
  }
  if (numbers) {
    const out = new Uint8Array(1 + 8 * n);
    out[0] = FLOAT64;
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) view.setFloat64(1 + 8 * i, (column[i] as number) + 0, true); // -0 as 0, as JSON writes it
    return out;
  }
  if (strings) {
    // Joined, the text is well-formed unless a lone surrogate stands alone (a pair split across two fields is still cut back exactly).
    const text = (column as string[]).join("");
    if ((text as string & { isWellFormed(): boolean }).isWellFormed()) {
      const bytes = encoder.encode(text);
      const out = new Uint8Array(1 + 4 * n + bytes.byteLength);
      out[0] = STRINGS;
      const view = new DataView(out.buffer);
      for (let i = 0; i < n; i++) view.setUint32(1 + 4 * i, (column[i] as string).length, true);
      out.set(bytes, 1 + 4 * n);
      return out;
    }
  }
  const json = encoder.encode(JSON.stringify(column));
  const out = new Uint8Array(1 + json.byteLength);
  out[0] = JSON_COLUMN;
  out.set(json, 1);
  return out;
}

/** The records of bytes {@link encodeRecords} wrote, checked to be `expected` of them; `source` names the object in errors. */
export function decodeRecords(bytes: Uint8Array, expected: number, source: string): unknown[] {
  const broken = (what: string) => new ValidationError(`${source} does not hold the ${expected} records its reducer reported (${what}): the job's work prefix was changed by something else; rerun the job`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEAD || view.getUint32(0, true) !== MAGIC) return decodeColumn("json", bytes, expected, broken) as unknown[];
  const n = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  const namesBytes = view.getUint32(12, true);
  if (n !== expected) throw broken(`${n} records`);
  if (width === 0 || HEAD + namesBytes > bytes.byteLength) throw broken("sizes do not add up");
  let names: string[] | null = null;
  if (namesBytes > 0) {
    let parsed: ArrayLike<unknown>;
    try {
      parsed = decodeColumn("json", bytes.subarray(HEAD, HEAD + namesBytes), width, broken);
    } catch {
      throw broken("column names");
    }
    names = Array.from(parsed) as string[];
    if (!names.every((x) => typeof x === "string" && x !== "__proto__") || new Set(names).size !== width) throw broken("column names");
  }
  const cols: ArrayLike<unknown>[] = [];
  let at = HEAD + namesBytes;
  for (let j = 0; j < width; j++) {
    if (at + 8 > bytes.byteLength) throw broken("sizes do not add up");
    const kind = bytes[at]!;
    const size = view.getUint32(at + 4, true);
    at += 8;
    if (at + size > bytes.byteLength) throw broken("sizes do not add up");
    const name = kind === STRINGS ? "strings" : kind === FLOAT64 ? "float64" : kind === JSON_COLUMN ? "json" : undefined;
    if (!name) throw broken(`column kind ${kind}`);
    cols.push(decodeColumn(name, bytes.subarray(at, at + size), n, broken));
    at += size;
  }
  if (at !== bytes.byteLength) throw broken("sizes do not add up");
  return rebuild(cols, n, names);
}

/** The records from their columns: arrays, or objects with these keys. */
function rebuild(cols: ArrayLike<unknown>[], n: number, names: string[] | null): unknown[] {
  const out = new Array<unknown>(n);
  const width = cols.length;
  if (names === null) {
    // Array literals for the common widths: V8 allocates them packed and at their size (2M
    // [key, sum] records: about 40% less than a loop of stores into new Array(width)).
    const [a, b, c, d] = cols as [ArrayLike<unknown>, ArrayLike<unknown>, ArrayLike<unknown>, ArrayLike<unknown>];
    if (width === 1) for (let i = 0; i < n; i++) out[i] = [a[i]];
    else if (width === 2) for (let i = 0; i < n; i++) out[i] = [a[i], b[i]];
    else if (width === 3) for (let i = 0; i < n; i++) out[i] = [a[i], b[i], c[i]];
    else if (width === 4) for (let i = 0; i < n; i++) out[i] = [a[i], b[i], c[i], d[i]];
    else
      for (let i = 0; i < n; i++) {
        const r = new Array<unknown>(width);
        for (let j = 0; j < width; j++) r[j] = cols[j]![i];
        out[i] = r;
      }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {};
    for (let j = 0; j < width; j++) r[names[j]!] = cols[j]![i];
    out[i] = r;
  }
  return out;
}

/**
 * The columns of `records` when they all share one shape (arrays of one width, or plain objects
 * with the same keys in the same order, every field an {@link isField}), else undefined. Each field
 * is read once, so a getter answers once, as for one `JSON.stringify`.
 */
function columnsOf(records: readonly unknown[]): { names: string[] | null; columns: unknown[][] } | undefined {
  const first = records[0];
  if (first === undefined || first === null || typeof first !== "object") return undefined;
  const n = records.length;
  if (Array.isArray(first)) {
    const width = first.length;
    if (width === 0) return undefined;
    const columns = Array.from({ length: width }, () => new Array<unknown>(n));
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (!Array.isArray(r) || r.length !== width || "toJSON" in r) return undefined;
      for (let j = 0; j < width; j++) {
        const v: unknown = r[j];
        if (!isField(v)) return undefined;
        columns[j]![i] = v;
      }
    }
    return { names: null, columns };
  }
  if (!isPlainObject(first)) return undefined;
  const names = Object.keys(first);
  if (names.length === 0 || names.includes("__proto__")) return undefined;
  const columns = names.map(() => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r === null || typeof r !== "object" || !isPlainObject(r)) return undefined;
    // Same keys in the same order (for...in over a plain object: its own enumerable string keys, in JSON's order).
    let j = 0;
    for (const k in r) {
      if (k !== names[j]) return undefined;
      const v = (r as Record<string, unknown>)[k];
      if (!isField(v)) return undefined;
      columns[j]![i] = v;
      j++;
    }
    if (j !== names.length) return undefined;
  }
  return { names, columns };
}

/** A value whose JSON text does not depend on where it stands (no toJSON, no omitted undefined). */
function isField(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

function isPlainObject(o: object): boolean {
  const proto = Object.getPrototypeOf(o) as unknown;
  return (proto === Object.prototype || proto === null) && !("toJSON" in o);
}
