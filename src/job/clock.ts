import { performance } from "node:perf_hooks";

/**
 * Time as Smelter sees it: the system clock in production; a {@link VirtualClock} in tests and
 * simulations, so that timing policies are tested without waiting. This module and
 * runtime-context.ts are the only places that touch the global timers and `Date.now` (a test
 * greps src/ for it): everything else gets a clock from its runtime context.
 */

export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

export interface TimerOptions {
  /** On the system clock, the timer does not keep the process alive (`timer.unref()`). @default false */
  unref?: boolean;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolves after `ms`; rejects with the signal's reason if it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A `sleep` built on any clock's timers. */
export function sleepOn(clock: Pick<Clock, "setTimeout" | "clearTimeout">, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Calls `fn` every `ms` on `clock` (setInterval on any clock); returns the function that stops it. */
export function repeat(clock: Pick<Clock, "setTimeout" | "clearTimeout">, ms: number, fn: () => void, options?: TimerOptions): () => void {
  let stopped = false;
  let timer: TimerHandle | undefined;
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      if (stopped) return;
      fn();
      if (!stopped) arm();
    }, ms, options);
  };
  arm();
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("the wait was aborted", "AbortError");
}

/** Epoch ms with sub-millisecond precision, monotonic within the process (`performance`). */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms, options) => {
    const t = setTimeout(fn, ms);
    if (options?.unref) t.unref();
    return t;
  },
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  },
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

/** Lets the event loop turn once (promise callbacks and nextTicks queued so far all run). */
function turn(): Promise<void> {
  return new Promise<void>((r) => setImmediate(r));
}

interface VirtualTimer {
  readonly __timer: true;
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock whose time moves only when the program is idle: every task and timer is waiting
 * (as Effect's TestClock). `run(work)` drives it: it lets the event loop settle until nothing
 * touches the clock any more, then jumps to the next timer, and so on until `work` settles.
 * Code doing real work outside the clock (a real thread, real I/O) may `hold()` it so that time
 * does not jump while it runs. `advance(ms)` and `runUntil` move it by hand.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: VirtualTimer[] = [];
  /** Bumped by every timer set or cleared and every hold: what "idle" watches. */
  #activity = 0;
  #holds = 0;
  #fired = 0;
  #released: (() => void)[] = [];

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.#activity++;
    const t: VirtualTimer = { __timer: true, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && "__timer" in handle && !(handle as VirtualTimer).cancelled) {
      this.#activity++;
      (handle as VirtualTimer).cancelled = true;
    }
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers not yet run nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Keeps time from jumping while real work runs; call the returned function when it is done. */
  hold(): () => void {
    this.#holds++;
    this.#activity++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#activity++;
      if (this.#holds === 0) for (const r of this.#released.splice(0)) r();
    };
  }

  /**
   * Waits until the program is idle: the event loop turned with nothing touching the clock, and
   * no hold is active. (Replaces a fixed number of turns: a chain of any length settles.)
   */
  async settle(): Promise<void> {
    for (let quietTurns = 0, guard = 0; quietTurns < 2 && guard < 10_000; guard++) {
      if (this.#holds > 0) await new Promise<void>((r) => this.#released.push(r));
      const before = this.#activity;
      await turn();
      quietTurns = this.#activity === before && this.#holds === 0 ? quietTurns + 1 : 0;
    }
  }

  /** Moves time forward by `ms`, running due timers in order, settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#fire(next);
      await this.settle();
    }
    this.#now = Math.max(this.#now, target);
    this.#compact();
    await this.settle();
  }

  /**
   * Runs `work` to its end on virtual time: whenever the program is idle, time jumps to the next
   * timer. Rejects with `work`'s error, or when everything waits and no timer is left (a
   * deadlock), or after `limit` ms of virtual time.
   */
  async run<T>(work: Promise<T> | (() => Promise<T>), { limit = 24 * 3_600_000 } = {}): Promise<T> {
    const p = typeof work === "function" ? work() : work;
    let done = false;
    p.then(() => (done = true), () => (done = true));
    const end = this.#now + limit;
    for (;;) {
      await this.settle();
      if (done) return p;
      const next = this.#nextDue(Infinity);
      if (!next) throw new Error("[smelter] VirtualClock.run: everything is waiting and no timer is set (a deadlock): the work can never finish");
      if (next.at > end) throw new Error(`[smelter] VirtualClock.run: not finished within ${limit} ms of virtual time`);
      this.#fire(next);
      this.#compact();
    }
  }

  /** Jumps from timer to timer until `predicate()` holds; throws after `limit` ms of virtual time. */
  async runUntil(predicate: () => boolean, { limit = 3_600_000 }: { step?: number; limit?: number } = {}): Promise<void> {
    const end = this.#now + limit;
    await this.settle();
    while (!predicate()) {
      const next = this.#nextDue(end);
      if (!next) {
        if (this.#now >= end || this.#nextDue(Infinity) === undefined) throw new Error(`VirtualClock.runUntil: condition not met within ${limit} ms of virtual time`);
        this.#now = end;
        continue;
      }
      this.#fire(next);
      this.#compact();
      await this.settle();
    }
  }

  #fire(t: VirtualTimer): void {
    this.#now = Math.max(this.#now, t.at);
    t.cancelled = true;
    this.#activity++;
    t.fn();
  }

  #compact(): void {
    if (++this.#fired % 256 === 0) this.#timers = this.#timers.filter((t) => !t.cancelled);
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
