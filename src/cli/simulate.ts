/**
 * `smelter simulate query2`: predicted time and cost of Query 2 on a platform, by running the
 * real scheduler on virtual time against the simulator's models (src/simulate/, docs/simulation.md).
 */
import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../job/errors.js";
import { parseFlags } from "./common.js";
import { collect } from "./sql-flags.js";
import { parseDataset } from "../simulate/dataset.js";
import { chartHtml, chartSvg } from "../simulate/plot.js";
import { sweep, type SummaryRow } from "../simulate/sweep.js";

const intText = (what: string, min: number, max: number) =>
  z.string().regex(/^\d+$/, `${what} must be a whole number`).transform(Number).pipe(z.number().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const fraction = z.string().regex(/^\d+(\.\d+)?$/, "must be a number like 0.05").transform(Number).pipe(z.number().min(0).max(1));
const positive = z.string().regex(/^\d+(\.\d+)?$/, "must be a positive number").transform(Number).pipe(z.number().positive());

/** A flag parsed by a function that throws ConfigError: its message becomes the flag's issue. */
const parsedBy = <T>(parse: (s: string) => T) => (s: string, ctx: z.RefinementCtx): T => {
  try {
    return parse(s);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^\[smelter\] /, "") });
    return z.NEVER;
  }
};

/** Flags of every simulation: platform, workers, seeds, policies, faults, output. */
const runFlagsShape = {
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
  stragglers: fraction.optional(),
  stragglerFactor: positive.prefault("20"),
  stalledReads: fraction.optional(),
  stallMs: positive.prefault("10000"),
  failureRate: fraction.optional(),
  preemptionsPerHour: positive.optional(),
  prefixGetRate: positive.optional(),
  plot: z.string().regex(/\.(svg|html)$/i, "--plot must name a .svg or .html file").optional(),
  json: z.boolean().default(false),
};

export const simulateFlagsSchema = z.strictObject({
  dataset: z.string({ error: "--dataset is required (rows like 775M or bytes like 126.8GB)" }).transform(parsedBy(parseDataset)),
  objects: intText("--objects", 1, 1_000_000).optional(),
  groups: intText("--groups", 1, 1e10).optional(),
  ...runFlagsShape,
});

export const simulateSqlFlagsSchema = z.strictObject({
  query: z.string().min(1, "the query is empty"),
  table: z.array(z.string()).min(1, "give at least one --table NAME=SHAPE (e.g. uservisits=uservisits:5nodes)"),
  schema: z.array(z.string()).default([]),
  join: z.enum(["auto", "broadcast", "partitioned"], { error: "--join must be auto, broadcast or partitioned" }).default("auto"),
  broadcastBytes: intText("--broadcast-bytes", 0, 2 ** 40).optional(),
  ...runFlagsShape,
});

type RunFlags = z.output<z.ZodObject<typeof runFlagsShape>>;

/** What a run's flags say about the platform, policies and faults. */
function runOptions(f: RunFlags) {
  return {
    platform: f.backend,
    memoryMb: f.memory,
    ...(f.stragglers !== undefined ? { stragglers: { rate: f.stragglers, factor: f.stragglerFactor } } : {}),
    ...(f.stalledReads !== undefined ? { stalledReads: { rate: f.stalledReads, ms: f.stallMs } } : {}),
    ...(f.failureRate !== undefined ? { failureRate: f.failureRate } : {}),
    ...(f.preemptionsPerHour !== undefined ? { preemptionsPerHour: f.preemptionsPerHour } : {}),
    ...(f.prefixGetRate !== undefined ? { prefixGetRate: f.prefixGetRate } : {}),
  };
}

/** Options shared by both commands. */
function addRunOptions(cmd: Command): Command {
  return cmd
    .option("--backend <name>", "lambda | fargate | kubernetes | processes", "lambda")
    .option("--workers <n>", "workers (concurrent attempts)", "1000")
    .option("--sweep <spec>", "several worker counts: workers=100,300,1000")
    .option("--seeds <k>", "seeds per point (median and p95 over them)", "5")
    .option("--memory <mb>", "memory of a worker, MB (Lambda: CPU and bandwidth scale with it)", "2048")
    .option("--partitions <r>", "R, partitions of every shuffle (default: the planner's rule)")
    .option("--task-bytes <n>", "input bytes per leaf task (default: the planner's rule)")
    .option("--stragglers <fraction>", "share of attempts that straggle (e.g. 0.05)")
    .option("--straggler-factor <x>", "how much slower a straggler is", "20")
    .option("--stalled-reads <fraction>", "share of GETs that stall (e.g. 0.01)")
    .option("--stall-ms <ms>", "how long a stalled GET takes", "10000")
    .option("--failure-rate <fraction>", "attempts failing for platform reasons (default: the platform model's)")
    .option("--preemptions-per-hour <n>", "Spot preemptions per worker-hour (Fargate Spot)")
    .option("--prefix-get-rate <n>", "S3 GET requests per second per prefix before 503 SlowDown (default 5500)")
    .option("--plot <file>", "write time and cost against workers to FILE.svg or FILE.html")
    .option("--json", "print the rows as JSON");
}

