/**
 * The peers side of the Query 2 benchmark: the same query on the same local files through the
 * tools a user might pick instead of Smelter, each timed the same way (median wall time of the
 * runs after a warm-up, the whole result in the engine's host process) and each checked for the
 * same answer.
 *
 *   SELECT SUBSTR(sourceIP, 1, X) AS prefix, SUM(adRevenue) AS adRevenue FROM uservisits GROUP BY 1
 *
 * - {@link duckdbAlone}: DuckDB in this process, all cores: the single-machine limit.
 * - {@link runPeer}: Polars, DataFusion, chDB, Lithops (localhost executor), Dask (dataframe on a
 *   distributed LocalCluster), Daft (native runner) or smallpond (local Ray) through
 *   bench/peers/query2_peers.py in the venvs that `npm run setup:peers` installs (.tools/peers;
 *   smallpond in .tools/peers-smallpond, its pins do not fit the others').
 *   A peer that is not installed comes back as `{engine, unavailable}` instead of failing.
 * - {@link compareResults}: same groups, sums within a relative tolerance; {@link resultCheckSql}:
 *   the same check done by DuckDB, of a result table against a reference on disk.
 * - {@link timeDuckdbAlone}: one timed run of DuckDB alone in an open database (wall, CPU).
 *
 * See docs/bench-peers.md.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Table } from "../src/datagen/source.js";
import { csvColumnsSql } from "../src/datagen/write.js";
import { openDuckDb, sqlIdentifier, sqlString, type DuckDb } from "../src/duckdb/index.js";
import { median } from "./_record.js";

/** The repository root (this file runs as dist/bench/_peers.js). */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const PEERS_VENV = join(ROOT, ".tools", "peers");
/** The interpreter of a peer's venv: smallpond has its own. */
function peerPython(engine: PeerEngine): string {
  return join(engine === "smallpond" ? `${PEERS_VENV}-smallpond` : PEERS_VENV, "bin", "python");
}
const PEERS_SCRIPT = join(ROOT, "bench", "peers", "query2_peers.py");

export type PeerEngine = "polars" | "datafusion" | "chdb" | "lithops" | "dask" | "daft" | "smallpond";
export const PEER_ENGINES: readonly PeerEngine[] = ["polars", "datafusion", "chdb", "lithops", "dask", "daft", "smallpond"];
export type Query2Format = "csv" | "parquet";
/** The benchmark's names of Query 2: X in SUBSTR(sourceIP, 1, X). */
export const QUERY2_PREFIX_LEN = { "2A": 8, "2B": 10, "2C": 12 } as const;
/** prefix -> SUM(adRevenue). */
export type Query2Result = Map<string, number>;

export interface Query2Options {
  /** Directory of uservisits files: csv `part-NNNNN` (no extension, or `*.csv`), parquet `*.parquet`. */
  input: string;
  format: Query2Format;
  /** X in SUBSTR(sourceIP, 1, X): 8 (2A), 10 (2B), 12 (2C). */
  prefixLen: number;
  /** Timed runs; the median is reported. @default 5 */
  runs?: number;
  /** Untimed runs before them. @default 1 */
  warmup?: number;
  /** Threads or worker processes. @default all cores */
  workers?: number;
}

/** What every engine reports. */
export interface Query2Timing {
  engine: string;
  version: string;
  format: Query2Format;
  prefixLen: number;
  /** Wall seconds of each timed run. */
  runsS: number[];
  medianS: number;
  groups: number;
  workers: number;
  /** Peak RSS in KiB: the engine's process (for DuckDB alone: the whole Node process running it). */
  maxRssKb: number;
  result: Query2Result;
}

export interface PeerResult extends Query2Timing {
  engine: PeerEngine;
  /** Peak RSS of the largest reaped child process (Lithops' task processes), KiB. */
  maxRssChildrenKb: number;
  /** Where the Python side wrote the result (`prefix,sum` lines). */
  resultPath: string;
  /** The Python side's JSON as written (tasks, chunk size, etc.). */
  raw: Record<string, unknown>;
}

export interface PeerUnavailable {
  engine: PeerEngine;
  /** Why it did not run: not installed, cannot be imported, or (failed: true) it crashed. */
  unavailable: string;
  failed?: boolean;
}

