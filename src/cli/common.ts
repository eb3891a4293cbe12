/**
 * Flags shared by the commands that run jobs, validated with zod, and the run-time UI around a
 * job: progress on stderr, `--events FILE`, Ctrl-C cancels and waits.
 */
import { statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Option, type Command } from "commander";
import { z } from "zod";
import { createBackend, LOCAL_BACKENDS } from "../backends/index.js";
import type { Backend } from "../backends/contract.js";
import { ConfigError } from "../job/errors.js";
import type { Job } from "../scheduler/job.js";
import type { DuckDb } from "../duckdb/index.js";
import { writeAttemptsTable, writeReportTables } from "../outputs/duckdb-file.js";
import { checkLocalTarget } from "../outputs/local-target.js";
import { resultObjectProblem, type ResultObjectFormat } from "../outputs/result-object.js";
import { fileSystemError, isFileSystemError } from "../storage/errors.js";
import { localFilePath } from "../storage/url.js";
import { AttemptLog } from "../report/attempts.js";
import { JobStats } from "../report/job-stats.js";
import { JobReportWatch } from "./job-report-watch.js";
import { startLiveUi, type LiveUi } from "./live-ui.js";
import { addConfigOption } from "./config.js";
import { traceJob, tracedBackend, tracingConfig, type JobTracing } from "../observability/job-tracing.js";
import { addLambdaOptions, lambdaBackendFromFlags, lambdaFlagsShape } from "./lambda-flags.js";
import { addFargateOptions, fargateBackendFromFlags, fargateFlagsShape } from "./fargate-flags.js";
import { addKubernetesOptions, kubernetesBackendFromFlags, kubernetesFlagsShape } from "./kubernetes-flags.js";
import { interrupts } from "./interrupts.js";
import { showProgress, writeEventsFile } from "./progress.js";

/** The module registering every built-in worker (src/builtin-workers/builtin.ts), loaded by pool workers, not by the CLI itself. */
export const BUILTIN_ENTRY = new URL("../builtin-workers/builtin.js", import.meta.url);
/** The one-file builds of the built-in workers and each pool's bootstrap (scripts/bundle.mjs), and the module each starts from. */
const BUILTIN_POOLS = {
  processes: { bundle: "../bundle/builtin-processes.js", module: "../builtin-workers/pool-process.js" },
  threads: { bundle: "../bundle/builtin-threads.js", module: "../builtin-workers/pool-thread.js" },
};

/**
 * The bundle of the built-in workers that `--backend processes` forks or `--backend threads`
 * starts as its threads' script, if `npm run build` made it after tsc wrote the modules it bundles;
 * else undefined, and the workers import the same modules one by one (slower to start).
 */
export function builtinPoolScript(backend: keyof typeof BUILTIN_POOLS): string | undefined {
  const files = BUILTIN_POOLS[backend];
  return freshBundle(fileURLToPath(new URL(files.bundle, import.meta.url)), fileURLToPath(new URL(files.module, import.meta.url)));
}

/** `bundle`, if it exists and is not older than `bundled` (a `tsc` alone since made it stale); else undefined. */
export function freshBundle(bundle: string, bundled: string): string | undefined {
  try {
    return statSync(bundle).mtimeMs >= statSync(bundled).mtimeMs ? bundle : undefined;
  } catch {
    return undefined; // not built (tsc alone, or a checkout without esbuild)
  }
}

/** Backends that run tasks elsewhere, each with its own flags. */
const REMOTE_BACKENDS = ["lambda", "fargate", "kubernetes"] as const;

