/**
 * `smelter simulate query2`: predicted time and cost of Query 2 on a platform, by running the
 * real scheduler on virtual time against the simulator's models (src/simulate/, docs/simulation.md).
 */
import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { parseFlags } from "./common.js";
import { parseDataset } from "../simulate/dataset.js";
import { chartHtml, chartSvg } from "../simulate/plot.js";
import { sweep, type SummaryRow } from "../simulate/sweep.js";

const intText = (what: string, min: number, max: number) =>
  z.string().regex(/^\d+$/, `${what} must be a whole number`).transform(Number).pipe(z.number().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const fraction = z.string().regex(/^\d+(\.\d+)?$/, "must be a number like 0.05").transform(Number).pipe(z.number().min(0).max(1));
const positive = z.string().regex(/^\d+(\.\d+)?$/, "must be a positive number").transform(Number).pipe(z.number().positive());

export const simulateFlagsSchema = z.strictObject({
  dataset: z.string({ error: "--dataset is required (rows like 775M or bytes like 126.8GB)" }).transform((s, ctx) => {
    try {
      return parseDataset(s);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^\[smelter\] /, "") });
      return z.NEVER;
    }
  }),
  backend: z.enum(["lambda", "fargate", "kubernetes", "processes"], { error: "--backend must be lambda, fargate, kubernetes or processes" }).default("lambda"),
  workers: intText("--workers", 1, 100_000).prefault("1000"),
  sweep: z
    .string()
    .regex(/^workers=\d+(,\d+)*$/, "--sweep must look like workers=100,300,1000")
    .transform((s) => s.slice("workers=".length).split(",").map(Number))
    .refine((xs) => xs.every((x) => x >= 1 && x <= 100_000), "--sweep: worker counts must be 1 to 100000")
    .optional(),
  seeds: intText("--seeds", 1, 1000).prefault("5"),
  memory: intText("--memory", 128, 10_240).prefault("2048"),
  partitions: intText("--partitions", 1, 4096).optional(),
  taskBytes: intText("--task-bytes", 1024, 10 * 2 ** 30).optional(),
  objects: intText("--objects", 1, 1_000_000).optional(),
  stragglers: fraction.optional(),
  stragglerFactor: positive.prefault("20"),
  stalledReads: fraction.optional(),
  stallMs: positive.prefault("10000"),
  failureRate: fraction.optional(),
  preemptionsPerHour: positive.optional(),
  prefixGetRate: positive.optional(),
  groups: intText("--groups", 1, 1e10).optional(),
  plot: z.string().regex(/\.(svg|html)$/i, "--plot must name a .svg or .html file").optional(),
  json: z.boolean().default(false),
});

