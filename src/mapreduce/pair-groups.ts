/**
 * The pairs of `defineMapReduce` (functions.ts) on both sides of the shuffle, held by key id
 * (pair-segments.ts: a string key is its own id, so string keys cost no JSON).
 *
 * With `combine`, values are folded as they are emitted (map side, while keys repeat) or read
 * (reduce side): `value = combine(key, [value, next])`, so a task holds one value per key and
 * never a list. Without it, the map side writes every pair to its segment in emit order and the
 * reduce side keeps a list per key.
 */
import { decodePairs, groupId, keyOfId, SegmentWriter } from "./pair-segments.js";

export type Combine<K, V> = (key: K, values: V[]) => V;

/**
 * How a map task decides whether folding with `combine` pays: after its first FOLD_WINDOW emits,
 * if more than {@link PASS_THROUGH_RATIO} of them were distinct keys, it stops folding and ships
 * each later pair as it is; the reducers fold them all. Folding such pairs costs a hash-map lookup
 * per emit on the map side and saves little to ship, while the reducers look every key up anyway
 * (Query 2A as functions, 5M rows: map tasks 4.9 -> 4.05 CPU-s, reduce tasks 1.7 -> 2.3;
 * docs/performance.md). Decided once: a wrong guess costs some speed, never an answer, since
 * `combine` may run zero or more times per value (its contract).
 */
export const FOLD_WINDOW = 65_536;
/** See {@link FOLD_WINDOW}. */
export const PASS_THROUGH_RATIO = 0.5;

/**
 * A map task's pairs, written as R segments: folded per key with `combine` (while that shrinks
 * them), else written to their partition's segment as they are emitted.
 */
export class MapPairs<K, V> {
  emitted = 0;
  /** With combine: each key id's index in `values`. An index, not the value: one lookup per emit, and numbers kept unboxed in `values`. */
  private readonly index = new Map<string, number>();
  /** While folding: the key ids in first-emit order, `values[i]` folded for `ids[i]`. */
  private readonly ids: string[] = [];
  private readonly values: V[] = [];
  /** Partition r's segment, made at its first pair (R may be in the thousands, most of a small task's empty). */
  private readonly out: (SegmentWriter | undefined)[] = [];
  /** Folding with `combine`; false once the first emits showed keys barely repeat (see {@link FOLD_WINDOW}). */
  private folding: boolean;
  /** Emits left before the decision (see {@link FOLD_WINDOW}); negative after it. */
  private windowLeft: number;

  constructor(
    private readonly combine: Combine<K, V> | undefined,
    private readonly partitions: number,
    private readonly window = FOLD_WINDOW,
  ) {
    this.folding = combine !== undefined;
    this.windowLeft = window;
  }

  /** Whether this task still folds with `combine` (false without it, or once it passes pairs through). */
  get folds(): boolean {
    return this.folding;
  }

  add(key: K, value: V): void {
    this.emitted++;
    const id = typeof key === "string" && key.charCodeAt(0) !== 0 ? key : groupId(key);
    if (this.folding) {
      const i = this.index.get(id);
      if (i !== undefined) this.values[i] = this.combine!(key, [this.values[i]!, value]);
      else {
        this.index.set(id, this.ids.length);
        this.ids.push(id);
        this.values.push(value);
      }
      if (--this.windowLeft === 0) this.endWindow();
      return;
    }
    this.segmentOf(id).add(id, value);
  }

  private segmentOf(id: string): SegmentWriter {
    return (this.out[this.partitions === 1 ? 0 : partitionOf(id, this.partitions)] ??= new SegmentWriter());
  }

  private endWindow(): void {
    if (this.index.size > this.window * PASS_THROUGH_RATIO) {
      this.folding = false;
      this.flushFolded();
    }
  }

  /** Writes the folded pairs (in first-emit order) to their segments. */
  private flushFolded(): void {
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      this.segmentOf(id).add(id, this.values[i]);
    }
    this.index.clear();
    this.ids.length = 0;
    this.values.length = 0;
  }

  /** The R segments (index r = partition r) and the pairs in each. */
  encode(): { segments: Uint8Array[]; rows: number[] } {
    this.flushFolded();
    const r = Array.from({ length: this.partitions }, (_, i) => this.out[i]);
    return { segments: r.map((w) => w?.finish() ?? new Uint8Array(0)), rows: r.map((w) => w?.size ?? 0) };
  }
}

/** A reducer's groups: one folded value per key with `combine`, else the values of each key in arrival order. */
export class ReduceGroups<K, V> {
  /** Each key id's index in `values` (folded value with combine, else the list of values). */
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly values: (V | V[])[] = [];
  /** Non-string keys `combine` was given, by id (parsed once). */
  private readonly keys = new Map<string, K>();

  constructor(private readonly combine: Combine<K, V> | undefined) {}

