/**
 * The concurrency of a remote backend that the platform throttles (Lambda 429s, ECS
 * ThrottlingException): at most `max` attempts at once, lowered to what was in flight when a
 * throttle comes, raised by one each time an attempt gets through, never below 1. Each change is
 * reported (the backend calls `host.capacityChanged()` so the manager follows `maxConcurrency`).
 */
import pLimit, { type LimitFunction } from "p-limit";

export class AdaptiveLimit {
  readonly #max: number;
  readonly #limit: LimitFunction;
  readonly #onChange: () => void;
  #allowed: number;

  constructor(max: number, onChange: () => void) {
    this.#max = max;
    this.#allowed = max;
    this.#limit = pLimit(max);
    this.#onChange = onChange;
  }

  /** Attempts allowed at once now. */
  get allowed(): number {
    return this.#allowed;
  }

  /** Runs `fn` when a slot is free. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#limit(fn);
  }

  /** A throttle: allow one fewer than are running now (at least 1). */
  throttled(): void {
    this.#set(this.#limit.activeCount - 1);
  }

  /** An attempt got through: allow one more, up to the maximum. */
  succeeded(): void {
    if (this.#allowed < this.#max) this.#set(this.#allowed + 1);
  }

  #set(n: number): void {
    const next = Math.max(1, Math.min(this.#max, n));
    if (next === this.#allowed) return;
    this.#allowed = next;
    this.#limit.concurrency = next;
    this.#onChange();
  }
}
