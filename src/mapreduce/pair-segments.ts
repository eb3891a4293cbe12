/**
 * The shuffle segment format of `defineMapReduce` (functions.ts): one partition's `[key, value]`
 * pairs of one map attempt, columnar, so that a segment is written and read with a handful of
 * calls instead of one JSON text per pair.
 *
 * Keys travel as their ids ({@link groupId}): a string key is itself, any other key `\0` + its
 * JSON text. Values travel as float64 when every value of the segment is a finite number (`-0`
 * written as `0`, as JSON writes it), else as one JSON array: either way a value arrives as JSON
 * would carry it (`undefined` as `null`, `NaN` as `null`).
 *
 * Layout (little-endian):
 * | bytes | what |
 * |---|---|
 * | 4 | `SMP1` |
 * | 4 | n, the pairs |
 * | 1 | key kind: 0 = ids as UTF-8 text, cut by the lengths below; 1 = ids as one JSON array (some id is not well-formed UTF-16: a lone surrogate) |
 * | 1 | value kind: 0 = float64; 1 = one JSON array |
 * | 2 | 0 |
 * | 4 | key bytes |
 * | 4 | value bytes |
 * | 4n (key kind 0) | each id's length in UTF-16 code units |
 * | key bytes | the ids |
 * | value bytes | the values |
 */
import { ValidationError } from "../job/errors.js";
import { decodeText } from "../splits/csv-range.js";

const MAGIC = 0x31504d53; // "SMP1" read as a little-endian u32
const HEAD = 20;
const encoder = new TextEncoder();

/**
 * A key's identity in maps, in segments and for partitioning: a string key is itself (no JSON
 * needed), any other key `\0` + its JSON text. A string starting with `\0` also takes the JSON
 * form; JSON of a string starts with `"` and JSON of anything else never does, so ids never collide.
 */
export function groupId(key: unknown): string {
  if (typeof key === "string" && key.charCodeAt(0) !== 0) return key;
  return `\0${keyText(key)}`;
}

/** The key whose {@link groupId} is `id`. */
export function keyOfId(id: string): unknown {
  return id.charCodeAt(0) === 0 ? JSON.parse(id.slice(1)) : id;
}

function keyText(key: unknown): string {
  let k: string | undefined;
  try {
    k = JSON.stringify(key);
  } catch (err) {
    throw new TypeError(`emit(key, value): the key cannot be written as JSON (${(err as Error).message}); use strings, numbers, booleans, arrays or plain objects`);
  }
  if (k === undefined) throw new TypeError(`emit(key, value): the key is ${typeof key}, which JSON cannot hold; use strings, numbers, booleans, arrays or plain objects`);
  return k;
}

/** One segment of `ids[i]` / `values[i]` pairs (empty bytes for no pairs). */
export function encodePairs(ids: readonly string[], values: readonly unknown[]): Uint8Array {
  const w = new SegmentWriter();
  for (let i = 0; i < ids.length; i++) w.add(ids[i]!, values[i]);
  return w.finish();
}

/**
 * One segment written pair by pair, as {@link encodePairs} writes the same pairs: key ids as UTF-8
 * with their lengths, values as float64 while every value is a finite number. A map task that
 * ships its pairs as they are emitted holds a few bytes per pair, not a string and a slot in two
 * arrays (which the young generation's collector copied until the task ended).
 */
export class SegmentWriter {
  private n = 0;
  private keys = new Uint8Array(1024);
  private keyBytes = 0;
  /** Each id's length in UTF-16 code units (in bytes mode). */
  private lengths = new Uint32Array(64);
  /** The values while every one is a finite number. */
  private numbers: Float64Array | undefined = new Float64Array(64);
  /** The values once one was not a finite number: the segment's values then go as one JSON array. */
  private others: unknown[] | undefined;
  /** The ids once one was not well-formed UTF-16 (a lone surrogate): the segment's ids then go as one JSON array. */
  private ids: string[] | undefined;

  /** The pairs written so far. */
  get size(): number {
    return this.n;
  }

  add(id: string, value: unknown): void {
    const n = this.n;
    if (n === this.lengths.length) this.grow();
    if (this.ids !== undefined || !this.writeKey(id)) this.keepId(id);
    this.lengths[n] = id.length;
    if (this.numbers !== undefined && typeof value === "number" && Number.isFinite(value)) this.numbers[n] = value + 0; // -0 as 0, as JSON writes it
    else this.keepValue(value);
    this.n = n + 1;
  }