  addSegment(bytes: Uint8Array, source: string): void {
    const { ids, values } = decodePairs(bytes, source);
    const combine = this.combine;
    const index = this.index;
    const folded = this.values;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const at = index.get(id);
      if (at === undefined) {
        index.set(id, this.ids.length);
        this.ids.push(id);
        folded.push(combine ? (values[i] as V) : [values[i] as V]);
      } else if (combine) folded[at] = combine(this.keyFor(id), [folded[at] as V, values[i] as V]);
      else (folded[at] as V[]).push(values[i] as V);
    }
  }

  /** A key from its id; non-string keys are parsed once. */
  private keyFor(id: string): K {
    if (id.charCodeAt(0) !== 0) return id as K;
    let key = this.keys.get(id);
    if (key === undefined) this.keys.set(id, (key = keyOfId(id) as K));
    return key;
  }

  /**
   * Calls `each` for every key with its values, in a fixed order: non-string keys first (by JSON
   * text), then strings (by UTF-16 code units); awaits only what `each` returns as a promise.
   * Empties the groups.
   */
  async drain(each: (key: K, values: V[]) => void | Promise<void>): Promise<void> {
    const order = sortedIndices(this.ids);
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      const v = this.values[i]!;
      const r = each(this.keyFor(this.ids[i]!), this.combine ? [v as V] : (v as V[]));
      if (r instanceof Promise) await r;
    }
    this.index.clear();
    this.ids.length = 0;
    this.values.length = 0;
    this.keys.clear();
  }
}

/** Code units scanned for the alphabet (and packed at most). */
const PACK_SCAN = 16;
/** More strings than this are sorted by comparing them (the index needs most of the low word). */
const MAX_PACKED = 2 ** 24;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The indices of `strings` in the order `strings.slice().sort()` gives (by UTF-16 code units),
 * without sorting strings: each index is packed with its string's first code units into a 64-bit
 * word, the words are sorted natively (BigUint64Array), and only strings whose packed prefixes
 * tie are compared. A code unit is packed as its rank among the code units the strings hold in
 * their first 16 places (0 = the string ended), in as few bits as the ranks need: keys over a
 * small alphabet (IP prefixes: 11 symbols, 4 bits) are ordered by their packed words alone.
 * A reducer's 290k keys: ~40 ms against ~100 ms for sorting the strings.
 */
export function sortedIndices(strings: readonly string[], maxPacked = MAX_PACKED): Uint32Array {
  const n = strings.length;
  const order = new Uint32Array(n);
  if (n < 2 || n > maxPacked || !LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) order[i] = i;
    if (n >= 2) order.sort((a, b) => compareText(strings[a]!, strings[b]!));
    return order;
  }
  // The alphabet of the strings' first PACK_SCAN code units, as ranks 1..A (0 = the string ended).
  const rank = new Uint32Array(65536); // up to 65,536 ranks: not a Uint16Array
  for (let i = 0; i < n; i++) {
    const s = strings[i]!;
    for (let j = 0, m = Math.min(s.length, PACK_SCAN); j < m; j++) rank[s.charCodeAt(j)] = 1;
  }
  let alphabet = 0;
  for (let c = 0; c < 65536; c++) if (rank[c]) rank[c] = ++alphabet;
  const bits = Math.max(1, Math.ceil(Math.log2(alphabet + 1)));
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  // The high word holds code units only; the low word code units, then the index.
  const inHigh = Math.floor(32 / bits);
  const inLow = Math.floor((32 - indexBits) / bits);
  const packed = inHigh + inLow;
  const words = new BigUint64Array(n);
  const halves = new Uint32Array(words.buffer); // [2i] low, [2i + 1] high (little-endian)
  const step = 2 ** bits;
  const highPad = 2 ** (32 - inHigh * bits);
  const lowPad = 2 ** (32 - indexBits - inLow * bits) * 2 ** indexBits;
  for (let i = 0; i < n; i++) {
    const s = strings[i]!;
    const len = s.length;
    let high = 0;
    for (let j = 0; j < inHigh; j++) high = high * step + (j < len && j < PACK_SCAN ? rank[s.charCodeAt(j)]! : 0);
    let low = 0;
    for (let j = inHigh; j < packed; j++) low = low * step + (j < len && j < PACK_SCAN ? rank[s.charCodeAt(j)]! : 0);
    halves[2 * i + 1] = high * highPad;
    halves[2 * i] = low * lowPad + i;
  }
  words.sort();
  const indexMask = 2 ** indexBits - 1;
  for (let j = 0; j < n; j++) order[j] = halves[2 * j]! & indexMask;
  // Strings whose packed code units tie are ordered by comparing them.
  for (let j = 0; j < n; ) {
    let e = j + 1;
    const high = halves[2 * j + 1];
    const low = halves[2 * j]! >>> indexBits;
    while (e < n && halves[2 * e + 1] === high && halves[2 * e]! >>> indexBits === low) e++;
    if (e - j > 1) sortRun(order, j, e, strings);
    j = e;
  }
  return order;
}

/** Insertion sort of `order[from, to)` by the strings (a comparison sort for long runs). */
function sortRun(order: Uint32Array, from: number, to: number, strings: readonly string[]): void {
  if (to - from > 16) {
    order.subarray(from, to).sort((a, b) => compareText(strings[a]!, strings[b]!));
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const x = order[i]!;
    const s = strings[x]!;
    let j = i - 1;
    while (j >= from && strings[order[j]!]! > s) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = x;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The partition of a key id: FNV-1a (32 bits) of its UTF-16 code units, mod R. */
export function partitionOf(id: string, partitions: number): number {
  return hashText(id) % partitions;
}

/** FNV-1a (32 bits) of a key's id: the same partition in every worker and every attempt. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
