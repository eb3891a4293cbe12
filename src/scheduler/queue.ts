/** Small data structures for the scheduler: a FIFO deque and a one-consumer async queue. */

/** A FIFO with O(1) push, pushFront and shift. */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #front: T[] = [];

  get length(): number {
    return this.#front.length + this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item before everything else (retries and speculative duplicates jump the queue). */
  pushFront(item: T): void {
    this.#front.push(item);
  }

  shift(): T | undefined {
    if (this.#front.length) return this.#front.pop();
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#front = [];
  }
}

/** An async iterable fed by `push`, ended by `end()` or `fail(error)`; one consumer. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #buffer = new Deque<T>();
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #iterating = false;

  push(item: T): void {
    if (this.#ended) return;
    this.#buffer.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = error;
    this.#ended = true;
    this.#wake?.();
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new Error("[smelter] stage results can be iterated only once: keep the one iterator, or collect them");
    this.#iterating = true;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.#buffer.length) return { value: this.#buffer.shift() as T, done: false };
          if (this.#error !== undefined) throw this.#error;
          if (this.#ended) return { value: undefined, done: true };
          await new Promise<void>((r) => (this.#wake = r));
          this.#wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<T>> => ({ value: undefined, done: true }),
    };
  }
}