export interface RunPeerOptions extends Query2Options {
  /** Python interpreter. @default the peer's venv: .tools/peers/bin/python (smallpond: .tools/peers-smallpond/bin/python) */
  python?: string;
  /** Lithops' CSV map: a plain Python loop (split, float) or pyarrow's CSV reader in the task. @default "python" */
  lithopsMap?: "arrow" | "python";
  /** Kill the peer after this long. @default 30 minutes */
  timeoutMs?: number;
  /** Pass the peer's stderr (per-run times) through to ours. @default false */
  verbose?: boolean;
}

export function isUnavailable(r: PeerResult | PeerUnavailable): r is PeerUnavailable {
  return "unavailable" in r;
}

/** The uservisits files of `dir` for a format, as absolute paths, sorted. */
export function query2Files(dir: string, format: Query2Format): string[] {
  const names = readdirSync(dir).sort();
  const picked = names.filter((n) => (format === "parquet" ? n.endsWith(".parquet") : (n.startsWith("part-") && !n.includes(".")) || n.endsWith(".csv")));
  const files = picked.map((n) => resolve(dir, n)).filter((p) => statSync(p).isFile());
  if (files.length === 0) throw new Error(`no ${format} uservisits files in ${dir} (csv: part-NNNNN, parquet: *.parquet)`);
  return files;
}

/** The FROM source for DuckDB: read_csv with explicit columns and no header, or read_parquet. */
export function uservisitsSourceSql(files: string[], format: Query2Format): string {
  return bdbSourceSql("uservisits", files, format);
}

/** The FROM source of a Big Data Benchmark table's files (headerless CSV with the table's columns, or Parquet). */
export function bdbSourceSql(table: Table, files: string[], format: Query2Format): string {
  const list = `[${files.map(sqlString).join(", ")}]`;
  if (format === "parquet") return `read_parquet(${list})`;
  return `read_csv(${list}, header = false, delim = ',', quote = '', escape = '', auto_detect = false, columns = ${csvColumnsSql(table)})`;
}

export function query2Sql(source: string, prefixLen: number): string {
  if (!Number.isInteger(prefixLen) || prefixLen < 1) throw new Error(`prefixLen must be a positive integer, got ${prefixLen}`);
  return `SELECT SUBSTR(sourceIP, 1, ${prefixLen}) AS prefix, SUM(adRevenue::DOUBLE) AS adRevenue FROM ${source} GROUP BY 1`;
}

function checkRuns(o: Query2Options): { runs: number; warmup: number } {
  const runs = o.runs ?? 5;
  const warmup = o.warmup ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`warmup must be a non-negative integer, got ${warmup}`);
  return { runs, warmup };
}

/**
 * Query 2 in DuckDB alone: one in-memory database in this process with all cores (or `workers`
 * threads), reading the same local files. A run is timed from sending the SQL to having every
 * result row materialized in JS (runAndReadAll); building the Map is not timed.
 */
export async function duckdbAlone(options: Query2Options): Promise<Query2Timing> {
  const { runs, warmup } = checkRuns(options);
  const files = query2Files(options.input, options.format);
  const workers = options.workers ?? availableParallelism();
  const sql = query2Sql(uservisitsSourceSql(files, options.format), options.prefixLen);
  const db = await openDuckDb({ threads: workers });
  try {
    const version = String(await db.value("SELECT version()"));
    const times: number[] = [];
    let reader: Awaited<ReturnType<typeof timeDuckdbAlone>>["value"] | undefined;
    for (let i = 0; i < warmup + runs; i++) {
      reader = undefined; // let the previous result go before the next run
      const run = await timeDuckdbAlone(db, sql);
      reader = run.value;
      if (i >= warmup) times.push(run.wallS);
    }
    const result = resultMap(reader!);
    return {
      engine: "duckdb",
      version,
      format: options.format,
      prefixLen: options.prefixLen,
      runsS: times,
      medianS: median(times),
      groups: result.size,
      workers,
      maxRssKb: process.resourceUsage().maxRSS,
      result,
    };
  } finally {
    db.close();
  }
}

/** A Query 2 result left in `db` as a table (columns prefix, adRevenue), as a Map. */
export async function readQuery2Result(db: DuckDb, table = "result"): Promise<Query2Result> {
  return resultMap(await db.connection.runAndReadAll(`SELECT prefix, adRevenue FROM ${sqlIdentifier(table)}`));
}

