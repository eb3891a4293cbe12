/**
 * Workers of `smelter demo` (and `npm start` until the Query 2 demo lands): a Monte Carlo
 * estimate of pi. Each `demo.sample` task throws darts from its own seed; a few tasks are
 * made stragglers (10x slower on their first attempt) and one fails once, so that the demo
 * shows speculation and retries at work. `demo.combine` adds up batches of partial counts.
 */
import { z } from "zod";
import { repeat, type Clock } from "../job/clock.js";
import { defineWorker } from "../task-runtime/registry.js";

export const sampleInput = z.strictObject({
  seed: z.number().int(),
  samples: z.number().int().min(1),
  /** Sleep this many ms on the first attempt (a straggler). */
  straggleMs: z.number().min(0).default(0),
  /** Throw on the first attempt (a transient failure). */
  failFirst: z.boolean().default(false),
});
export type SampleInput = z.input<typeof sampleInput>;
export interface Partial {
  inside: number;
  samples: number;
}

export const sample = defineWorker("demo.sample", async (input: z.output<typeof sampleInput>, ctx): Promise<Partial> => {
  if (ctx.attempt === 1 && input.failFirst) throw new Error(`transient failure in ${ctx.attemptId} (the demo fails this task once on purpose)`);
  if (ctx.attempt === 1 && input.straggleMs > 0) await sleep(input.straggleMs, ctx.signal, () => ctx.heartbeat(), ctx.clock);
  let state = input.seed >>> 0 || 1;
  const next = () => {
    // xorshift32: fast, deterministic per seed
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  let inside = 0;
  for (let i = 0; i < input.samples; i++) {
    const x = next();
    const y = next();
    if (x * x + y * y <= 1) inside++;
    if ((i & 0xfffff) === 0) {
      ctx.heartbeat({ done: i });
      if (ctx.signal.aborted) throw ctx.signal.reason;
    }
  }
  ctx.count("samples", input.samples);
  return { inside, samples: input.samples };
}, { input: sampleInput });

const partialSchema = z.strictObject({ inside: z.number().int().min(0), samples: z.number().int().min(0) });
export const combineInput = z.strictObject({ partials: z.array(partialSchema) });

export const combine = defineWorker("demo.combine", (input: z.output<typeof combineInput>): Partial => {
  let inside = 0;
  let samples = 0;
  for (const p of input.partials) {
    inside += p.inside;
    samples += p.samples;
  }
  return { inside, samples };
}, { input: combineInput });

/** Waits `ms` on the task's clock, heartbeating every 200 ms; rejects when the attempt is cancelled. */
async function sleep(ms: number, signal: AbortSignal, beat: () => void, clock: Clock): Promise<void> {
  const stopBeats = repeat(clock, 200, beat);
  try {
    await clock.sleep(ms, signal);
  } finally {
    stopBeats();
  }
}
