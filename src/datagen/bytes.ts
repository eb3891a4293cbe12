/**
 * Byte pools for the generators: many short ASCII strings stored back to back, each at a 4-byte
 * aligned word offset (its "ref") as `[length][bytes, packed 4 to a word, little-endian]`, and
 * copied into output a word at a time through a DataView (no per-field strings or allocations).
 *
 * A copy writes whole words, so it may write up to 3 bytes past the string's end: the caller
 * overwrites them with what follows and keeps {@link COPY_SLACK} spare bytes at the end of a buffer.
 */

/** Spare bytes a buffer needs after its last string for the word-at-a-time copies. */
export const COPY_SLACK = 8;

export class BytePool {
  /** The pool's words (public for the hot loops; read only). */
  words = new Int32Array(1 << 14);
  private bytes = new Uint8Array(this.words.buffer);
  private text = Buffer.from(this.words.buffer);
  private view = new DataView(this.words.buffer);
  private used = 0;
  /** How many strings the pool holds. */
  size = 0;
  /** The longest string's length. */
  maxLength = 0;

  /** @param capacityBytes bytes to reserve up front (the pool grows as needed) */
  constructor(capacityBytes = 0) {
    if (capacityBytes > 0) this.grow(capacityBytes);
  }

  /** Adds an ASCII string; returns its ref. */
  add(s: string): number {
    const ref = this.used;
    this.reserve(ref, s.length);
    return this.commit(ref, this.text.write(s, (ref + 1) * 4, "latin1"));
  }

  /**
   * Adds the bytes (at most `maxLength`; `fill` may write up to 8 more, which are ignored) that
   * `fill` writes into `bytes` (or `view`) at `offset` and counts; returns the new string's ref.
   */
  addWith(maxLength: number, fill: (bytes: Uint8Array, offset: number, view: DataView) => number): number {
    const ref = this.used;
    this.reserve(ref, maxLength);
    return this.commit(ref, fill(this.bytes, (ref + 1) * 4, this.view));
  }

  private reserve(ref: number, maxLength: number): void {
    if ((ref + 2) * 4 + maxLength + COPY_SLACK > this.bytes.length) this.grow((ref + 2) * 4 + maxLength + COPY_SLACK);
  }

  private commit(ref: number, length: number): number {
    this.words[ref] = length;
    this.used = ref + 1 + ((length + 3) >>> 2);
    if (length > this.maxLength) this.maxLength = length;
    this.size++;
    return ref;
  }

  /** Copies the string at `ref` into `out` (a view of the output buffer) at `pos`; returns the position after it. */
  copy(ref: number, out: DataView, pos: number): number {
    const words = this.words;
    const end = pos + words[ref]!;
    let w = ref + 1;
    for (let p = pos; p < end; p += 4) out.setInt32(p, words[w++]!, true);
    return end;
  }

  /** The length of the string at `ref`. */
  length(ref: number): number {
    return this.words[ref]!;
  }

  /** The string at `ref` (for tests and diagnostics). */
  get(ref: number): string {
    const from = (ref + 1) * 4;
    return Buffer.from(this.bytes.subarray(from, from + this.words[ref]!)).toString("latin1");
  }

  private grow(minBytes: number): void {
    let n = this.bytes.length;
    while (n < minBytes) n *= 2;
    if (n === this.bytes.length) return;
    const words = new Int32Array(n >>> 2);
    words.set(this.words.subarray(0, this.used));
    this.words = words;
    this.bytes = new Uint8Array(words.buffer);
    this.text = Buffer.from(words.buffer);
    this.view = new DataView(words.buffer);
  }
}