/** Prints the rows (and failures), and writes the chart. */
async function report(f: RunFlags, rows: SummaryRow[], title: string): Promise<void> {
  const table = formatTable(rows);
  if (f.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(`${title} (predicted by simulation, not measured)\n${table}\n`);
  for (const r of rows) if (r.failure) process.stderr.write(`[smelter] ${r.workers} workers, ${r.variant}: ${r.seeds - r.finished} of ${r.seeds} simulated job(s) failed: ${r.failure.replace(/^\[smelter\] /, "").split("\n")[0]}\n`);
  if (f.plot) {
    await writeFile(f.plot, f.plot.toLowerCase().endsWith(".html") ? chartHtml(rows, title, table) : chartSvg(rows, title));
    process.stderr.write(`[smelter] wrote ${f.plot}\n`);
  }
}

export function register(program: Command): void {
  const sim = program.command("simulate").description("predict a job's time and cost on a platform by simulation (the real planner and scheduler on virtual time; docs/simulation.md)");
  addRunOptions(
    sim
      .command("query2")
      .description("simulate the Big Data Benchmark's Query 2A as smelter query2 plans it (scan + partial aggregate, then reducers or the coordinator)")
      .option("--dataset <rows|bytes>", "uservisits size: rows (775M, 10k), bytes (126.8GB, 500MiB), or 5nodes / 1node")
      .option("--objects <n>", "input objects (default: one per 256 MiB)")
      .option("--groups <n>", "distinct groups of 2A in the whole input, at most (default: the task model's, measured on datagen, up to 16.7M)"),
  ).action(async (raw: Record<string, unknown>) => {
    const f = parseFlags(simulateFlagsSchema, raw);
    const { simulateQuery2 } = await import("../simulate/query2.js");
    const base = {
      ...runOptions(f),
      inputBytes: f.dataset.bytes,
      ...(f.partitions !== undefined ? { partitions: f.partitions } : {}),
      ...(f.taskBytes !== undefined ? { targetTaskBytes: f.taskBytes } : {}),
      ...(f.objects !== undefined ? { objects: f.objects } : {}),
      ...(f.groups !== undefined ? { groups: f.groups } : {}),
    };
    const rows = await sweep((o) => simulateQuery2({ ...base, ...o }), f.sweep ?? [f.workers], f.seeds);
    await report(f, rows, `Query 2A, ${(f.dataset.bytes / 1e9).toFixed(1)} GB (${Math.round(f.dataset.rows / 1e6)}M rows) on ${f.backend}, ${f.memory} MB workers, ${f.seeds} seed(s)`);
  });

  addRunOptions(
    sim
      .command("sql")
      .description("simulate a SQL query as smelter sql plans it, over tables of a given shape (no data)")
      .argument("<query>", "the SELECT statement")
      .option("--table <name=shape>", "a table's shape: uservisits[:5nodes|1node|SIZE] or rankings[...], and/or rows=, bytes=, width=, groups=, select=, objects= (comma-separated); repeat per table", collect)
      .option("--schema <name=columns>", "columns of a table that is no preset: 'col TYPE, ...' or bdb:uservisits / bdb:rankings", collect)
      .option("--join <strategy>", "auto, broadcast or partitioned", "auto")
      .option("--broadcast-bytes <n>", "broadcast a join side up to this many bytes (default 64 MiB)"),
  ).action(async (query: string, raw: Record<string, unknown>) => {
    const f = parseFlags(simulateSqlFlagsSchema, { ...raw, query, table: raw.table ?? [] });
    const [{ parseSchema }, { parseTableShape }, { prepareSimulation, simulatePrepared }, { platformModels }] = await Promise.all([import("../sql/tables.js"), import("../simulate/shapes.js"), import("../simulate/sql.js"), import("../simulate/models.js")]);
    const schemas = new Map(f.schema.map((s) => [s.slice(0, s.indexOf("=")).toLowerCase(), parseSchema(s.slice(s.indexOf("=") + 1))]));
    const tables = f.table.map((t) => parseTableShape(t, schemas.get(t.slice(0, t.indexOf("=")).toLowerCase())));
    for (const name of schemas.keys()) if (!tables.some((t) => t.name.toLowerCase() === name)) throw new ConfigError(`[smelter] bad flags: --schema ${name}=... names no --table (tables: ${tables.map((t) => t.name).join(", ")})`);
    // One plan per worker count (the planner sizes tasks and R for the workers), shared by seeds and variants.
    const plans = new Map<number, ReturnType<typeof prepareSimulation>>();
    const planFor = (workers: number) => {
      const w = Math.min(workers, platformModels[f.backend].concurrencyLimit);
      if (!plans.has(w)) plans.set(w, prepareSimulation({ query: f.query, tables, workers: w, join: f.join, ...(f.partitions !== undefined ? { partitions: f.partitions } : {}), ...(f.taskBytes !== undefined ? { taskBytes: f.taskBytes } : {}), ...(f.broadcastBytes !== undefined ? { broadcastBytes: f.broadcastBytes } : {}) }));
      return plans.get(w)!;
    };
    const rows = await sweep(async (o) => simulatePrepared(await planFor(o.workers), tables, { ...runOptions(f), ...o }), f.sweep ?? [f.workers], f.seeds);
    const first = await planFor((f.sweep ?? [f.workers])[0]!);
    const sizes = tables.map((t) => `${t.name} ${(t.rows * t.bytesPerRow / 1e9).toFixed(1)} GB`).join(", ");
    await report(f, rows, `${first.plan.strategy}; ${sizes}; on ${f.backend}, ${f.memory} MB workers, ${f.seeds} seed(s); tasks per stage ${first.stages.map((s) => s.tasks.length).join(" / ")}`);
  });
}

/** The rows as an aligned text table. */
export function formatTable(rows: SummaryRow[]): string {
  const head = ["workers", "policies", "time p50", "time p95", "cost", "stage 1", "R", "read GB", "GETs", "PUTs", "503s", "hedges", "dups", "finished", "sim s"];
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
