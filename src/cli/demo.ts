/**
 * `smelter demo` (what `npm start` runs): Query 2A of the Big Data Benchmark end to end on this
 * machine. Starts the embedded S3 server, generates 2M uservisits rows into it the first time
 * (kept under .smelter/demo/ for the next run), runs 2A on local worker processes with live
 * progress, and prints the top 10 prefixes by revenue, the number of groups, per-stage stats,
 * and where the DuckDB file with the result and every attempt is.
 */
import type { Command } from "commander";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { writeDataset } from "../datagen/write.js";
import { formatStageTotals } from "../report/job-stats.js";
import { startS3Server } from "../storage/server.js";
import { openStore } from "../storage/url.js";
import { parseFlags, runFlagsSchema, addRunFlags } from "./common.js";
import { startProgress } from "./datagen.js";
import { printQuery2, query2FlagsSchema, runQuery2Cli } from "./query2.js";

const BUCKET = "smelter-demo";

const demoFlagsSchema = runFlagsSchema.extend({
  rows: z.coerce.number().int().min(1000, "--rows must be at least 1000").max(1e9).default(2_000_000),
  prefixLen: query2FlagsSchema.shape.prefixLen,
  dataDir: z.string().min(1).default(".smelter/demo"),
  partitions: query2FlagsSchema.shape.partitions,
});

export function register(program: Command): void {
  const cmd = program
    .command("demo")
    .description("Query 2A end to end: embedded S3 server, generated data, local workers (what npm start runs)")
    .option("--rows <n>", "uservisits rows to generate the first time", "2000000")
    .option("--prefix-len <x>", "8 (2A), 10 (2B), 12 (2C)", "8")
    .option("--data-dir <dir>", "where the S3 server keeps its data and the DuckDB file goes", ".smelter/demo")
    .option("--partitions <r>", "run a reduce stage of R tasks (default: none while the partials are small: the coordinator merges them)");
  addRunFlags(cmd).action(async (raw: unknown) => {
    const flags = parseFlags(demoFlagsSchema, raw);
    const dataDir = resolve(flags.dataDir);
    await mkdir(dataDir, { recursive: true });
    const server = await startS3Server({ dir: join(dataDir, "s3"), buckets: [BUCKET] });
    try {
      Object.assign(process.env, server.env); // the AWS SDK and every pool worker find the server through these
      const log = (line: string) => flags.quiet || process.stderr.write(`[smelter] ${line}\n`);
      log(`embedded S3 server at ${server.endpoint}, data in ${join(dataDir, "s3")}`);
      const input = `s3://${BUCKET}/uservisits-${flags.rows}/`;
      await ensureData(input, flags.rows, log, flags.quiet);
      const duckdbFile = join(dataDir, `query2-${flags.prefixLen}.duckdb`);
      const { db, result, totals } = await runQuery2Cli({ ...flags, input, format: "table", limit: 10, output: duckdbFile, overwrite: true, threadsPerTask: 1 });
      try {
        process.stdout.write(`\nQuery 2 (SUBSTR(sourceIP, 1, ${flags.prefixLen})) over ${flags.rows.toLocaleString("en-US")} rows (${(result.inputBytes / 1e6).toFixed(0)} MB) in s3://${BUCKET}, ${result.tasks[0]} map tasks, ${result.partitions > 0 ? `${result.partitions} reducers` : "partials merged on the coordinator (small enough; --partitions R runs R reducers)"}:\n\n`);
        await printQuery2(db, { format: "table", limit: 10 }, result);
        process.stdout.write(`\n${formatStageTotals(totals)}\n\nDuckDB file with tables result, attempts, stages and costs: ${duckdbFile}\n  e.g. duckdb ${duckdbFile} "SELECT stage_name, status, count(*) FROM attempts GROUP BY ALL"\n`);
      } finally {
        db.close();
      }
    } finally {
      await server.stop();
    }
  });
}

/** Generates the demo's uservisits the first time; a `_SUCCESS` marker records what was written. */
async function ensureData(url: string, rows: number, log: (line: string) => void, quiet: boolean): Promise<void> {
  const { store, key } = await openStore(url);
  const marker = `${key}_SUCCESS`;
  if (await store.head(marker)) {
    log(`using the ${rows.toLocaleString("en-US")} uservisits rows generated earlier at ${url}`);
    return;
  }
  log(`generating ${rows.toLocaleString("en-US")} uservisits rows into ${url} (first run only)...`);
  const started = performance.now();
  const progress = quiet ? undefined : startProgress(rows);
  try {
    await writeDataset(store, { table: "uservisits", rows, files: 8, format: "csv", seed: 1, pages: Math.max(1, Math.round(rows * 0.12)), prefix: key, ...(progress ? { onProgress: progress.update } : {}) });
  } finally {
    progress?.stop();
  }
  await store.put(marker, new TextEncoder().encode(JSON.stringify({ rows, files: 8, seed: 1 })));
  log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
