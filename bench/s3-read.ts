/**
 * `npm run bench s3-read [-- options]`: what it costs a worker to read its input through S3
 * (issue 15), apart from DuckDB and from the S3 server. The map tasks' input step alone
 * (materializeSplits, as `smelter.sql.stage` runs it: one store per process, one RangedReader per
 * task) over the Query 2 benchmark's files, on the local dir and through an S3 server on loopback
 * (versitygw from .tools/bin, or the embedded s3rver), measured in CPU-seconds: this process's
 * (the client: AWS SDK, HTTP, copies, temp file writes) and the server's (/proc), per GiB read.
 * CPU-seconds move less with the machine's load than wall time does.
 *
 * Cases: `csv-ranges` (each object cut into `--task-bytes` ranges, as the planner cuts remote
 * inputs), `csv-whole` (one whole object per task) and `parquet` (Query 2's two columns: sparse
 * files of the footer and those column chunks). The same files as `npm run bench query2` at
 * `--rows` (uploaded into the server's `bench` bucket when missing, kept between runs).
 *
 * `--gets socket,sdk` measures the S3 store's two GET paths alternated in one run: `socket` (plain-http
 * endpoints: storage/s3-socket-get.ts) and `sdk` (the AWS SDK's GetObject, as for https endpoints;
 * what every GET used before, and what SMELTER_S3_SOCKET_GET=0 selects).
 *
 * Options: --rows N (5000000) --seed S --files F --server versitygw|s3rver --cases csv-ranges,csv-whole,parquet
 * --gets socket,sdk (socket) --rounds N (3: rounds of [local, S3 per --gets] alternated, median) --task-bytes N (64 MiB)
 * --label TEXT --no-record
 */
import { createReadStream, statSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, loadavg } from "node:os";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { materializeSplits } from "../src/mapreduce/materialize.js";
import { cachedStore } from "../src/storage/cache.js";
import type { ObjectStore } from "../src/storage/contract.js";
import { RangedReader } from "../src/storage/ranged.js";
import { s3Store } from "../src/storage/s3.js";
import { startS3Server } from "../src/storage/server.js";
import { csvDialectSchema } from "../src/splits/dialect.js";
import type { Split } from "../src/splits/split.js";
import { startCompleteS3Server } from "../test/helpers/s3-complete.js";
import { BENCH_DATA_ROOT, bdbData, formatDir } from "./_bdb-data.js";
import { query2Files, type Query2Format } from "./_peers.js";
import { findChildPid, procCpuMs } from "./_query2-measure.js";
import { median, record } from "./_record.js";
import { badOption, benchArgs, intOption } from "./_args.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const args = benchArgs(import.meta.url, "s3-read", {
  rows: { type: "string", default: "5000000" },
  seed: { type: "string", default: "1" },
  files: { type: "string", default: "8" },
  server: { type: "string", default: "versitygw" },
  cases: { type: "string", default: "csv-ranges,csv-whole,parquet" },
  gets: { type: "string", default: "socket" },
  rounds: { type: "string", default: "3" },
  "task-bytes": { type: "string", default: String(64 * MiB) },
  label: { type: "string" },
  "no-record": { type: "boolean", default: false },
});
const int = (name: "rows" | "seed" | "files" | "rounds" | "task-bytes"): number => intOption(name, args[name]);
const [rows, seed, files, rounds, taskBytes] = [int("rows"), int("seed"), int("files"), int("rounds"), int("task-bytes")];
const server = args.server;
if (server !== "versitygw" && server !== "s3rver") badOption(`--server: ${server} is not versitygw or s3rver`);
const CASES = ["csv-ranges", "csv-whole", "parquet"] as const;
type Case = (typeof CASES)[number];
const cases = String(args.cases).split(",").filter(Boolean) as Case[];
for (const c of cases) if (!CASES.includes(c)) badOption(`--cases: ${c} is not one of ${CASES.join(", ")}`);
const GETS = ["socket", "sdk"] as const;
type GetPath = (typeof GETS)[number];
const gets = String(args.gets).split(",").filter(Boolean) as GetPath[];
for (const g of gets) if (!GETS.includes(g)) badOption(`--gets: ${g} is not one of ${GETS.join(", ")}`);
const log = (msg: string): void => void process.stderr.write(`[bench s3-read] ${msg}\n`);
const load = () => loadavg().map((x) => +x.toFixed(2));