export function register(program: Command): void {
  const sim = program.command("simulate").description("predict a job's time and cost on a platform by simulation (the real scheduler on virtual time; docs/simulation.md)");
  sim
    .command("query2")
    .description("simulate the Big Data Benchmark's Query 2A: map with partial aggregate -> shuffle -> reduce -> gather")
    .option("--dataset <rows|bytes>", "uservisits size: rows (775M, 10k), bytes (126.8GB, 500MiB), or 5nodes / 1node")
    .option("--backend <name>", "lambda | fargate | kubernetes | processes", "lambda")
    .option("--workers <n>", "workers (concurrent attempts)", "1000")
    .option("--sweep <spec>", "several worker counts: workers=100,300,1000")
    .option("--seeds <k>", "seeds per point (median and p95 over them)", "5")
    .option("--memory <mb>", "memory of a worker, MB (Lambda: CPU and bandwidth scale with it)", "2048")
    .option("--partitions <r>", "reduce tasks (default: the planner's rule)")
    .option("--task-bytes <n>", "input bytes per map task (default: the planner's rule)")
    .option("--objects <n>", "input objects (default: one per 256 MiB)")
    .option("--stragglers <fraction>", "share of attempts that straggle (e.g. 0.05)")
    .option("--straggler-factor <x>", "how much slower a straggler is", "20")
    .option("--stalled-reads <fraction>", "share of GETs that stall (e.g. 0.01)")
    .option("--stall-ms <ms>", "how long a stalled GET takes", "10000")
    .option("--failure-rate <fraction>", "attempts failing for platform reasons (default: the platform model's)")
    .option("--preemptions-per-hour <n>", "Spot preemptions per worker-hour (Fargate Spot)")
    .option("--groups <n>", "distinct groups of 2A in the whole input, at most (default: the task model's, measured on datagen, up to 16.7M)")
    .option("--prefix-get-rate <n>", "S3 GET requests per second per prefix before 503 SlowDown (default 5500)")
    .option("--plot <file>", "write time and cost against workers to FILE.svg or FILE.html")
    .option("--json", "print the rows as JSON")
    .action(async (raw: Record<string, unknown>) => {
      const f = parseFlags(simulateFlagsSchema, raw);
      const workers = f.sweep ?? [f.workers];
      const rows = await sweep(
        {
          platform: f.backend,
          memoryMb: f.memory,
          inputBytes: f.dataset.bytes,
          ...(f.partitions !== undefined ? { partitions: f.partitions } : {}),
          ...(f.taskBytes !== undefined ? { targetTaskBytes: f.taskBytes } : {}),
          ...(f.objects !== undefined ? { objects: f.objects } : {}),
          ...(f.stragglers !== undefined ? { stragglers: { rate: f.stragglers, factor: f.stragglerFactor } } : {}),
          ...(f.stalledReads !== undefined ? { stalledReads: { rate: f.stalledReads, ms: f.stallMs } } : {}),
          ...(f.failureRate !== undefined ? { failureRate: f.failureRate } : {}),
          ...(f.preemptionsPerHour !== undefined ? { preemptionsPerHour: f.preemptionsPerHour } : {}),
          ...(f.prefixGetRate !== undefined ? { prefixGetRate: f.prefixGetRate } : {}),
          ...(f.groups !== undefined ? { groups: f.groups } : {}),
        },
        workers,
        f.seeds,
      );
      const title = `Query 2A, ${(f.dataset.bytes / 1e9).toFixed(1)} GB (${Math.round(f.dataset.rows / 1e6)}M rows) on ${f.backend}, ${f.memory} MB workers, ${f.seeds} seed(s)`;
      const table = formatTable(rows);
      if (f.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${title} (predicted by simulation, not measured)\n${table}\n`);
      for (const r of rows) if (r.failure) process.stderr.write(`[smelter] ${r.workers} workers, ${r.variant}: ${r.seeds - r.finished} of ${r.seeds} simulated job(s) failed: ${r.failure.replace(/^\[smelter\] /, "").split("\n")[0]}\n`);
      if (f.plot) {
        await writeFile(f.plot, f.plot.toLowerCase().endsWith(".html") ? chartHtml(rows, title, table) : chartSvg(rows, title));
        process.stderr.write(`[smelter] wrote ${f.plot}\n`);
      }
    });
}

/** The rows as an aligned text table. */
export function formatTable(rows: SummaryRow[]): string {
  const head = ["workers", "policies", "time p50", "time p95", "cost", "map", "R", "read GB", "GETs", "PUTs", "503s", "hedges", "dups", "finished", "sim s"];
  const sec = (s: number | undefined) => (s === undefined ? "failed" : `${s.toFixed(1)} s`);
  const body = rows.map((r) => [
    String(r.workers),
    r.variant,
    sec(r.medianSeconds),
    sec(r.p95Seconds),
    `$${r.medianCost.toFixed(4)}`,
    String(r.mapTasks),
    String(r.partitions),
    (r.bytesRead / 1e9).toFixed(1),
    String(Math.round(r.gets)),
    String(Math.round(r.puts)),
    String(Math.round(r.slowDowns)),
    String(Math.round(r.hedges)),
    String(Math.round(r.speculated)),
    `${r.finished}/${r.seeds}`,
    (r.simulatedInMs / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
