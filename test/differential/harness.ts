/**
 * Runs one differential case: generates its files, puts them in the store under test (a local
 * directory, or the embedded S3 server), runs the path (`smelter sql` through the library
 * functions its command runs, `smelter query2`'s runQuery2, or a `defineMapReduce` job) on the
 * threads or processes backend, runs DuckDB alone on the same files, and compares. Equal results,
 * or both refusing, pass; anything else fails with the seed and the replay command.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { processesBackend, threadsBackend } from "../../src/backends/index.js";
import { parseFlags } from "../../src/cli/common.js";
import { query2FlagsSchema, runQuery2Cli } from "../../src/cli/query2.js";
import { runSqlCli, sqlFlagsSchema } from "../../src/cli/sql.js";
import { planOptions, tablesFromFlags } from "../../src/cli/sql-flags.js";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { runQuery2 } from "../../src/query/query2.js";
import { Manager } from "../../src/scheduler/manager.js";
import { executePlan } from "../../src/query/execute.js";
import { planQuery } from "../../src/sql/plan.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { openStore } from "../../src/storage/url.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { readTable, type TestResult } from "../helpers/local-plan.js";
import { drawCase, type CaseSpec } from "./cases.js";
import { firstDifference } from "./compare.js";
import { describeFlags, generateTable, type GeneratedTable } from "./generate.js";
import { knownFailure, type KnownFailure } from "./known-failures.js";
import { runReference } from "./reference.js";
import { caseSeed, Rng } from "./rng.js";
import { FUNCTION_JOBS, type KeyTotals } from "./workers.js";

const ENTRY = new URL("./workers.js", import.meta.url);
const BUCKET = "differential";

/** What every case shares: DuckDB alone, the worker pools, the S3 server. */
export class DifferentialEnv {
  #db?: DuckDb;
  #managers = new Map<string, Manager>();
  #s3?: { server: S3Server; store: ObjectStore; saved: NodeJS.ProcessEnv };
  #cases = 0;

  /** Starts the S3 server first (worker processes inherit its variables). */
  async open(o: { s3: boolean }): Promise<this> {
    this.#db = await openDuckDb({ threads: 1 });
    if (o.s3) {
      const server = await startS3Server({ buckets: [BUCKET] });
      const saved = { ...process.env };
      Object.assign(process.env, server.env);
      this.#s3 = { server, saved, store: (await openStore(`s3://${BUCKET}/`)).store };
    }
    return this;
  }

  get db(): DuckDb {
    return this.#db!;
  }

  manager(backend: "threads" | "processes"): Manager {
    let m = this.#managers.get(backend);
    if (!m) {
      m = new Manager({ backend: backend === "threads" ? threadsBackend({ entry: ENTRY, workers: 2 }) : processesBackend({ entry: ENTRY, workers: 2 }) });
      this.#managers.set(backend, m);
    }
    return m;
  }

  get hasS3(): boolean {
    return this.#s3 !== undefined;
  }

  /** The URL of table `t`'s files in the store `storage` (uploaded to the S3 server when asked). */
  async place(t: GeneratedTable, storage: "local" | "s3"): Promise<string> {
    if (storage === "local") return `${t.dir}/`;
    const s3 = this.#s3!;
    const prefix = `case-${++this.#cases}/${t.name}/`;
    for (const f of t.files) await s3.store.put(`${prefix}${relative(t.dir, f)}`, readFileSync(f));
    return `s3://${BUCKET}/${prefix}`;
  }

