/**
 * `smelter pi`: estimates pi with a Monte Carlo job on local workers, showing progress, a retried
 * task and speculative duplicates of stragglers: the scheduler at work, no data needed.
 */
import type { Command } from "commander";
import { z } from "zod";
import { Manager } from "../scheduler/manager.js";
import { JobStats, formatStageTotals } from "../report/job-stats.js";
import type { Partial, SampleInput } from "../builtin-workers/demo.js";
import { addRunFlags, backendFromFlags, BUILTIN_ENTRY, parseFlags, runFlagsSchema, watchJob } from "./common.js";

const piFlagsSchema = runFlagsSchema.extend({
  tasks: z.coerce.number().int().min(1).max(100_000).default(48),
  samples: z.coerce.number().int().min(1).max(1e9).default(4_000_000),
  stragglers: z.coerce.number().min(0).max(100).default(5),
  batch: z.coerce.number().int().min(1).default(8),
});

export function register(program: Command): void {
  const cmd = program
    .command("pi")
    .description("estimate pi with a Monte Carlo job on local workers (retries and speculation shown)")
    .option("--tasks <n>", "sampling tasks", "48")
    .option("--samples <n>", "darts per task", "4000000")
    .option("--stragglers <percent>", "percent of tasks made 10x slower on their first attempt", "5")
    .option("--batch <n>", "partial results combined per reduce task", "8");
  addRunFlags(cmd).action(async (raw: unknown) => {
    const flags = parseFlags(piFlagsSchema, raw);
    const result = await runPi(flags);
    process.stdout.write(`${result}\n`);
  });
}

export async function runPi(flags: z.output<typeof piFlagsSchema>): Promise<string> {
  const manager = new Manager({ backend: await backendFromFlags(flags, BUILTIN_ENTRY) });
  try {
    const job = manager.job({ name: "demo-pi", policy: { retry: { initialInterval: 200 } } });
    const stats = new JobStats(job);
    const sample = job.stage<SampleInput, Partial>({ worker: "demo.sample", name: "sample", policy: { speculation: { afterPercent: 90, slowerThanMedian: 4, minFinished: 4 } } });
    const combine = job.stage<{ partials: Partial[] }, Partial>({ worker: "demo.combine", name: "combine" });
    const stragglerEvery = flags.stragglers > 0 ? Math.max(1, Math.round(100 / flags.stragglers)) : 0;
    const clock = job.context.clock;
    const started = clock.now();
    void sample.pushAll(
      Array.from({ length: flags.tasks }, (_, i) => ({
        seed: 0x9e3779b9 ^ (i * 2654435761),
        samples: flags.samples,
        straggleMs: stragglerEvery && i % stragglerEvery === stragglerEvery - 1 ? 3000 : 0,
        failFirst: i === 1,
      })),
    );
    // Pipelining: combine batches of partials while sampling still runs.
    void combine.pushAll(batches(sample.results(), flags.batch));
    let inside = 0;
    let total = 0;
    const consume = async () => {
      for await (const r of combine.results()) {
        inside += r.output.inside;
        total += r.output.samples;
      }
    };
    await Promise.all([watchJob(job, flags), consume()]);
    stats.stop();
    const pi = (4 * inside) / total;
    return [
      `pi ~ ${pi.toFixed(6)} (error ${Math.abs(pi - Math.PI).toExponential(2)}) from ${total.toLocaleString("en-US")} samples in ${((clock.now() - started) / 1000).toFixed(2)}s on ${flags.backend}`,
      "",
      formatStageTotals(stats.totals()),
    ].join("\n");
  } finally {
    await manager.close();
  }
}

async function* batches<T>(results: AsyncIterable<{ output: T }>, size: number): AsyncGenerator<{ partials: T[] }> {
  let batch: T[] = [];
  for await (const r of results) {
    batch.push(r.output);
    if (batch.length >= size) {
      yield { partials: batch };
      batch = [];
    }
  }
  if (batch.length) yield { partials: batch };
}