/** The rows of a (prefix, sum) result as a Map. */
function resultMap(reader: { getColumnsJS(): unknown[][] }): Query2Result {
  const [prefixes, sums] = reader.getColumnsJS();
  const out: Query2Result = new Map();
  for (let i = 0; i < (prefixes?.length ?? 0); i++) out.set(String(prefixes![i]), Number(sums![i]));
  return out;
}

/** Parses `prefix,sum` lines (the Python side's result file). */
export function parseResultCsv(text: string): Query2Result {
  const out: Query2Result = new Map();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comma = line.lastIndexOf(",");
    if (comma < 0) throw new Error(`bad result line (no comma): ${JSON.stringify(line)}`);
    const value = Number(line.slice(comma + 1));
    if (Number.isNaN(value)) throw new Error(`bad result line (not a number): ${JSON.stringify(line)}`);
    out.set(line.slice(0, comma), value);
  }
  return out;
}

/** What `npm run setup:peers` recorded for an engine, if it could not install it. */
function installFailure(engine: PeerEngine): string | undefined {
  const status = join(PEERS_VENV, "peers.json");
  if (!existsSync(status)) return undefined;
  try {
    const peers = (JSON.parse(readFileSync(status, "utf8")) as { peers?: Record<string, { unavailable?: string }> }).peers;
    return peers?.[engine]?.unavailable;
  } catch {
    return undefined;
  }
}

/**
 * Query 2 through a peer, in its own Python process (bench/peers/query2_peers.py). Resolves to
 * `{engine, unavailable}` when the peer is not installed or cannot be imported, and to
 * `{engine, unavailable, failed: true}` when it crashed or timed out; never rejects for those.
 */
export async function runPeer(engine: PeerEngine, options: RunPeerOptions): Promise<PeerResult | PeerUnavailable> {
  if (!PEER_ENGINES.includes(engine)) throw new Error(`unknown peer engine "${engine}": one of ${PEER_ENGINES.join(", ")}`);
  const { runs, warmup } = checkRuns(options);
  const python = options.python ?? peerPython(engine);
  if (!existsSync(python)) return { engine, unavailable: `the peers venv is not installed (${python} missing): run npm run setup:peers` };
  const failedInstall = installFailure(engine);
  if (failedInstall !== undefined) return { engine, unavailable: `install failed: ${failedInstall}` };

  const dir = await mkdtemp(join(tmpdir(), `smelter-peer-${engine}-`));
  const out = join(dir, "result.json");
  const args = [
    PEERS_SCRIPT, "--engine", engine, "--input", resolve(options.input), "--format", options.format,
    "--prefix-len", String(options.prefixLen), "--runs", String(runs), "--warmup", String(warmup), "--out", out,
  ];
  if (options.workers !== undefined) args.push("--workers", String(options.workers));
  if (options.lithopsMap !== undefined) args.push("--lithops-map", options.lithopsMap);
  try {
    const { code, stderr } = await runProcess(python, args, options.timeoutMs ?? 30 * 60_000, options.verbose ?? false);
    if (code !== 0 || !existsSync(out)) {
      const tail = stderr.trim().split("\n").slice(-3).join(" | ");
      return { engine, unavailable: `failed: ${code === null ? "timed out" : `exit ${code}`}: ${tail}`, failed: true };
    }
    const raw = JSON.parse(await readFile(out, "utf8")) as Record<string, unknown>;
    if (typeof raw.unavailable === "string") return { engine, unavailable: raw.unavailable };
    const resultPath = String(raw.result_path);
    const result = parseResultCsv(await readFile(resultPath, "utf8"));
    const runsS = (raw.runs_s as number[]).map(Number);
    return {
      engine,
      version: String(raw.version),
      format: options.format,
      prefixLen: options.prefixLen,
      runsS,
      medianS: Number(raw.median_s),
      groups: result.size,
      workers: Number(raw.workers),
      maxRssKb: Number(raw.maxrss_self_kb),
      maxRssChildrenKb: Number(raw.maxrss_children_kb),
      resultPath,
      raw,
      result,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runProcess(cmd: string, args: string[], timeoutMs: number, verbose: boolean): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    // Lithops prints progress to stdout: ignored; stderr is kept for the error message.
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
    let stderr = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      if (verbose) process.stderr.write(s);
      stderr = (stderr + s).slice(-20_000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code: timedOut ? null : code, stderr });
    });
  });
}