  /** Writes an id's UTF-8 bytes; false (nothing written) when it is not well-formed UTF-16. */
  private writeKey(id: string): boolean {
    const len = id.length;
    if (this.keyBytes + 3 * len > this.keys.length) this.keys = grown(this.keys, this.keyBytes + 3 * len);
    const keys = this.keys;
    let at = this.keyBytes;
    for (let i = 0; i < len; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) {
        if (!(id as string & { isWellFormed(): boolean }).isWellFormed()) return false;
        at = this.keyBytes + encoder.encodeInto(id, keys.subarray(this.keyBytes)).written;
        break;
      }
      keys[at++] = c;
    }
    this.keyBytes = at;
    return true;
  }

  private keepId(id: string): void {
    if (this.ids === undefined) {
      // The ids so far, back from their bytes: from here on ids are kept as strings.
      const text = decodeText(this.keys.subarray(0, this.keyBytes));
      this.ids = new Array<string>(this.n);
      for (let i = 0, pos = 0; i < this.n; pos += this.lengths[i]!, i++) this.ids[i] = text.slice(pos, pos + this.lengths[i]!);
      this.keys = new Uint8Array(0);
      this.keyBytes = 0;
    }
    this.ids.push(id);
  }

  private keepValue(value: unknown): void {
    if (this.numbers !== undefined) {
      this.others = Array.from(this.numbers.subarray(0, this.n));
      this.numbers = undefined;
    }
    this.others!.push(value);
  }

  private grow(): void {
    this.lengths = grown(this.lengths, 2 * this.lengths.length);
    if (this.numbers !== undefined) this.numbers = grown(this.numbers, 2 * this.numbers.length);
  }

  /** The segment's bytes (empty for no pairs). */
  finish(): Uint8Array {
    const n = this.n;
    if (n === 0) return new Uint8Array(0);
    const keyBytes = this.ids !== undefined ? encoder.encode(JSON.stringify(this.ids)) : this.keys.subarray(0, this.keyBytes);
    const jsonValues = this.others !== undefined ? encoder.encode(valuesJson(this.others)) : undefined;
    const valueBytes = jsonValues ? jsonValues.byteLength : 8 * n;
    const lengths = this.ids === undefined ? 4 * n : 0;
    const out = new Uint8Array(HEAD + lengths + keyBytes.byteLength + valueBytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, n, true);
    out[8] = this.ids === undefined ? 0 : 1;
    out[9] = jsonValues ? 1 : 0;
    view.setUint32(12, keyBytes.byteLength, true);
    view.setUint32(16, valueBytes, true);
    let at = HEAD;
    if (lengths) for (let i = 0; i < n; i++, at += 4) view.setUint32(at, this.lengths[i]!, true);
    out.set(keyBytes, at);
    at += keyBytes.byteLength;
    if (jsonValues) out.set(jsonValues, at);
    else for (let i = 0, numbers = this.numbers!; i < n; i++, at += 8) view.setFloat64(at, numbers[i]!, true);
    return out;
  }
}

function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(size, 2 * a.length));
  b.set(a);
  return b;
}

function valuesJson(values: readonly unknown[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) parts[i] = JSON.stringify(values[i]) ?? "null";
  return `[${parts.join(",")}]`;
}

/** The pairs of a segment written by {@link encodePairs}; `source` names it in errors. */
export function decodePairs(bytes: Uint8Array, source: string): { ids: string[]; values: ArrayLike<unknown> } {
  if (bytes.byteLength === 0) return { ids: [], values: [] };
  const broken = (what: string) => new ValidationError(`shuffle segment of ${source} is not a pairs segment (${what}): the job's work prefix was changed by something else; rerun the job`);
  if (bytes.byteLength < HEAD) throw broken("too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw broken("no SMP1 header");
  const n = view.getUint32(4, true);
  const keyKind = bytes[8];
  const valueKind = bytes[9];
  const keyBytes = view.getUint32(12, true);
  const valueBytes = view.getUint32(16, true);
  const lengths = keyKind === 0 ? 4 * n : 0;
  if (HEAD + lengths + keyBytes + valueBytes !== bytes.byteLength || (keyKind !== 0 && keyKind !== 1) || (valueKind !== 0 && valueKind !== 1) || (valueKind === 0 && valueBytes !== 8 * n)) throw broken("sizes do not add up");
  const keys = bytes.subarray(HEAD, HEAD + lengths + keyBytes);
  const ids = decodeColumn(keyKind === 0 ? "strings" : "json", keys, n, broken) as string[];
  const values = decodeColumn(valueKind === 0 ? "float64" : "json", bytes.subarray(HEAD + lengths + keyBytes), n, broken);
  return { ids, values };
}

/**
 * One column of `n` values, as segments (keys: strings or JSON; values: float64 or JSON) and the
 * reducers' record columns (record-columns.ts) hold them: `strings` is 4n lengths in UTF-16 code
 * units, then the UTF-8 text they cut; `float64` is 8n bytes; `json` one JSON array. Damaged bytes
 * throw `broken(...)`, never read as other values (the text is decoded strictly: not U+FFFD).
 */
export function decodeColumn(kind: "strings" | "float64" | "json", body: Uint8Array, n: number, broken: (what: string) => Error): ArrayLike<unknown> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (kind === "float64") {
    if (body.byteLength !== 8 * n) throw broken("a column's length");
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }
  if (kind === "json") return parseJsonArray(strictText(body, broken), n, broken);
  if (body.byteLength < 4 * n) throw broken("a column's length");
  const text = strictText(body.subarray(4 * n), broken);
  const out = new Array<string>(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(4 * i, true);
    out[i] = text.slice(pos, pos + len);
    pos += len;
  }
  if (pos !== text.length) throw broken("string lengths do not match the text");
  return out;
}

function strictText(bytes: Uint8Array, broken: (what: string) => Error): string {
  try {
    return decodeText(bytes, true);
  } catch {
    throw broken("a column is not UTF-8");
  }
}

function parseJsonArray<T>(text: string, n: number, broken: (what: string) => Error): T[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw broken("a column is not JSON");
  }
  if (!Array.isArray(parsed) || parsed.length !== n) throw broken("a column does not hold one item per row");
  return parsed as T[];
}