  async close(): Promise<void> {
    for (const m of this.#managers.values()) await m.close();
    this.#db?.close();
    if (this.#s3) {
      process.env = this.#s3.saved;
      await this.#s3.server.stop();
    }
  }
}

export type Status = "pass" | "fail" | "skip";

export interface Outcome {
  status: Status;
  /** What happened: "equal", "both refused", the difference, or the known failure's reason. */
  detail: string;
  spec: CaseSpec;
  known?: KnownFailure;
}

/** The command that replays a case. */
export const replayCommand = (c: Pick<CaseSpec, "seed" | "family">) => `npm run fuzz -- --seed ${c.seed} --case ${c.family}`;

/** A one-paragraph description of a case: what was generated and how it ran. */
export function describeCase(c: CaseSpec): string {
  const tables = c.tables.map((t) => `${t.name}: ${t.files} file(s) ${describeFlags(t.flags)}`).join("; ");
  const run = [c.backend, c.storage, `R=${c.partitions ?? "default"}`, `task bytes ${c.taskBytes ?? "default"}`, ...(c.path === "sql" ? [`schema ${c.schema}`, ...(c.tables.length > 1 ? [`join ${c.join}`] : [])] : [])].join(", ");
  return `${c.family} seed ${c.seed} [${c.path}: ${c.label}] ${tables} (${run})\n    query: ${c.sql}`;
}

/**
 * Refusals that are right although DuckDB alone answers: quoted newlines may be refused with a
 * clear message that names the way out (issue 9); a broadcast forced by `--join broadcast` that
 * would not be exact (an outer join's preserved side) is refused by the planner.
 */
function allowedRefusal(c: CaseSpec, message: string): string | undefined {
  if (!/^\[smelter\]/.test(message)) return undefined;
  if (c.tables.some((t) => t.flags.quotedNewlines) && /newline|line break/i.test(message) && /quot/i.test(message)) return "quoted newlines";
  if (c.join === "broadcast" && /cannot be distributed: use --join partitioned/.test(message)) return "forced broadcast not exact";
  return undefined;
}

/** Runs case (seed, family). With `runKnown`, a case in a known failure class runs anyway (a pass then says the class may be fixed). */
export async function runCase(env: DifferentialEnv, seed: number, family: string, o: { runKnown?: boolean; keep?: boolean } = {}): Promise<Outcome> {
  const spec = drawCase(seed, family);
  if (spec.storage === "s3" && !env.hasS3) spec.storage = "local";
  const dir = mkdtempSync(join(tmpdir(), "smelter-diff-"));
  try {
    const r = new Rng(caseSeed(seed, `${family}:data`));
    const tables: GeneratedTable[] = [];
    for (const t of spec.tables) tables.push(await generateTable(env.db, r, dir, t.name, t.flags, t));
    const known = knownFailure(spec, tables);
    if (known && !o.runKnown) return { status: "skip", detail: `known failure ${known.id} (${known.issue}): ${known.reason}`, spec, known };
    const urls = new Map<string, string>();
    for (const t of tables) urls.set(t.name, await env.place(t, spec.storage));
    const want = await settle(runReference(env.db, spec.sql, tables, { inferTypes: spec.path === "sql" && spec.schema === "sniffed" }));
    const got = await settle(runPath(env, spec, tables, urls, want.ok ? want.value : undefined));
    const outcome = judge(spec, got, want);
    if (known) return outcome.status === "fail" ? { ...outcome, status: "skip", detail: `known failure ${known.id} (${known.issue}), still failing: ${outcome.detail}`, known } : { ...outcome, detail: `known failure ${known.id} now passes: ${outcome.detail}`, known };
    return outcome;
  } finally {
    if (o.keep) process.stderr.write(`[smelter] fuzz: ${family} seed ${seed}: files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }));
/** An error's message on one line (a task failure's cause is on the lines after the first). */
const firstLine = (e: Error) => e.message.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" / ").slice(0, 600);

function judge(spec: CaseSpec, got: Settled<TestResult>, want: Settled<TestResult>): Omit<Outcome, "known"> {
  if (!got.ok && !want.ok) return { status: "pass", detail: `both refused: smelter: ${firstLine(got.error)} | DuckDB alone: ${firstLine(want.error)}`, spec };
  if (!got.ok && want.ok) {
    const allowed = allowedRefusal(spec, got.error.message);
    if (allowed) return { status: "pass", detail: `refused clearly (${allowed}): ${firstLine(got.error)}`, spec };
    return { status: "fail", detail: `smelter refused, DuckDB alone answered ${want.value.rows.length} rows: ${firstLine(got.error)}`, spec };
  }
  if (got.ok && !want.ok) return { status: "fail", detail: `smelter answered ${got.value.rows.length} rows, DuckDB alone refused: ${firstLine(want.error)}`, spec };
  const diff = firstDifference((got as { value: TestResult }).value, (want as { value: TestResult }).value, spec.ordered);
  return diff ? { status: "fail", detail: diff, spec } : { status: "pass", detail: `equal (${(want as { value: TestResult }).value.rows.length} rows)`, spec };
}

/** `--table NAME=URL` and, with a given schema, `--schema NAME='col TYPE, ...'`. */
function sqlTableFlags(spec: CaseSpec, tables: GeneratedTable[], urls: Map<string, string>): { table: string[]; schema: string[] } {
  return {
    table: tables.map((t) => `${t.name}=${urls.get(t.name)}`),
    schema: spec.schema === "given" ? tables.map((t) => `${t.name}=${t.columns.map((c) => `${c.name} ${c.type}`).join(", ")}`) : [],
  };
}

async function runPath(env: DifferentialEnv, spec: CaseSpec, tables: GeneratedTable[], urls: Map<string, string>, want: TestResult | undefined): Promise<TestResult> {
  if (spec.viaCli && spec.path !== "functions") {
    const cli = { backend: spec.backend, workers: 2, quiet: true, format: "csv", ...(spec.partitions ? { partitions: spec.partitions } : {}), ...(spec.taskBytes ? { taskBytes: spec.taskBytes } : {}) };
    const run =
      spec.path === "sql"
        ? runSqlCli(parseFlags(sqlFlagsSchema, { ...cli, query: spec.sql, join: spec.join, ...sqlTableFlags(spec, tables, urls) }))
        : runQuery2Cli(parseFlags(query2FlagsSchema, { ...cli, input: urls.get(tables[0]!.name), prefixLen: spec.prefixLen }));
    const out = (await run).db;
    try {
      return await readTable(out, "result");
    } finally {
      out.close();
    }
  }
  const manager = env.manager(spec.backend);
  const db = await openDuckDb({ threads: 1 });
  try {
    if (spec.path === "sql") {
      // What `smelter sql` runs (src/cli/sql.ts runSqlCli), on a shared worker pool.
      const flags = {
        ...sqlTableFlags(spec, tables, urls),
        partitions: spec.partitions,
        broadcastBytes: undefined,
        join: spec.join,
        allowSingleTask: false,
      };
      const { tables: resolved, listings } = await tablesFromFlags(flags);
      const plan = await planQuery(spec.sql, resolved, planOptions(flags, manager.maxConcurrentTasks));
      await executePlan(manager, db, plan, { listings, combine: spec.combine, ...(spec.taskBytes ? { targetTaskBytes: spec.taskBytes } : {}) });
      return await readTable(db, "result");
    }
    const input = urls.get(tables[0]!.name)!;
    const options = { ...(spec.partitions ? { partitions: spec.partitions } : {}), ...(spec.taskBytes ? { targetTaskBytes: spec.taskBytes } : {}) };
    if (spec.path === "query2") {
      await runQuery2(manager, db, { input, prefixLen: spec.prefixLen, combine: spec.combine, ...options });
      return await readTable(db, "result");
    }
    const f = tables[0]!.flags;
    const job = f.format === "parquet" ? FUNCTION_JOBS.parquet : f.format === "ndjson" ? FUNCTION_JOBS.ndjson : f.header ? FUNCTION_JOBS.csvHeader : FUNCTION_JOBS.csvPlain;
    const run = await job.run(manager, { input, ...options });
    const rows = (run.records as KeyTotals[]).map((x) => [x.k, String(x.n), String(x.nx), x.sx, String(x.ny), x.sy]);
    return { names: ["k", "n", "nx", "sx", "ny", "sy"], types: want?.types ?? ["VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "BIGINT", "DOUBLE"], rows };
  } finally {
    db.close();
  }
}