export const runFlagsSchema = z.object({
  backend: z.enum([...LOCAL_BACKENDS, ...REMOTE_BACKENDS], { message: `--backend must be one of ${[...LOCAL_BACKENDS, ...REMOTE_BACKENDS].join(", ")}` }).default("processes"),
  workers: z.coerce.number({ message: "--workers must be a number" }).int("--workers must be a whole number").min(1, "--workers must be at least 1").max(1024, "--workers must be at most 1024").optional(),
  quiet: z.boolean().default(false),
  verbose: z.boolean().default(false),
  events: z.string().min(1).optional(),
  report: z.string().min(1).regex(/\.html?$/i, "--report must end in .html").optional(),
  ui: z.boolean().default(false),
  otlp: z.string().min(1).optional(),
  ...lambdaFlagsShape,
  ...fargateFlagsShape,
  ...kubernetesFlagsShape,
});
export type RunFlags = z.output<typeof runFlagsSchema>;

/** Flags of commands that print a query's result and run DuckDB in tasks (query2, sql). */
export const resultFlagsShape = {
  format: z.enum(["table", "json", "csv"], { message: "--format must be table, json or csv" }).default("table"),
  limit: z.coerce.number({ message: "--limit must be a number" }).int("--limit must be a whole number").min(0, "--limit must be at least 0").default(20),
  work: z.string().min(1).optional(),
  threadsPerTask: z.coerce.number({ message: "--threads-per-task must be a number" }).int("--threads-per-task must be a whole number").min(1, "--threads-per-task must be 1 to 64").max(64, "--threads-per-task must be 1 to 64").default(1),
  taskBytes: z.coerce.number({ message: "--task-bytes must be a number" }).int().min(1024, "--task-bytes must be at least 1024").optional(),
  overwrite: z.boolean().default(false),
};

/** Adds the options of {@link resultFlagsShape}; `--output` is the command's own. */
export function addResultOptions(cmd: Command, help: { work: string; taskBytes: string }): Command {
  return cmd
    .option("--format <format>", "stdout: table (top rows), json (every row), csv (every row)", "table")
    .option("--limit <n>", "rows shown by --format table", "20")
    .option("--work <url>", `where intermediate data goes (default: ${help.work})`)
    .option("--threads-per-task <n>", "DuckDB threads inside each task", "1")
    .option("--task-bytes <n>", `input bytes per ${help.taskBytes}`);
}

/**
 * `--output` of the commands that compute a result (query2, sql): FILE.duckdb (tables result and
 * attempts), or ONE object, a URL or path ending in one of `formats`, written with the parallel
 * upload (src/outputs/result-object.ts).
 */
export function outputFlag(formats: readonly ResultObjectFormat[]) {
  return z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      const problem = /\.duckdb$/i.test(value) ? undefined : resultObjectProblem(value, formats);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional();
}

/** Adds `--output` (see {@link outputFlag}); `objects` says how the object is written. */
export function addOutputOption(cmd: Command, formats: readonly ResultObjectFormat[], objects: string): Command {
  const exts = formats.map((f) => `.${f}`).join(" or ");
  return cmd
    .option("--output <target>", `also write the result: FILE.duckdb (tables result and attempts) or an object ending in ${exts}, e.g. s3://bucket/results/r.${formats[0]} (${objects}); an existing one is refused`)
    .option("--overwrite", "replace an existing --output file or object");
}

/**
 * Checks, before any work, the local files a command will write: `--events` (its directory must
 * take a file; the log is replaced), `--output FILE.duckdb` and a local `--output` object (an
 * existing one is refused unless `--overwrite`; a replaced DuckDB file is removed here). An object
 * in a bucket is checked by openResultObject, also before the job.
 */
export async function checkLocalOutputs(flags: RunFlags & { output?: string | undefined; overwrite?: boolean }): Promise<void> {
  if (flags.events) await checkLocalTarget("--events", flags.events, { replaces: true });
  if (flags.report) await checkLocalTarget("--report", flags.report, { replaces: true });
  if (!flags.output) return;
  const { duckdbFile, object } = outputTarget(flags.output);
  const local = duckdbFile ?? (object ? localFilePath(object) : undefined);
  if (!local) return;
  await checkLocalTarget("--output", local, { overwrite: flags.overwrite ?? false });
  if (duckdbFile && flags.overwrite) for (const f of [duckdbFile, `${duckdbFile}.wal`]) await rm(f, { force: true });
}