export interface CompareResult {
  /** Both have exactly the same prefixes. */
  sameGroups: boolean;
  /** Largest |a - b| / max(|a|, |b|) over the groups both have (0 when none). */
  maxRelError: number;
  /** sameGroups and maxRelError <= relTol. */
  equal: boolean;
  groupsA: number;
  groupsB: number;
  missingInA: number;
  missingInB: number;
  /** The first few differences: a missing group (undefined on that side) or a sum out of tolerance. */
  mismatches: Array<{ prefix: string; a: number | undefined; b: number | undefined; relError: number }>;
}

function relError(a: number, b: number): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** Compares two Query 2 results: same groups, and sums equal within a relative tolerance. */
export function compareResults(a: Query2Result, b: Query2Result, relTol = 1e-6, maxMismatches = 5): CompareResult {
  const mismatches: CompareResult["mismatches"] = [];
  let maxRel = 0;
  let missingInB = 0;
  for (const [prefix, va] of a) {
    const vb = b.get(prefix);
    if (vb === undefined) {
      missingInB++;
      if (mismatches.length < maxMismatches) mismatches.push({ prefix, a: va, b: undefined, relError: Number.POSITIVE_INFINITY });
      continue;
    }
    const e = relError(va, vb);
    if (e > maxRel || Number.isNaN(e)) maxRel = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
    if (!(e <= relTol) && mismatches.length < maxMismatches) mismatches.push({ prefix, a: va, b: vb, relError: e });
  }
  let missingInA = 0;
  for (const [prefix, vb] of b) {
    if (a.has(prefix)) continue;
    missingInA++;
    if (mismatches.length < maxMismatches) mismatches.push({ prefix, a: undefined, b: vb, relError: Number.POSITIVE_INFINITY });
  }
  const sameGroups = missingInA === 0 && missingInB === 0;
  return { sameGroups, maxRelError: maxRel, equal: sameGroups && maxRel <= relTol, groupsA: a.size, groupsB: b.size, missingInA, missingInB, mismatches };
}

/** What a benchmark records about a result: the verdict and its first mismatches. */
export type ResultCheck = Pick<CompareResult, "equal" | "sameGroups" | "maxRelError" | "mismatches">;

/** The columns of a result table: its key columns (at most one row per key) and its numbers. */
export interface ResultShape {
  keys: string[];
  values: string[];
}
/** Query 2's result: one sum per prefix. */
export const QUERY2_SHAPE: ResultShape = { keys: ["prefix"], values: ["adRevenue"] };

export interface ResultCheckSqlOptions {
  /** The table of the run's result in `db`. @default "result" */
  table?: string;
  /** @default QUERY2_SHAPE */
  shape?: ResultShape;
  /** Largest relative difference of a value accepted. @default 1e-6 */
  relTol?: number;
  maxMismatches?: number;
}

/**
 * A run's result checked by DuckDB: table `table` of `db` against the reference result written as
 * Parquet at `referencePath`, both of columns `shape`. The same verdict as {@link compareResults},
 * per value: the same keys on both sides, and each value within `relTol` relative of the
 * reference's (|a - b| / max(|a|, |b|); equal values, NaN with NaN included, count 0; a NULL beside
 * a number, or a non-finite value beside another, is a mismatch). Also fails on a key that appears
 * twice on either side. A mismatch is labelled by its key's values (NULL as `NULL`) joined with a
 * space, and by the column's name after them when there are several value columns.
 *
 * Benchmarks keep the reference on disk rather than as a JS Map: a map of millions of entries in
 * the coordinator's process made every collection of its heap take 0.3-0.9 s in the middle of
 * Smelter's timed runs.
 */
