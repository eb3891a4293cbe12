/**
 * Time as the scheduler sees it. The system clock in production; a {@link VirtualClock} in tests
 * and simulations, so that timing policies are tested without waiting.
 */

export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  },
};

interface VirtualTimer {
  readonly __timer: true;
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance(ms)` runs every timer due in order, letting
 * promise callbacks settle between timers, so async code driven by the clock behaves as it
 * would in real time.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: VirtualTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: VirtualTimer = { __timer: true, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && "__timer" in handle) (handle as VirtualTimer).cancelled = true;
  }

  /** Timers not yet run nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Lets pending promise callbacks run (and the I/O-free work they start). */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves time forward by `ms`, running due timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.fn();
      await this.settle();
    }
    this.#now = target;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    await this.settle();
  }

  /** Advances in steps of `step` ms until `predicate()` holds; throws after `limit` ms of virtual time. */
  async runUntil(predicate: () => boolean, { step = 10, limit = 3_600_000 } = {}): Promise<void> {
    const end = this.#now + limit;
    await this.settle();
    while (!predicate()) {
      if (this.#now >= end) throw new Error(`VirtualClock.runUntil: condition not met within ${limit} ms of virtual time`);
      await this.advance(step);
    }
  }

  #nextDue(target: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