const data = await bdbData({ table: "uservisits", rows, seed, files, root: join(BENCH_DATA_ROOT, "query2"), log });

/** One task's splits per case, over the objects of `format/`. */
function tasksOf(c: Case, objects: { key: string; size: number }[]): Split[][] {
  if (c === "parquet") return objects.map((o) => [{ key: o.key, format: "parquet", range: { start: 0, end: o.size }, fileSize: o.size }]);
  if (c === "csv-whole") return objects.map((o) => [{ key: o.key, format: "csv", range: { start: 0, end: o.size }, fileSize: o.size }]);
  return objects.flatMap((o) => {
    const n = Math.max(1, Math.round(o.size / taskBytes));
    return Array.from({ length: n }, (_, i) => [{ key: o.key, format: "csv" as const, range: { start: Math.floor((o.size * i) / n), end: Math.floor((o.size * (i + 1)) / n) }, fileSize: o.size }]);
  });
}

const formatOf = (c: Case): Query2Format => (c === "parquet" ? "parquet" : "csv");
const objectsOf = (format: Query2Format) => query2Files(formatDir(data, format), format).map((path) => ({ key: `${format}/${basename(path)}`, path, size: statSync(path).size }));

interface Measured {
  cpuS: number;
  serverCpuS?: number;
  wallS: number;
  bytes: number;
  tasks: number;
}

