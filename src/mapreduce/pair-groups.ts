/**
 * The pairs of `defineMapReduce` (functions.ts) on both sides of the shuffle, held by key id
 * (pair-segments.ts: a string key is its own id, so string keys cost no JSON).
 *
 * With `combine`, values are folded as they are emitted (map side) or read (reduce side):
 * `value = combine(key, [value, next])`, so a task holds one value per key and never a list.
 * Without it, the map side keeps every pair in emit order and the reduce side a list per key.
 */
import { decodePairs, encodePairs, groupId, keyOfId } from "./pair-segments.js";

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

/** A map task's pairs: folded per key with `combine` (while that shrinks them), else in emit order; written as R segments. */
export class MapPairs<K, V> {
  emitted = 0;
  /** With combine: each key id's index in `values`. An index, not the value: one lookup per emit, and numbers kept unboxed in `values`. */
  private readonly index = new Map<string, number>();
  /** While folding: the key ids in first-emit order, `values[i]` folded for `ids[i]`. Then, and without combine: every pair, in emit order. */
  private readonly ids: string[] = [];
  private readonly values: V[] = [];
  /** Folding with `combine`; false once the first emits showed keys barely repeat (see {@link FOLD_WINDOW}). */
  private folding: boolean;
  /** Emits left before the decision (see {@link FOLD_WINDOW}); negative after it. */
  private windowLeft: number;

  constructor(
    private readonly combine: Combine<K, V> | undefined,
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
    this.ids.push(id);
    this.values.push(value);
  }

  private endWindow(): void {
    if (this.index.size > this.window * PASS_THROUGH_RATIO) {
      this.folding = false;
      this.index.clear();
    }
  }

  /** The R segments (index r = partition r) and the pairs in each. */
  encode(partitions: number): { segments: Uint8Array[]; rows: number[] } {
    const ids: string[][] = Array.from({ length: partitions }, () => []);
    const values: V[][] = Array.from({ length: partitions }, () => []);
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      const r = partitionOf(id, partitions);
      ids[r]!.push(id);
      values[r]!.push(this.values[i]!);
    }
    this.index.clear();
    this.ids.length = 0;
    this.values.length = 0;
    return { segments: ids.map((x, r) => encodePairs(x, values[r]!)), rows: ids.map((x) => x.length) };
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
    const sorted = this.ids.sort();
    for (let i = 0; i < sorted.length; i++) {
      const id = sorted[i]!;
      const v = this.values[this.index.get(id)!]!;
      const r = each(this.keyFor(id), this.combine ? [v as V] : (v as V[]));
      if (r instanceof Promise) await r;
    }
    this.index.clear();
    this.ids.length = 0;
    this.values.length = 0;
    this.keys.clear();
  }
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
