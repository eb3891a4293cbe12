/**
 * `npm run bench cold [-- options]`: Query 2 from the command line, cold, against a cold DuckDB
 * process (issue 15's target: Smelter / DuckDB <= 1.25 on 10M rows of CSV).
 *
 * Each round runs, one after the other (the order alternates round by round):
 * - `node bin/smelter.js query2 --input <dir>/ --prefix-len X --quiet --events <tmp>`: what a user
 *   types; a fresh process that starts its own pool of workers (default: one per core);
 * - `node dist/bench/_duckdb-cold.js`: a fresh process that loads @duckdb/node-api alone and runs
 *   the same query (all cores, the same files, the same reader options) into a table, then prints
 *   the same top rows and group count;
 * - with `--baseline PATH/bin/smelter.js`, the same Smelter command from another build (before /
 *   after in one run).
 * Measured per process: wall time from spawn to exit, and CPU seconds (user + sys) of the process
 * and every descendant it waited for (the pool's workers), read with bash's `times`, and the peak
 * RSS of the process itself (Smelter's coordinator, not its workers; /proc VmHWM). Reported: the
 * medians, their ratio Smelter / DuckDB (and the median of per-round ratios), and where Smelter's
 * wall time went, from its --events file: spawn to job start (node start, imports, DuckDB, listing,
 * planning), job start to the first task running (the pool's start not hidden by then), the map
 * stage, and the tail (merge, printing, closing the pool, exit). One untimed warm-up round first
 * (the page cache then holds the files for every process). Every process's printed top rows and
 * group count are checked against DuckDB's.
 *
 * Data: the query2 benchmark's (bench/_bdb-data.ts), generated once and shared with it.
 * Options: --rows N (10M) --seed S --files F --format csv|parquet --query 2A|2B|2C --runs N (5)
 * --workers N --baseline PATH --data-root DIR --no-docs --no-record --label TEXT
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { badOption, benchArgs, intOption } from "./_args.js";
import { BENCH_DATA_ROOT, bdbData, datasetOf, formatDir } from "./_bdb-data.js";
import { QUERY2_PREFIX_LEN, query2Files, query2Sql, uservisitsSourceSql, type Query2Format } from "./_peers.js";
import { median, record, writeDocsSection } from "./_record.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DUCKDB_COLD = fileURLToPath(new URL("./_duckdb-cold.js", import.meta.url));
const LIMIT = 20;

const args = benchArgs(import.meta.url, "cold", {
  rows: { type: "string", default: "10000000" },
  seed: { type: "string", default: "1" },
  files: { type: "string", default: "8" },
  format: { type: "string", default: "csv" },
  query: { type: "string", default: "2A" },
  runs: { type: "string", default: "5" },
  workers: { type: "string" },
  baseline: { type: "string" },
  "data-root": { type: "string", default: join(BENCH_DATA_ROOT, "query2") },
  "no-docs": { type: "boolean", default: false },
  "no-record": { type: "boolean", default: false },
  label: { type: "string" },
});

function int(name: "rows" | "seed" | "files" | "runs" | "workers"): number {
  return intOption(name, args[name]);
}
const format = args.format as Query2Format;
if (format !== "csv" && format !== "parquet") badOption(`--format must be csv or parquet, got ${args.format}`);
const query = args.query.toUpperCase();
const prefixLen = (QUERY2_PREFIX_LEN as Record<string, number>)[query];
if (prefixLen === undefined) badOption(`--query must be 2A, 2B or 2C, got ${args.query}`);
const runs = int("runs");
const cores = availableParallelism();
const load = () => loadavg().map((x) => +x.toFixed(2));
const log = (msg: string) => void process.stderr.write(`[bench cold] ${msg}\n`);

const data = await bdbData({ table: "uservisits", rows: int("rows"), seed: int("seed"), files: int("files"), root: resolve(args["data-root"]), log });
const dir = formatDir(data, format);
const sql = query2Sql(uservisitsSourceSql(query2Files(dir, format), format), prefixLen);
const work = mkdtempSync(join(tmpdir(), "smelter-bench-cold-"));

interface Contender {
  name: string;
  command: string[];
  /** Smelter: where its --events go (the wall-time breakdown). */
  events?: string;
}
const smelter = (name: string, bin: string): Contender => {
  const events = join(work, `${name}.events.jsonl`);
  const command = [process.execPath, bin, "query2", "--input", `${dir}/`, "--prefix-len", String(prefixLen), "--quiet", "--events", events];
  if (args.workers) command.push("--workers", String(int("workers")));
  return { name, command, events };
};
const contenders: Contender[] = [
  { name: "duckdb", command: [process.execPath, DUCKDB_COLD, String(cores), String(LIMIT), sql] },
  smelter("smelter", join(ROOT, "bin", "smelter.js")),
  ...(args.baseline ? [smelter("baseline", resolve(args.baseline))] : []),
];

