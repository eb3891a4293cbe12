/**
 * The runtime context: time, timers, randomness and ids, as one object handed down from the
 * Manager to backends, stores, hedged reads, manifest polling, heartbeats and stats sampling.
 * The same code then runs on the wall clock, on a test's {@link VirtualClock} and in a
 * simulator's virtual time, and a seeded run replays exactly (ids included).
 *
 * No other module reads `Date.now`, calls `setTimeout`/`setInterval`, `Math.random` or
 * `crypto.randomUUID` directly: test/task-runtime/runtime-context.test.ts greps src/ for them.
 */
import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "./clock.js";

export type { Clock, TimerHandle, TimerOptions } from "./clock.js";
export { systemClock, VirtualClock, sleepOn, repeat } from "./clock.js";

/** Ids drawn from the context's random source: reproducible under a seed. */
export interface IdSource {
  /** `n` lowercase hex digits. */
  hex(n: number): string;
  /** A random (version 4 shaped) UUID. */
  uuid(): string;
}

export interface RuntimeContext {
  readonly clock: Clock;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly ids: IdSource;
  /** The seed the random source started from (recorded so a run can be replayed). */
  readonly seed: number;
}

export interface RuntimeContextOptions {
  /** @default the system clock */
  clock?: Clock;
  /** Seed of the random source (and so of ids). @default a random seed */
  seed?: number;
  /** Replaces the random source (ids are drawn from it too). @default mulberry32(seed) */
  random?: () => number;
}

/** Creates a context; with a seed (and a virtual clock) a run is reproducible. */
export function createRuntimeContext(options: RuntimeContextOptions = {}): RuntimeContext {
  const seed = (options.seed ?? randomBytes(4).readUInt32LE(0)) >>> 0;
  const random = options.random ?? mulberry32(seed);
  return { clock: options.clock ?? systemClock, random, seed, ids: idSource(random) };
}

let system: RuntimeContext | undefined;

/**
 * The process's default context (system clock, randomly seeded), for code called without one:
 * a program's entry point, a one-shot task, a store opened outside any job.
 */
export function systemContext(): RuntimeContext {
  return (system ??= createRuntimeContext());
}

function idSource(random: () => number): IdSource {
  const hex = (n: number): string => {
    let s = "";
    while (s.length < n) s += Math.floor(random() * 0x100000000).toString(16).padStart(8, "0");
    return s.slice(0, n);
  };
  return {
    hex,
    uuid: () => {
      const h = hex(32);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

/** A small seeded PRNG (mulberry32): 32-bit state, good enough for jitter, ids, simulation and test data; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}
