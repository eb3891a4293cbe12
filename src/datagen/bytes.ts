/**
 * Byte pools for the generators: many short ASCII strings stored back to back in one buffer,
 * copied into output chunks by index with a plain loop (no per-field strings or allocations).
 */

export class BytePool {
  private bytes = new Uint8Array(1 << 16);
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  private used = 0;
  /** How many strings the pool holds. */
  size = 0;
  /** The longest string's length. */
  maxLength = 0;

  /** Adds an ASCII string; returns its index. */
  add(s: string): number {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.used + i] = s.charCodeAt(i) & 0xff;
    return this.commit(s.length);
  }

  /** Adds the bytes (at most `maxLength`) that `fill` writes into `target` at `offset` and counts; returns the new index. */
  addWith(maxLength: number, fill: (target: Uint8Array, offset: number) => number): number {
    this.reserve(maxLength);
    return this.commit(fill(this.bytes, this.used));
  }

  /** Copies string `index` into `out` at `pos`; returns the position after it. */
  copy(index: number, out: Uint8Array, pos: number): number {
    const bytes = this.bytes;
    let from = this.starts[index] ?? 0;
    const end = from + (this.lengths[index] ?? 0);
    while (from < end) out[pos++] = bytes[from++] ?? 0;
    return pos;
  }

  /** The string at `index` (for tests and diagnostics). */
  get(index: number): string {
    const from = this.starts[index] ?? 0;
    return Buffer.from(this.bytes.subarray(from, from + (this.lengths[index] ?? 0))).toString("latin1");
  }

  private reserve(length: number): void {
    if (this.used + length > this.bytes.length) {
      const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + length));
      next.set(this.bytes.subarray(0, this.used));
      this.bytes = next;
    }
    if (this.size === this.starts.length) {
      const starts = new Int32Array(this.size * 2);
      starts.set(this.starts);
      this.starts = starts;
      const lengths = new Int32Array(this.size * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
  }

  private commit(length: number): number {
    this.starts[this.size] = this.used;
    this.lengths[this.size] = length;
    this.used += length;
    if (length > this.maxLength) this.maxLength = length;
    return this.size++;
  }
}
