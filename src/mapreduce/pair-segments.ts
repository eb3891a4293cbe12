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

const MAGIC = 0x31504d53; // "SMP1" read as a little-endian u32
const HEAD = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  const n = ids.length;
  if (n === 0) return new Uint8Array(0);
  const text = ids.join("");
  const wellFormed = (text as string & { isWellFormed(): boolean }).isWellFormed();
  const keyBytes = encoder.encode(wellFormed ? text : JSON.stringify(ids));
  let numeric = true;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      numeric = false;
      break;
    }
  }
  const jsonValues = numeric ? undefined : encoder.encode(valuesJson(values));
  const valueBytes = jsonValues ? jsonValues.byteLength : 8 * n;
  const lengths = wellFormed ? 4 * n : 0;
  const out = new Uint8Array(HEAD + lengths + keyBytes.byteLength + valueBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  out[8] = wellFormed ? 0 : 1;
  out[9] = numeric ? 0 : 1;
  view.setUint32(12, keyBytes.byteLength, true);
  view.setUint32(16, valueBytes, true);
  let at = HEAD;
  if (wellFormed) for (let i = 0; i < n; i++, at += 4) view.setUint32(at, ids[i]!.length, true);
  out.set(keyBytes, at);
  at += keyBytes.byteLength;
  if (jsonValues) out.set(jsonValues, at);
  // `+ 0` turns -0 into 0, as JSON would.
  else for (let i = 0; i < n; i++, at += 8) view.setFloat64(at, (values[i] as number) + 0, true);
  return out;
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
  let at = HEAD + lengths;
  const text = decoder.decode(bytes.subarray(at, at + keyBytes));
  at += keyBytes;
  let ids: string[];
  if (keyKind === 0) {
    ids = new Array<string>(n);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const len = view.getUint32(HEAD + 4 * i, true);
      ids[i] = text.slice(pos, pos + len);
      pos += len;
    }
    if (pos !== text.length) throw broken("key lengths do not match the key text");
  } else {
    ids = parseJsonArray(text, n, broken);
  }
  if (valueKind === 1) return { ids, values: parseJsonArray(decoder.decode(bytes.subarray(at, at + valueBytes)), n, broken) };
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++, at += 8) values[i] = view.getFloat64(at, true);
  return { ids, values };
}

function parseJsonArray<T>(text: string, n: number, broken: (what: string) => Error): T[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw broken("a column is not JSON");
  }
  if (!Array.isArray(parsed) || parsed.length !== n) throw broken("a column does not hold one item per pair");
  return parsed as T[];
}