export async function resultCheckSql(db: DuckDb, referencePath: string, o: ResultCheckSqlOptions = {}): Promise<ResultCheck> {
  const { table = "result", shape = QUERY2_SHAPE, relTol = 1e-6, maxMismatches = 5 } = o;
  if (shape.keys.length === 0 || shape.values.length === 0) throw new Error("resultCheckSql: a result shape needs at least one key column and one value column");
  const id = sqlIdentifier;
  const sides = { w: `read_parquet(${sqlString(referencePath)})`, g: id(table) };
  const keyList = shape.keys.map(id).join(", ");
  const label = shape.keys.map((k) => `coalesce(CAST(coalesce(w.${id(k)}, g.${id(k)}) AS VARCHAR), 'NULL')`).join(" || ' ' || ");
  const cells = shape.values.map((v, i) => `SELECT inW, inG, ${shape.values.length > 1 ? `k || ' ' || ${sqlString(v)}` : "k"} AS label, a${i} AS a, b${i} AS b FROM j`);
  const checked = `WITH j AS (
      SELECT w."smelter present" AS inW, g."smelter present" AS inG, ${label} AS k,
        ${shape.values.map((v, i) => `CAST(w.${id(v)} AS DOUBLE) AS a${i}, CAST(g.${id(v)} AS DOUBLE) AS b${i}`).join(", ")}
      FROM (SELECT true AS "smelter present", * FROM ${sides.w}) w FULL OUTER JOIN (SELECT true AS "smelter present", * FROM ${sides.g}) g
        ON ${shape.keys.map((k) => `w.${id(k)} IS NOT DISTINCT FROM g.${id(k)}`).join(" AND ")}),
    cells AS (${cells.join(" UNION ALL ")}),
    checked AS (SELECT *, CASE WHEN inW IS NULL OR inG IS NULL THEN 'Infinity'::DOUBLE WHEN a IS NOT DISTINCT FROM b THEN 0
        WHEN a IS NULL OR b IS NULL OR NOT (isfinite(a) AND isfinite(b)) THEN 'Infinity'::DOUBLE
        ELSE abs(a - b) / greatest(abs(a), abs(b)) END AS rel FROM cells)`;
  const dupes = (side: string) => `(SELECT count(*) FROM ${side}) - (SELECT count(*) FROM (SELECT DISTINCT ${keyList} FROM ${side}))`;
  const s = (await db.all<{ missing: bigint; maxRel: number | null; dupes: bigint; refDupes: bigint }>(
    `${checked} SELECT count(*) FILTER (WHERE inW IS NULL OR inG IS NULL) AS missing, max(rel) FILTER (WHERE inW AND inG) AS maxRel,
       ${dupes(sides.g)} AS dupes, ${dupes(sides.w)} AS refDupes FROM checked`,
  ))[0]!;
  const rows = await db.all<{ label: string; a: number | null; b: number | null; rel: number }>(`${checked} SELECT label, a, b, rel FROM checked WHERE NOT (rel <= ${relTol}) ORDER BY label LIMIT ${maxMismatches}`);
  const mismatches: ResultCheck["mismatches"] = rows.map((r) => ({ prefix: r.label, a: r.a ?? undefined, b: r.b ?? undefined, relError: r.rel }));
  const [dupesGot, dupesRef] = [Number(s.dupes), Number(s.refDupes)];
  if (dupesRef > 0) mismatches.unshift({ prefix: `(${dupesRef} duplicate keys in the reference)`, a: undefined, b: undefined, relError: Number.POSITIVE_INFINITY });
  if (dupesGot > 0) mismatches.unshift({ prefix: `(${dupesGot} duplicate keys in ${table})`, a: undefined, b: undefined, relError: Number.POSITIVE_INFINITY });
  const sameGroups = Number(s.missing) === 0 && dupesGot === 0 && dupesRef === 0;
  const maxRelError = s.maxRel ?? 0;
  return { equal: sameGroups && maxRelError <= relTol, sameGroups, maxRelError, mismatches };
}

/** Wall and CPU seconds of one call of `f`; the CPU is this process's, its threads' (DuckDB's) included. */
export async function timeInProcess<T>(f: () => Promise<T>): Promise<{ wallS: number; cpuS: number; value: T }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wallS, cpuS: (cpu.user + cpu.system) / 1e6, value };
}

/**
 * One run of DuckDB alone in an open database: `sql` timed from sending it to having every result
 * row materialized in JS (runAndReadAll), wall and this process's CPU seconds. The rows come back
 * as `value` for a caller who reads them; others let them go at once.
 */
export function timeDuckdbAlone(db: DuckDb, sql: string) {
  return timeInProcess(() => db.connection.runAndReadAll(sql));
}