/** Every task of a case, one after another, each into its own temp dir (removed after): CPU of this process and of the server. */
async function measure(store: ObjectStore, c: Case, serverPid: number | undefined): Promise<Measured> {
  const tasks = tasksOf(c, objectsOf(formatOf(c)).map(({ key, size }) => ({ key, size })));
  const root = await mkdtemp(join(tmpdir(), "smelter-s3read-"));
  const s0 = serverPid !== undefined ? procCpuMs(serverPid) : undefined;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let bytes = 0;
  const hedges = { fired: 0, won: 0, requests: 0 };
  try {
    for (const [i, splits] of tasks.entries()) {
      const dir = join(root, `t${i}`);
      await mkdir(dir);
      const reader = new RangedReader(store);
      await materializeSplits(store, splits, dir, { reader, dialect: csvDialectSchema.parse({}), ...(c === "parquet" ? { columns: ["sourceIP", "adRevenue"] } : {}), onInPlaceBytes: (n) => (bytes += n) });
      bytes += reader.stats.bytesRead;
      hedges.fired += reader.stats.hedgesFired;
      hedges.won += reader.stats.hedgesWon;
      hedges.requests += reader.stats.readRequests;
      await rm(dir, { recursive: true });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(c0);
  if (hedges.requests) log(`  ${c}: ${hedges.requests} GETs, ${hedges.fired} hedges (${hedges.won} won)`);
  const s1 = serverPid !== undefined ? procCpuMs(serverPid) : undefined;
  return { cpuS: (cpu.user + cpu.system) / 1e6, wallS: (performance.now() - t0) / 1000, bytes, tasks: tasks.length, ...(s0 !== undefined && s1 !== undefined ? { serverCpuS: (s1 - s0) / 1000 } : {}) };
}

let stop: (() => Promise<void>) | undefined;
const results: Record<string, unknown>[] = [];
const lines: string[] = [];
try {
  const dir = join(BENCH_DATA_ROOT, "query2", `${server === "s3rver" ? "s3" : "vgw"}-${rows}-s${seed}-f${files}`);
  await mkdir(dir, { recursive: true });
  let pid: number | undefined;
  if (server === "versitygw") {
    const vgw = await startCompleteS3Server({ dir, buckets: ["bench"] });
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: vgw.endpoint, AWS_ACCESS_KEY_ID: vgw.accessKeyId, AWS_SECRET_ACCESS_KEY: vgw.secretAccessKey, AWS_REGION: vgw.region });
    stop = () => vgw.stop();
    pid = findChildPid("versitygw");
  } else {
    const s = await startS3Server({ dir, buckets: ["bench"] });
    Object.assign(process.env, s.env);
    stop = () => s.stop();
    pid = findChildPid("--smelter-s3rver-child");
  }
  const s3 = await cachedStore("s3://bench");
  /** The S3 store of each GET path (the environment selects it when the store is made). */
  const viaGet = new Map<GetPath, ObjectStore>();
  for (const g of gets) {
    const saved = process.env.SMELTER_S3_SOCKET_GET;
    process.env.SMELTER_S3_SOCKET_GET = g === "sdk" ? "0" : "1";
    viaGet.set(g, s3Store({ bucket: "bench" }));
    if (saved === undefined) delete process.env.SMELTER_S3_SOCKET_GET;
    else process.env.SMELTER_S3_SOCKET_GET = saved;
  }
  const local = await cachedStore(pathToFileURL(dirname(formatDir(data, "csv"))).href);
  for (const format of [...new Set(cases.map(formatOf))]) {
    const have = new Map<string, number>();
    for await (const o of s3.list(`${format}/`)) have.set(o.key, o.size);
    for (const f of objectsOf(format)) if (have.get(f.key) !== f.size) {
      log(`uploading ${f.key}`);
      await s3.putStream(f.key, createReadStream(f.path, { highWaterMark: 8 * MiB }));
    }
  }
  log(`${server} pid ${pid ?? "?"}; load ${load().join(" ")}`);
  lines.push(`Through ${server} on loopback, ${rows.toLocaleString("en-US")} rows; ${rounds} rounds of [local dir, S3] (median); load ${load().join(" ")} at start.${args.label ? ` ${args.label}.` : ""}`, "");
  lines.push("| case | GET path | tasks | GiB read | client CPU-s local / S3 | client CPU-s/GiB (S3 - local) | server CPU-s/GiB | wall s local / S3 |", "|---|---|---|---|---|---|---|---|");
  for (const c of cases) {
    for (const g of gets) await measure(viaGet.get(g)!, c, pid); // warm-up: connections, page cache
    const l: Measured[] = [];
    const r = new Map<GetPath, Measured[]>(gets.map((g) => [g, []]));
    for (let i = 0; i < rounds; i++) {
      l.push(await measure(local, c, undefined));
      for (const g of gets) {
        const m = await measure(viaGet.get(g)!, c, pid);
        r.get(g)!.push(m);
        log(`${c} round ${i + 1}: local ${l[i]!.cpuS.toFixed(2)} CPU-s, S3 (${g}) ${m.cpuS.toFixed(2)} CPU-s + server ${m.serverCpuS?.toFixed(2)} (${(m.bytes / MiB).toFixed(0)} MiB, ${m.wallS.toFixed(2)} s); load ${load().join(" ")}`);
      }
    }
    const m = (xs: Measured[], f: (x: Measured) => number) => median(xs.map(f));
    for (const g of gets) {
      const rs = r.get(g)!;
      const gib = rs[0]!.bytes / GiB;
      const row = {
        case: c,
        get: g,
        tasks: rs[0]!.tasks,
        gib: +gib.toFixed(3),
        localCpuS: +m(l, (x) => x.cpuS).toFixed(2),
        s3CpuS: +m(rs, (x) => x.cpuS).toFixed(2),
        clientCpuSPerGiB: +((m(rs, (x) => x.cpuS) - m(l, (x) => x.cpuS)) / gib).toFixed(2),
        serverCpuSPerGiB: +(m(rs, (x) => x.serverCpuS ?? Number.NaN) / gib).toFixed(2),
        localWallS: +m(l, (x) => x.wallS).toFixed(2),
        s3WallS: +m(rs, (x) => x.wallS).toFixed(2),
      };
      results.push(row);
      lines.push(`| ${c} | ${g} | ${row.tasks} | ${row.gib.toFixed(2)} | ${row.localCpuS} / ${row.s3CpuS} | ${row.clientCpuSPerGiB} | ${row.serverCpuSPerGiB} | ${row.localWallS} / ${row.s3WallS} |`);
    }
  }
  for (const store of viaGet.values()) await store.close();
} finally {
  await stop?.();
}
lines.push("", `load ${load().join(" ")} at end.`);
console.log(lines.join("\n"));
if (!args["no-record"]) log(`recorded in ${record("s3-read", { label: args.label, server, gets, rows, seed, files, taskBytes, load: load(), results })}`);
process.exit(0);
