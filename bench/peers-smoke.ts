/**
 * `npm run bench peers-smoke [-- options]`: Query 2 (2A/2B/2C) on CSV and Parquet through DuckDB
 * alone and every available peer (Polars, DataFusion, chDB, Lithops localhost), each result
 * checked against DuckDB's. Prints a table and appends a JSON line to bench/results/peers-smoke.jsonl.
 *
 * Data (one of):
 *   (default)          `smelter datagen uservisits --rows 100000 --files 4` as CSV and as Parquet
 *   --rows N --files F  the same with other sizes
 *   --tiny             the benchmark's real tiny data (test/fixtures/bdb-tiny), Parquet via DuckDB
 *   --tile K           with --tiny: each tiny file repeated K times (1M rows at K=100)
 *   --input DIR        your CSV dir (part-NNNNN); Parquet converted with DuckDB (or --parquet DIR)
 * Other: --runs 5 --warmup 1 --engines polars,datafusion,chdb,lithops --queries 8,10,12
 *        --formats csv,parquet --keep (keep the generated data) --verbose
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDuckDb, sqlString } from "../src/duckdb/index.js";
import { benchArgs } from "./_args.js";
import { compareResults, duckdbAlone, isUnavailable, PEER_ENGINES, PEERS_VENV, QUERY2_PREFIX_LEN, query2Files, runPeer, uservisitsSourceSql } from "./_peers.js";
import type { PeerEngine, Query2Format, Query2Timing } from "./_peers.js";
import { record } from "./_record.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TINY = join(ROOT, "test", "fixtures", "bdb-tiny", "uservisits");

const args = benchArgs(import.meta.url, "peers-smoke", {
    rows: { type: "string", default: "100000" },
    files: { type: "string", default: "4" },
    tiny: { type: "boolean", default: false },
    tile: { type: "string", default: "1" },
    input: { type: "string" },
    parquet: { type: "string" },
    runs: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    engines: { type: "string", default: PEER_ENGINES.join(",") },
    queries: { type: "string", default: "8,10,12" },
    formats: { type: "string", default: "csv,parquet" },
    keep: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  });

const runs = Number(args.runs);
const warmup = Number(args.warmup);
const engines = args.engines.split(",").filter(Boolean) as PeerEngine[];
for (const e of engines) if (!PEER_ENGINES.includes(e)) throw new Error(`unknown engine ${e}: one of ${PEER_ENGINES.join(", ")}`);
const queries = args.queries.split(",").map(Number);
const formats = args.formats.split(",") as Query2Format[];
const QNAME: Record<number, string> = Object.fromEntries(Object.entries(QUERY2_PREFIX_LEN).map(([q, x]) => [x, q]));

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** CSV to Parquet, one file for one file, typed columns (adRevenue FLOAT), zstd. */
async function toParquet(csvDir: string, outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const db = await openDuckDb();
  try {
    for (const f of query2Files(csvDir, "csv")) {
      const out = join(outDir, `${basename(f).replace(/\.csv$/, "")}.parquet`);
      await db.run(`COPY (SELECT * FROM ${uservisitsSourceSql([f], "csv")}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`);
    }
  } finally {
    db.close();
  }
}

function datagen(rows: number, files: number, format: Query2Format, out: string): void {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "smelter.js"), "datagen", "uservisits", "--rows", String(rows), "--files", String(files), "--format", format, "--out", out], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`smelter datagen failed (exit ${r.status})`);
}