/**
 * After a failed or interrupted run: the `--output FILE.duckdb` this run made goes (an existing
 * one was refused or removed before the job), so no file with a partial `result` table is left
 * looking like an answer.
 */
export async function removeFailedDuckDbFile(file: string | undefined): Promise<void> {
  if (file) for (const f of [file, `${file}.wal`]) await rm(f, { force: true });
}

/** A checked `--output`: the DuckDB file, or the object's URL. */
export function outputTarget(output: string | undefined): { duckdbFile?: string; object?: string } {
  if (!output) return {};
  return /\.duckdb$/i.test(output) ? { duckdbFile: output } : { object: output };
}

/** Says on stderr (unless --quiet) that the result object was written, and by whom. */
export function reportObject(flags: RunFlags, url: string, o: { size: number; parts: number; partitions: number }, writers: string): void {
  if (flags.quiet) return;
  process.stderr.write(`[smelter] wrote ${url} (${o.size.toLocaleString("en-US")} bytes, ${o.parts} part${o.parts === 1 ? "" : "s"}; ${o.partitions} partition${o.partitions === 1 ? "" : "s"} uploaded by ${writers})\n`);
}

/** Adds --backend, --workers, --quiet, --verbose, --events to a command. */
export function addRunFlags(cmd: Command, defaults: { backend?: string } = {}): Command {
  addLambdaOptions(cmd);
  addFargateOptions(cmd);
  addKubernetesOptions(cmd);
  addConfigOption(cmd); // smelter.config.json under the flags (src/cli/config.ts)
  return cmd
    .addOption(new Option("--backend <name>", "where tasks run").choices([...LOCAL_BACKENDS, ...REMOTE_BACKENDS]).default(defaults.backend ?? "processes"))
    .option("--workers <n>", "worker threads/processes (default: CPU count)")
    .option("-q, --quiet", "no progress on stderr")
    .option("-v, --verbose", "print workers' log lines on stderr")
    .option("--events <file>", "write every job event to FILE as JSON lines")
    .option("--report <file.html>", "write the job report (timeline, stages, critical path, cost, failures) to FILE.html when the job ends")
    .option("--ui", "serve a live page of the job on 127.0.0.1 (the URL, with its token, is printed on stderr)")
    .option("--otlp <url>", "export the job's trace (job, stage, attempt and storage-call spans) to this OTLP/HTTP endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT when set)");
}

/** Validates parsed flags with `schema`; a failure is a ConfigError naming each bad flag. */
export function parseFlags<T extends z.ZodType>(schema: T, flags: unknown): z.output<T> {
  const r = schema.safeParse(flags);
  if (!r.success) {
    const problems = r.error.issues.map((i) => (i.message.startsWith("--") ? i.message : `--${i.path.join(".")}: ${i.message}`));
    throw new ConfigError(`bad flags: ${problems.join("; ")} (see --help)`);
  }
  return r.data;
}

/** Creates the backend named by the flags, loading workers from `entry` (imported here for inline). */
export async function backendFromFlags(flags: RunFlags, entry: URL): Promise<Backend> {
  const backend = await untracedBackend(flags, entry);
  return tracingConfig(flags.otlp) ? tracedBackend(backend) : backend; // attempts carry their traceparent
}

