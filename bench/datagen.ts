/**
 * `npm run bench datagen [-- options]`: throughput of `smelter datagen uservisits` (--rows N,
 * seed 1) to a local directory, median of R runs:
 * - the generator alone, in this thread: `generateUservisits` consuming every chunk;
 * - the CLI end to end, CSV with --files 1 and 2, Parquet with --files 1 and 2 (not with
 *   `--no-parquet`): the rows/s the command reports (from opening the store to the last rename)
 *   and the whole process's wall time (with Node's start);
 * and checks that --files 1 and 2 write the same bytes (sha256). The load average is recorded
 * before and after every measurement: on a shared machine it matters as much as the code.
 * `--bin` and `--datagen-dir` point at another build (e.g. the code before a change) to compare.
 * Prints a table and appends a JSON line to bench/results/datagen.jsonl, under --label.
 *
 * Options: --rows N (2000000) --runs R (3) --bin PATH (this build's bin/smelter.js)
 * --datagen-dir DIR (this build's dist/src/datagen/) --label TEXT (current) --no-parquet (off)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median, record } from "./_record.js";
import { benchArgs, intOption } from "./_args.js";

const args = benchArgs(import.meta.url, "datagen", {
  rows: { type: "string", default: "2000000" },
  runs: { type: "string", default: "3" },
  bin: { type: "string", default: fileURLToPath(new URL("../../bin/smelter.js", import.meta.url)) },
  "datagen-dir": { type: "string", default: fileURLToPath(new URL("../src/datagen/", import.meta.url)) },
  label: { type: "string", default: "current" },
  "no-parquet": { type: "boolean", default: false },
});
const ROWS = intOption("rows", args.rows);
const RUNS = intOption("runs", args.runs);
const BIN = args.bin;
const DATAGEN_DIR = args["datagen-dir"];
const LABEL = args.label;
const PARQUET = !args["no-parquet"];

interface Row {
  test: string;
  rowsPerSec: number;
  runs: number[];
  wallRowsPerSec?: number;
  /** CPU time of the whole process (all threads) per row, in microseconds: what the load average cannot change much. */
  cpuUsPerRow?: number;
  load: [number, number];
  note?: string;
}
const rows: Row[] = [];
const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

async function generatorAlone(): Promise<void> {
  const mod = (await import(pathToFileURL(join(DATAGEN_DIR, "uservisits.js")).href)) as {
    generateUservisits: (o: { seed: number; rows: number; pages: number }) => Iterable<Uint8Array>;
  };
  const before = load1();
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    let bytes = 0;
    for (const c of mod.generateUservisits({ seed: 1, rows: ROWS, pages: Math.round(ROWS * 0.12) })) bytes += c.byteLength;
    runs.push(Math.round(ROWS / ((performance.now() - t0) / 1000)));
    if (bytes === 0) throw new Error("no bytes generated");
  }
  rows.push({ test: "generator alone (1 thread, generateUservisits)", rowsPerSec: median(runs), runs, cpuUsPerRow: Math.round((1e6 / median(runs)) * 100) / 100, load: [before, load1()], note: "run 1 includes JIT warm-up" });
}

/** Prints the whole process's CPU time (every thread: workers, DuckDB, libuv) when it exits. */
const CPU_HOOK = `data:text/javascript,process.on("exit",()=>{const c=process.cpuUsage();process.stderr.write("[cpu] "+(c.user+c.system)+"\\n")})`;

/** Runs the CLI; returns the rows/s it reports, the process's wall-clock rows/s and its CPU seconds. */
function cli(args: string[]): { reported: number; wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--import", CPU_HOOK, BIN, "datagen", "uservisits", ...args], { encoding: "utf8" });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`smelter datagen failed (${r.status}): ${r.stderr}`);
  const m = /\(([\d,]+) rows\/s\)/.exec(r.stderr);
  if (!m?.[1]) throw new Error(`no rows/s in: ${r.stderr}`);
  // the last line is the main thread's (worker threads that exit normally print the total so far too)
  const cpu = Number([...r.stderr.matchAll(/\[cpu\] (\d+)/g)].at(-1)?.[1] ?? NaN) / 1e6;
  return { reported: Number(m[1].replaceAll(",", "")), wall: Math.round(ROWS / wallS), cpu };
}

async function sha256Dir(dir: string): Promise<string> {
  const h = createHash("sha256");
  for (const f of (await readdir(dir)).filter((n) => n.startsWith("part-")).sort()) h.update(await readFile(join(dir, f)));
  return h.digest("hex");
}

async function endToEnd(format: "csv" | "parquet", files: number, base: string): Promise<string> {
  const out = join(base, `${format}-${files}`);
  const before = load1();
  const runs: number[] = [];
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await rm(out, { recursive: true, force: true });
    const r = cli(["--rows", String(ROWS), "--files", String(files), "--format", format, "--seed", "1", "--out", out]);
    runs.push(r.reported);
    walls.push(r.wall);
    cpus.push(r.cpu);
  }
  rows.push({ test: `CLI ${format}, --files ${files}`, rowsPerSec: median(runs), runs, wallRowsPerSec: median(walls), cpuUsPerRow: Math.round((median(cpus) / ROWS) * 1e8) / 100, load: [before, load1()] });
  return format === "csv" ? sha256Dir(out) : "";
}

const base = await mkdtemp(join(tmpdir(), "smelter-bench-datagen-"));
let sameBytes = false;
try {
  await generatorAlone();
  const one = await endToEnd("csv", 1, base);
  const two = await endToEnd("csv", 2, base);
  sameBytes = one === two;
  if (!sameBytes) console.error(`[bench] --files 1 and 2 wrote different bytes: ${one} vs ${two}`);
  if (PARQUET) {
    await endToEnd("parquet", 1, base);
    await endToEnd("parquet", 2, base);
  }
} finally {
  await rm(base, { recursive: true, force: true });
}

const fmt = (n: number) => n.toLocaleString("en-US");
console.log(`smelter datagen uservisits, ${fmt(ROWS)} rows, seed 1, to a local dir; median of ${RUNS} (${LABEL}: ${BIN})`);
console.log("test".padEnd(50), "rows/s".padStart(11), "runs".padStart(32), "wall rows/s".padStart(12), "CPU us/row".padStart(11), "  load 1m before/after");
for (const r of rows)
  console.log(r.test.padEnd(50), fmt(r.rowsPerSec).padStart(11), r.runs.map(fmt).join(" ").padStart(32), (r.wallRowsPerSec ? fmt(r.wallRowsPerSec) : "").padStart(12), String(r.cpuUsPerRow ?? "").padStart(11), `  ${r.load[0]} / ${r.load[1]}`);
console.log(`--files 1 and --files 2 wrote the same bytes: ${sameBytes}`);
const file = record("datagen", { label: LABEL, bin: BIN, rows: ROWS, runs: RUNS, sameBytes, results: rows });
console.log(`recorded in ${file}`);