function hasDatagen(): boolean {
  const r = spawnSync(process.execPath, [join(ROOT, "bin", "smelter.js"), "datagen", "--help"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("uservisits");
}

const work = await mkdtemp(join(tmpdir(), "smelter-peers-smoke-"));
let csvDir: string;
let parquetDir: string;
let dataset: Record<string, unknown>;
if (args.input !== undefined) {
  csvDir = args.input;
  parquetDir = args.parquet ?? join(work, "parquet");
  if (args.parquet === undefined && formats.includes("parquet")) await toParquet(csvDir, parquetDir);
  dataset = { source: "input", csv: csvDir };
} else if (args.tiny || !hasDatagen()) {
  // The benchmark's real tiny data, copied (K times over with --tile K) into a temp dir.
  const tile = Number(args.tile);
  csvDir = join(work, "csv");
  parquetDir = join(work, "parquet");
  mkdirSync(csvDir, { recursive: true });
  let n = 0;
  for (let k = 0; k < tile; k++) {
    for (const name of readdirSync(TINY).filter((f) => f.startsWith("part-")).sort()) {
      writeFileSync(join(csvDir, `part-${String(n++).padStart(5, "0")}`), readFileSync(join(TINY, name)));
    }
  }
  if (formats.includes("parquet")) await toParquet(csvDir, parquetDir);
  dataset = { source: "bdb-tiny", tile, files: n, rows: 10_000 * tile };
} else {
  const rows = Number(args.rows);
  const files = Number(args.files);
  csvDir = join(work, "csv");
  parquetDir = join(work, "parquet");
  log(`generating ${rows} uservisits rows in ${files} files (smelter datagen) into ${work}`);
  datagen(rows, files, "csv", csvDir);
  if (formats.includes("parquet")) datagen(rows, files, "parquet", parquetDir);
  dataset = { source: "datagen", rows, files, seed: 1 };
}

interface Row {
  engine: string;
  version?: string;
  format: Query2Format;
  query: string;
  prefixLen: number;
  medianS?: number;
  runsS?: number[];
  ratioToDuckdb?: number;
  groups?: number;
  sameAnswer?: boolean;
  maxRelError?: number;
  maxRssMiB?: number;
  maxRssChildrenMiB?: number;
  workers?: number;
  unavailable?: string;
}

const rows: Row[] = [];
const mib = (kb: number) => Math.round(kb / 1024);
for (const format of formats) {
  const input = format === "csv" ? csvDir : parquetDir;
  for (const prefixLen of queries) {
    const query = QNAME[prefixLen] ?? `X=${prefixLen}`;
    log(`${query} ${format}: duckdb alone...`);
    const base: Query2Timing = await duckdbAlone({ input, format, prefixLen, runs, warmup });
    rows.push({ engine: "duckdb", version: base.version, format, query, prefixLen, medianS: base.medianS, runsS: base.runsS, ratioToDuckdb: 1, groups: base.groups, sameAnswer: true, maxRelError: 0, maxRssMiB: mib(base.maxRssKb), workers: base.workers });
    for (const engine of engines) {
      log(`${query} ${format}: ${engine}...`);
      const r = await runPeer(engine, { input, format, prefixLen, runs, warmup, verbose: args.verbose });
      if (isUnavailable(r)) {
        rows.push({ engine, format, query, prefixLen, unavailable: r.unavailable });
        continue;
      }
      const cmp = compareResults(base.result, r.result);
      if (!cmp.equal) log(`  ${engine} differs from duckdb: ${JSON.stringify({ ...cmp, mismatches: cmp.mismatches.slice(0, 3) })}`);
      rows.push({
        engine, version: r.version, format, query, prefixLen, medianS: r.medianS, runsS: r.runsS, ratioToDuckdb: r.medianS / base.medianS,
        groups: r.groups, sameAnswer: cmp.equal, maxRelError: cmp.maxRelError, maxRssMiB: mib(r.maxRssKb), maxRssChildrenMiB: mib(r.maxRssChildrenKb), workers: r.workers,
      });
    }
  }
}

const header = ["engine", "format", "query", "median s", "x DuckDB", "groups", "same answer?", "peak RSS MiB"];
const table = rows.map((r) =>
  r.unavailable !== undefined
    ? [r.engine, r.format, r.query, "-", "-", "-", `unavailable: ${r.unavailable}`, "-"]
    : [r.engine, r.format, r.query, r.medianS!.toFixed(3), r.ratioToDuckdb!.toFixed(2), String(r.groups), r.sameAnswer ? `yes (${r.maxRelError!.toExponential(1)})` : "NO", r.maxRssChildrenMiB ? `${r.maxRssMiB} (+${r.maxRssChildrenMiB} child)` : r.engine === "duckdb" ? `${r.maxRssMiB}*` : String(r.maxRssMiB)],
);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => (t[i] ?? "").length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(`Query 2 peers smoke: ${JSON.stringify(dataset)}, median of ${runs} after ${warmup} warm-up`);
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const t of table) console.log(line(t));
console.log("* DuckDB alone runs inside this Node process: its figure is the process's peak so far (all earlier runs too).");
console.log("  A peer's is its own Python process; Lithops adds its largest reaped task process (child).");

const versions = Object.fromEntries(rows.filter((r) => r.version).map((r) => [r.engine, r.version]));
const installStatus = join(PEERS_VENV, "peers.json");
const install = existsSync(installStatus) ? (JSON.parse(readFileSync(installStatus, "utf8")) as unknown) : null;
const file = record("peers-smoke", { dataset, runs, warmup, versions, install, rows });
console.log(`recorded in ${file}`);
const wrong = rows.filter((r) => r.sameAnswer === false);
if (!args.keep) await rm(work, { recursive: true, force: true });
else console.log(`data kept in ${work}`);
if (wrong.length > 0) {
  console.error(`DIFFERENT ANSWERS: ${wrong.map((r) => `${r.engine} ${r.format} ${r.query}`).join(", ")}`);
  process.exitCode = 1;
}
