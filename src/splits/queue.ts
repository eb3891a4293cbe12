/**
 * A bounded async queue between one producer and one consumer (Trino's split queue): `push` waits
 * while the queue is full, so a producer that nobody pulls from stops; `take` waits while it is
 * empty. `end()` and `fail(err)` finish it; the consumer sees the error after the queued items.
 */

export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private ended = false;
  private error: { err: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  /** @param capacity items held before `push` waits @default 1000 */
  constructor(readonly capacity = 1000) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** True once the producer called end() or fail(). */
  get finished(): boolean {
    return this.ended;
  }

  /** Adds an item; resolves once there is room (immediately when not full). */
  async push(item: T): Promise<void> {
    while (this.length >= this.capacity && !this.ended) await new Promise<void>((r) => (this.wakeProducer = r));
    if (this.ended) return;
    this.items.push(item);
    this.wake("consumer");
  }

  end(): void {
    this.ended = true;
    this.wake("consumer");
    this.wake("producer");
  }

  fail(err: unknown): void {
    if (!this.error) this.error = { err };
    this.end();
  }

  /** Up to `max` items (at least one), or undefined when finished and drained. Throws the producer's error. */
  async take(max = 1): Promise<T[] | undefined> {
    while (this.length === 0) {
      if (this.ended) {
        if (this.error) throw this.error.err;
        return undefined;
      }
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
    const n = Math.min(max, this.length);
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.wake("producer");
    return out;
  }

  private wake(who: "consumer" | "producer"): void {
    const w = who === "consumer" ? this.wakeConsumer : this.wakeProducer;
    if (who === "consumer") this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    w?.();
  }
}
