/**
 * `smelter datagen uservisits|rankings --rows N --files F --format csv|parquet --out URL --seed S`:
 * writes the Big Data Benchmark tables (HiBench's distribution) to any store. Progress on stderr.
 */
import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import { z } from "zod";
import { parseOrThrow } from "../job/policy.js";
import { availableParallelism } from "node:os";
import { checkCapacity } from "../datagen/capacity.js";
import { tables } from "../datagen/source.js";
import { writeDataset } from "../datagen/write.js";
import { openStore } from "../storage/url.js";
import { removeEmptyInternalDir } from "../storage/local.js";
import type { ObjectStore } from "../storage/contract.js";
import { ConfigError } from "../job/errors.js";

const count = (what: string, min: number) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(Number.MAX_SAFE_INTEGER, `${what} is too large`);

const flagsSchema = z.strictObject({
  table: z.enum(tables, { error: `the table must be one of: ${tables.join(", ")}` }),
  rows: count("--rows", 0),
  files: count("--files", 1),
  format: z.enum(["csv", "parquet"], { error: "--format must be csv or parquet" }),
  out: z.string({ error: "--out is required" }).min(1, "--out is required: a store URL such as ./data/uservisits, file:///tmp/x or s3://bucket/prefix"),
  seed: count("--seed", 0).max(0xffffffff, "--seed must fit in 32 bits"),
  pages: count("--pages", 1).optional(),
  rowGroupRows: count("--row-group-rows", 2048).optional(),
  clean: z.boolean().default(false),
});

export function register(program: Command): void {
  program
    .command("datagen")
    .description("Generate the Big Data Benchmark's uservisits or rankings table (HiBench's distribution) into a store.")
    .argument("<table>", `the table: ${tables.join(" | ")}`)
    .requiredOption("--out <url>", "where to write: a local dir, file:///dir, s3://bucket/prefix, memory://name/prefix")
    .option("--rows <n>", "rows to generate", "10000")
    .option("--files <n>", "files to write (part-00000, part-00001, ...)", "1")
    .option("--format <format>", "csv (headerless, as the benchmark) or parquet", "csv")
    .option("--seed <n>", "PRNG seed: the same seed gives the same data", "1")
    .option("--pages <n>", "uservisits: pages in the URL space, i.e. the rankings --rows to join with (default: 12% of --rows, the benchmark's ratio)")
    .option("--row-group-rows <n>", "parquet: rows per row group", "262144")
    .option("--clean", "delete the part files of an earlier run at --out first (without it, they are refused: a table would mix two runs)")
    .action(async (table: string, flags: Record<string, unknown>) => {
      const f = parseOrThrow(flagsSchema, { table, ...flags }, "datagen flags");
      const pages = f.pages ?? Math.max(1, Math.round(f.rows * 0.12));
      const { store, key } = await openStore(f.out.endsWith("/") ? f.out : `${f.out}/`);
      const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
      try {
        await checkCapacity(store, { table: f.table, rows: f.rows, files: f.files, format: f.format, seed: f.seed, pages, concurrency: availableParallelism() });
      } catch (err) {
        await store.close();
        throw err;
      }
      await clearOldParts(store, prefix, f.out, f.clean);
      const progress = startProgress(f.rows);
      const started = performance.now();
      try {
        const files = await writeDataset(store, {
          table: f.table,
          rows: f.rows,
          files: f.files,
          format: f.format,
          seed: f.seed,
          pages,
          prefix,
          rowGroupRows: f.rowGroupRows,
          onProgress: progress.update,
        });
        progress.stop();
        const seconds = (performance.now() - started) / 1000;
        const bytes = files.reduce((s, x) => s + x.bytes, 0);
        process.stderr.write(
          `[smelter] datagen: ${f.rows.toLocaleString("en-US")} ${f.table} rows in ${files.length} ${f.format} file(s), ` +
            `${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(2)} s (${Math.round(f.rows / Math.max(seconds, 1e-9)).toLocaleString("en-US")} rows/s) -> ${f.out}` +
            (f.table === "uservisits" ? ` (destURL joins rankings generated with --rows ${pages} --seed ${f.seed})` : "") +
            "\n",
        );
      } finally {
        progress.stop();
        await removeEmptyInternalDir(store); // a local --out keeps only the part files
        await store.close();
      }
    });
}

/**
 * Part files (`part-NNNNN`, `part-NNNNN.parquet`) already at the output would mix with the new ones
 * (fewer files, another format, another seed): refused, naming them, unless `clean` (then deleted
 * first, and said so). Other objects there are left alone.
 */
async function clearOldParts(store: ObjectStore, prefix: string, out: string, clean: boolean): Promise<void> {
  const old: string[] = [];
  for await (const o of store.list(prefix)) if (/^part-\d{5}(\.parquet)?$/.test(o.key.slice(prefix.length))) old.push(o.key);
  if (old.length === 0) return;
  const names = `${old.slice(0, 5).map((k) => k.slice(prefix.length)).join(", ")}${old.length > 5 ? `, ... (${old.length} files)` : ""}`;
  if (!clean) {
    await store.close();
    throw new ConfigError(`[smelter] datagen: ${out} already holds part files of an earlier run (${names}): the table would mix two runs. Pass --clean to delete them first, or write to another --out`);
  }
  for (const k of old) await store.delete(k);
  process.stderr.write(`[smelter] datagen: deleted ${old.length} part file(s) of an earlier run at ${out} (${names})\n`);
}

/** A bar when stderr is a terminal, otherwise a line every few seconds. */
export function startProgress(total: number): { update: (rows: number) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: "datagen [{bar}] {percentage}% | {value}/{total} rows | {eta}s left", stream: process.stderr, hideCursor: true });
    bar.start(total, 0);
    let stopped = false;
    return {
      update: (rows) => bar.update(rows),
      stop: () => {
        if (!stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let last = performance.now();
  return {
    update: (rows) => {
      const now = performance.now();
      if (now - last < 3000) return;
      last = now;
      process.stderr.write(`[smelter] datagen: ${rows.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} rows\n`);
    },
    stop: () => {},
  };
}