async function untracedBackend(flags: RunFlags, entry: URL): Promise<Backend> {
  if (flags.backend === "lambda") return lambdaBackendFromFlags(flags); // the function holds the built-in workers
  if (flags.backend === "fargate") return fargateBackendFromFlags(flags); // so does the task definition's image
  if (flags.backend === "kubernetes") return kubernetesBackendFromFlags(flags); // so does the image
  if (flags.backend === "inline") {
    // The built-in workers by a literal path: in the command line's bundle (scripts/bundle.mjs) that is the
    // bundle's own copy, whose registry the inline backend reads; importing entry.href would load a second one.
    if (entry === BUILTIN_ENTRY) await import("../builtin-workers/builtin.js");
    else await import(entry.href);
    return createBackend("inline", {});
  }
  const script = entry === BUILTIN_ENTRY && (flags.backend === "processes" || flags.backend === "threads") ? builtinPoolScript(flags.backend) : undefined;
  return createBackend(flags.backend, { entry, ...(script ? { script } : {}), ...(flags.workers ? { workers: flags.workers } : {}) });
}

/**
 * Runs `job` with progress on stderr (unless --quiet), events written to --events, Ctrl-C
 * cancelling it, --ui, and at its end the cost line and --report. Resolves or rejects with `job.wait()`
 * once the events file is flushed.
 */
export async function watchJob(job: Job, flags: RunFlags, report = new JobReportWatch(job, flags)): Promise<void> {
  const progress = flags.quiet ? undefined : showProgress(job, { verbose: flags.verbose });
  const eventsFile = flags.events;
  const eventsDone = eventsFile
    ? writeEventsFile(job, eventsFile).catch((err: unknown) => {
        throw isFileSystemError(err) ? fileSystemError(err, "write", `the --events file ${eventsFile}`) : err;
      })
    : undefined;
  eventsDone?.catch(() => undefined); // awaited after the job; not unhandled meanwhile
  interrupts.arm();
  interrupts.watchJob(job);
  let ui: LiveUi | undefined;
  let tracing: JobTracing | undefined;
  try {
    const otlp = tracingConfig(flags.otlp);
    const warn = (m: string) => void process.stderr.write(`[smelter] warning: ${m}\n`);
    if (otlp) tracing = await traceJob(job, otlp, { backend: flags.backend, warn }).catch((err: unknown) => void warn(`the job is not traced: ${err instanceof Error ? err.message : String(err)}`));
    if (flags.ui) {
      ui = await startLiveUi(job, { backend: flags.backend });
      process.stderr.write(`[smelter] live page: ${ui.url}\n`);
    }
    await job.wait();
  } finally {
    progress?.stop();
    await eventsDone;
    await report.end(); // the cost line and --report, for failed jobs too
    await tracing?.stop(); // waits at most 2.5 s for the collector
    await ui?.stop();
  }
}

/**
 * What a command that runs one job attaches to it: progress, Ctrl-C, --events, per-stage totals
 * and the attempts log. Pass `onJob` to the driver, then `finish` / `stop`.
 */
export class JobWatch {
  stats: JobStats | undefined;
  attempts: AttemptLog | undefined;
  report: JobReportWatch | undefined;
  #watching: Promise<void> | undefined;
  #flags: RunFlags;

  constructor(flags: RunFlags) {
    this.#flags = flags;
  }

  readonly onJob = (job: Job): void => {
    this.stats = new JobStats(job);
    this.attempts = new AttemptLog(job);
    this.report = new JobReportWatch(job, this.#flags);
    this.#watching = watchJob(job, this.#flags, this.report);
    this.#watching.catch(() => undefined); // the same error comes out of the driver
  };

  /** Waits for the progress display and the events file to finish; with `file`, writes the attempts table into `db`. */
  async finish(db?: DuckDb, file?: string): Promise<void> {
    await this.#watching;
    if (!db || !file) return;
    if (this.attempts) await writeAttemptsTable(db, this.attempts.rows());
    if (this.report) await writeReportTables(db, this.report.build());
    if (!this.#flags.quiet) process.stderr.write(`[smelter] wrote tables result, attempts, stages and costs to ${file} (open it with: duckdb ${file})\n`);
  }

  async stop(): Promise<void> {
    await this.#watching?.catch(() => undefined);
    this.stats?.stop();
    this.attempts?.stop();
  }
}