interface Run {
  wallS: number;
  cpuS: number;
  /** Peak RSS of the command's own process (Smelter: the coordinator, not its workers), from /proc's VmHWM; undefined off Linux. */
  peakRssMiB?: number;
  /** Smelter only: ms from spawn to job start / from job start to the first task running / the map stage / the tail to exit. */
  phases?: { startupMs: number; poolMs: number; mapsMs: number; tailMs: number };
  stdout: string;
}

/** Runs `command` under bash so that `times` reports the CPU of it and its waited-for descendants. */
function runTimed(command: string[]): Promise<Run & { spawnedAt: number; exitedAt: number }> {
  const timesFile = join(work, "times.txt");
  return new Promise((done, fail) => {
    const spawnedAt = Date.now();
    const t0 = performance.now();
    const child = spawn("bash", ["-c", `"$@"; rc=$?; times > ${JSON.stringify(timesFile)}; exit $rc`, "bash", ...command], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
    // VmHWM is the process's peak RSS so far: polled until the process ends, the last read is its peak
    // but for what it grew in its last 20 ms (the CLI's and DuckDB's peaks come before they print).
    let peakKiB = 0;
    let target: number | undefined;
    const poll = setInterval(() => {
      try {
        target ??= Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/)[0]) || undefined;
        const hwm = target === undefined ? undefined : /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${target}/status`, "utf8"));
        if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
      } catch {
        // Not started yet, already gone, or not Linux.
      }
    }, 20);
    child.on("error", (err) => {
      clearInterval(poll);
      fail(err);
    });
    child.on("close", (code) => {
      clearInterval(poll);
      const wallS = (performance.now() - t0) / 1000;
      if (code !== 0) return fail(new Error(`${command.slice(1, 3).join(" ")} exited with ${code}: ${stderr.trim()}`));
      // `times`: the shell's own user/sys, then its children's (the command and what it waited for).
      const lines = readFileSync(timesFile, "utf8").trim().split("\n");
      const seconds = (lines[1] ?? "").split(/\s+/).map((t) => {
        const m = /^(\d+)m([\d.]+)s$/.exec(t);
        return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
      });
      done({ wallS, cpuS: seconds.reduce((a, b) => a + b, 0), ...(peakKiB > 0 ? { peakRssMiB: peakKiB / 1024 } : {}), stdout, spawnedAt, exitedAt: Date.now() });
    });
  });
}

/** Where Smelter's wall time went, from its events (epoch ms). */
function phases(eventsFile: string, spawnedAt: number, exitedAt: number): Run["phases"] {
  const events = readFileSync(eventsFile, "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as { type: string; time: number; stage?: number });
  const first = (type: string) => events.find((e) => e.type === type)?.time;
  const jobStarted = first("job-started");
  const firstRunning = first("attempt-running");
  const mapDone = events.filter((e) => e.type === "task-succeeded" && e.stage === 1).map((e) => e.time);
  if (jobStarted === undefined || firstRunning === undefined || mapDone.length === 0) return undefined;
  const lastMap = Math.max(...mapDone);
  return { startupMs: Math.round(jobStarted - spawnedAt), poolMs: Math.round(firstRunning - jobStarted), mapsMs: Math.round(lastMap - firstRunning), tailMs: Math.round(exitedAt - lastMap) };
}

async function runOnce(c: Contender): Promise<Run> {
  if (c.events) rmSync(c.events, { force: true });
  const r = await runTimed(c.command);
  return { wallS: r.wallS, cpuS: r.cpuS, ...(r.peakRssMiB !== undefined ? { peakRssMiB: r.peakRssMiB } : {}), stdout: r.stdout, ...(c.events ? { phases: phases(c.events, r.spawnedAt, r.exitedAt) } : {}) };
}

/** The printed result: top rows (prefix -> sum) and the group count. */
function printed(stdout: string): { top: Map<string, number>; groups: number } {
  const top = new Map<string, number>();
  let groups = Number.NaN;
  for (const line of stdout.split("\n")) {
    const g = /^([\d,]+) groups/.exec(line);
    if (g) groups = Number(g[1]!.replaceAll(",", ""));
    const row = /^(\S+)\s+(-?\d[\d.eE+-]*)$/.exec(line.trim());
    if (row) top.set(row[1]!, Number(row[2]));
  }
  return { top, groups };
}

function sameOutput(want: string, got: string): string | undefined {
  const a = printed(want);
  const b = printed(got);
  if (a.groups !== b.groups) return `${b.groups} groups, DuckDB ${a.groups}`;
  if (a.top.size !== b.top.size) return `${b.top.size} top rows, DuckDB ${a.top.size}`;
  for (const [prefix, sum] of a.top) {
    const other = b.top.get(prefix);
    // Smelter prints sums with 6 decimals.
    if (other === undefined || Math.abs(other - sum) > 1e-6 * Math.max(1, Math.abs(sum))) return `top row ${prefix}: ${other} vs DuckDB ${sum}`;
  }
  return undefined;
}

log(`${cores} cores, load ${load().join(" ")}; ${query} on ${data.rows.toLocaleString("en-US")} rows of ${format} (${dir}); ${runs} rounds after a warm-up: ${contenders.map((c) => c.name).join(", ")}`);
const loadStart = load();
const measured = new Map<string, Run[]>(contenders.map((c) => [c.name, []]));
const problems: string[] = [];
try {
  for (let round = 0; round <= runs; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    const got = new Map<string, Run>();
    for (const c of order) {
      const r = await runOnce(c);
      got.set(c.name, r);
      log(`${round === 0 ? "warm-up" : `round ${round}`} ${c.name}: ${r.wallS.toFixed(2)} s wall, ${r.cpuS.toFixed(2)} CPU-s, peak RSS ${r.peakRssMiB?.toFixed(0) ?? "?"} MiB${r.phases ? ` ${JSON.stringify(r.phases)}` : ""} (load ${load().join(" ")})`);
    }
    for (const c of contenders.slice(1)) {
      const wrong = sameOutput(got.get("duckdb")!.stdout, got.get(c.name)!.stdout);
      if (wrong) problems.push(`${c.name} round ${round}: ${wrong}`);
    }
    if (round > 0) for (const [name, r] of got) measured.get(name)!.push(r);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const loadEnd = load();

const duck = measured.get("duckdb")!;
const summary = contenders.map((c) => {
  const rs = measured.get(c.name)!;
  const ph = rs.map((r) => r.phases).filter((p) => p !== undefined);
  const rss = rs.map((r) => r.peakRssMiB).filter((m) => m !== undefined);
  return {
    name: c.name,
    wallS: rs.map((r) => +r.wallS.toFixed(3)),
    cpuS: rs.map((r) => +r.cpuS.toFixed(2)),
    medianWallS: +median(rs.map((r) => r.wallS)).toFixed(3),
    medianCpuS: +median(rs.map((r) => r.cpuS)).toFixed(2),
    wallRatio: +(median(rs.map((r) => r.wallS)) / median(duck.map((r) => r.wallS))).toFixed(2),
    wallRatioOfRounds: +median(rs.map((r, i) => r.wallS / duck[i]!.wallS)).toFixed(2),
    cpuRatio: +(median(rs.map((r) => r.cpuS)) / median(duck.map((r) => r.cpuS))).toFixed(2),
    ...(rss.length ? { peakRssMiB: rss.map((m) => Math.round(m)), medianPeakRssMiB: Math.round(median(rss)) } : {}),
    ...(ph.length ? { phasesMs: Object.fromEntries((["startupMs", "poolMs", "mapsMs", "tailMs"] as const).map((k) => [k, Math.round(median(ph.map((p) => p[k])))])) } : {}),
  };
});

const lines = [
  `${query}, ${data.rows.toLocaleString("en-US")} rows of ${format} (${(data.csvBytes / 2 ** 20).toFixed(0)} MiB CSV) in ${data.files} files, local dir; ${cores} cores; median of ${runs} alternating rounds after a warm-up; load average ${loadStart.join(" ")} at start, ${loadEnd.join(" ")} at end.${args.label ? ` ${args.label}.` : ""}`,
  "",
  "| process | wall (median) | CPU-s (median) | wall / DuckDB (medians; per round) | CPU / DuckDB | peak RSS of the process (median) | spawn to job start | job start to first task running | map stage | tail to exit |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...summary.map((s) => {
    const p = s.phasesMs;
    const ms = (v: number | undefined) => (v === undefined ? "-" : `${v} ms`);
    return `| ${s.name === "duckdb" ? "DuckDB alone (node + @duckdb/node-api)" : s.name === "smelter" ? "smelter query2" : "smelter query2 (baseline build)"} | ${s.medianWallS.toFixed(2)} s | ${s.medianCpuS.toFixed(2)} | ${s.wallRatio.toFixed(2)}; ${s.wallRatioOfRounds.toFixed(2)} | ${s.cpuRatio.toFixed(2)} | ${s.medianPeakRssMiB === undefined ? "-" : `${s.medianPeakRssMiB} MiB`} | ${ms(p?.startupMs)} | ${ms(p?.poolMs)} | ${ms(p?.mapsMs)} | ${ms(p?.tailMs)} |`;
  }),
];
if (problems.length) lines.push("", `DIFFERENT OUTPUT: ${problems.join("; ")}`);
const table = lines.join("\n");
console.log(table);
if (!args["no-record"]) log(`recorded in ${record("cold", { label: args.label, query, format, dataset: datasetOf(data), runs, load: { start: loadStart, end: loadEnd }, contenders: summary, problems })}`);
if (!args["no-docs"]) log(`table written to ${writeDocsSection("cold", "Query 2 from the command line, cold", table)}`);
if (problems.length) process.exitCode = 1;
