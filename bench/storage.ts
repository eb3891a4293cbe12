/**
 * `npm run bench storage [-- options]`: object storage throughput.
 * - GET and PUT of one large object (--size MiB) against the embedded S3 server (s3rver, loopback)
 *   and a local directory: single request vs parallel (ranged GETs / multipart parts, 8 at once),
 *   median of --runs;
 * - small GETs (256 KiB): latency p50/p95, one at a time and 16 at once;
 * - hedged reads: a 64-part read (64 MiB, whatever --size) over the embedded server with an added
 *   14 ms + 100 MB/s per GET and injected stragglers (every 20th GET +1 s), with vs without
 *   hedging, --runs runs each.
 * Prints a table and appends a JSON line to bench/results/storage.jsonl.
 *
 * Options: --size MiB (64) --runs N (3)
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import type { ObjectStore } from "../src/storage/contract.js";
import { delayedStore } from "../src/storage/delayed.js";
import { localStore } from "../src/storage/local.js";
import { RangedReader } from "../src/storage/ranged.js";
import { s3Store } from "../src/storage/s3.js";
import { startS3Server } from "../src/storage/server.js";
import { md5Base64 } from "../src/storage/util.js";
import { median, record } from "./_record.js";
import { badOption, benchArgs, intOption } from "./_args.js";

const MiB = 1024 * 1024;
const args = benchArgs(import.meta.url, "storage", {
  size: { type: "string", default: "64" },
  runs: { type: "string", default: "3" },
});
const SIZE = Number(args.size) * MiB;
if (!Number.isInteger(SIZE) || SIZE < 1) badOption(`--size must be a positive number of MiB (whole bytes), got ${args.size}`);
const RUNS = intOption("runs", args.runs);
const PART = 8 * MiB;
const PARALLEL = 8;

interface Row {
  store: string;
  test: string;
  value: number;
  unit: string;
  note?: string;
}
const rows: Row[] = [];

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
async function medianMs(fn: () => Promise<unknown>, runs = RUNS): Promise<number> {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await timeMs(fn));
  return median(times);
}
const mbps = (bytes: number, ms: number): number => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;

async function parallelPut(store: ObjectStore, key: string, data: Uint8Array): Promise<void> {
  const mp = store.multipart!;
  const id = await mp.create(key);
  const limit = pLimit(PARALLEL);
  const parts = await Promise.all(
    Array.from({ length: Math.ceil(data.length / PART) }, (_, i) =>
      limit(() => {
        const body = data.subarray(i * PART, (i + 1) * PART);
        return mp.uploadPart(key, id, i + 1, body, { contentMd5: md5Base64(body) });
      }),
    ),
  );
  await mp.complete(key, id, parts);
}

async function throughput(name: string, store: ObjectStore, data: Uint8Array): Promise<void> {
  const put1 = await medianMs(() => store.put("bench/big-1", data));
  const putN = await medianMs(() => parallelPut(store, "bench/big-n", data));
  const get1 = await medianMs(() => store.get("bench/big-1"));
  const getN = await medianMs(() => new RangedReader(store, { partSize: PART, concurrency: PARALLEL, hedgeAfter: 0 }).read("bench/big-n"));
  rows.push(
    { store: name, test: `PUT ${SIZE / MiB} MiB, 1 request`, value: mbps(SIZE, put1), unit: "MB/s" },
    { store: name, test: `PUT ${SIZE / MiB} MiB, ${PARALLEL} parts at once`, value: mbps(SIZE, putN), unit: "MB/s" },
    { store: name, test: `GET ${SIZE / MiB} MiB, 1 request`, value: mbps(SIZE, get1), unit: "MB/s" },
    { store: name, test: `GET ${SIZE / MiB} MiB, ${PARALLEL} ranges at once`, value: mbps(SIZE, getN), unit: "MB/s" },
  );
  const small = randomBytes(256 * 1024);
  for (let i = 0; i < 64; i++) await store.put(`bench/small/${i}`, small);
  const one: number[] = [];
  for (let i = 0; i < 64; i++) one.push(await timeMs(() => store.get(`bench/small/${i}`)));
  const limit = pLimit(16);
  const many: number[] = [];
  const wall = await timeMs(() => Promise.all(Array.from({ length: 256 }, (_, i) => limit(async () => many.push(await timeMs(() => store.get(`bench/small/${i % 64}`)))))));
  rows.push(
    { store: name, test: "GET 256 KiB, 1 at a time: p50", value: round(median(one)), unit: "ms", note: `p95 ${round(p95(one))} ms` },
    { store: name, test: "GET 256 KiB, 16 at once", value: Math.round(256 / (wall / 1000)), unit: "req/s", note: `p50 ${round(median(many))} ms, p95 ${round(p95(many))} ms` },
  );
  await store.deletePrefix("bench/");
}

async function hedging(store: ObjectStore): Promise<void> {
  const data = randomBytes(64 * MiB);
  await store.put("bench/hedge", data);
  for (const hedgeAfter of [0, 3, 2]) {
    const times: number[] = [];
    const stats = { hedgesFired: 0, hedgesWon: 0, readRequests: 0 };
    for (let run = 0; run < RUNS; run++) {
      const slow = delayedStore(store, { latencyMs: 14, bandwidth: 100e6, slow: (r) => (r.index % 20 === 7 ? 1000 : 0) });
      const reader = new RangedReader(slow, { partSize: MiB, concurrency: PARALLEL, hedgeAfter });
      times.push(await timeMs(() => reader.read("bench/hedge", { range: { start: 0, end: data.length } })));
      for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] += reader.stats[k];
    }
    rows.push({
      store: "s3rver + 14 ms, 100 MB/s per GET, every 20th GET +1 s",
      test: `64 x 1 MiB ranged read, ${PARALLEL} at once, ${hedgeAfter ? `hedged at ${hedgeAfter}x expected` : "no hedging"}`,
      value: Math.round(median(times)),
      unit: "ms",
      note: `max ${Math.round(Math.max(...times))} ms; ${stats.readRequests} GETs, ${stats.hedgesFired} hedges, ${stats.hedgesWon} won`,
    });
  }
  // The floor: the same read with no stragglers at all.
  const clean = delayedStore(store, { latencyMs: 14, bandwidth: 100e6 });
  const t = await medianMs(() => new RangedReader(clean, { partSize: MiB, concurrency: PARALLEL, hedgeAfter: 0 }).read("bench/hedge"));
  rows.push({ store: "s3rver + 14 ms, 100 MB/s per GET, no stragglers", test: `64 x 1 MiB ranged read, ${PARALLEL} at once (the floor)`, value: Math.round(t), unit: "ms" });
  await store.delete("bench/hedge");
}

const round = (x: number): number => Math.round(x * 10) / 10;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

const data = randomBytes(SIZE);
const server = await startS3Server({ buckets: ["bench"] });
const localDir = await mkdtemp(join(tmpdir(), "smelter-bench-"));
try {
  const s3 = s3Store({ bucket: "bench", endpoint: server.endpoint, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
  process.stderr.write("embedded S3 server...\n");
  await throughput("embedded S3 (s3rver)", s3, data);
  process.stderr.write("local directory...\n");
  await throughput("local directory", localStore(localDir), data);
  process.stderr.write("hedged reads...\n");
  await hedging(s3);
  await s3.close();
} finally {
  await server.stop();
  await rm(localDir, { recursive: true, force: true });
}

const w = [Math.max(...rows.map((r) => r.store.length)), Math.max(...rows.map((r) => r.test.length))];
for (const r of rows) console.log(`${r.store.padEnd(w[0]!)}  ${r.test.padEnd(w[1]!)}  ${String(r.value).padStart(8)} ${r.unit.padEnd(5)} ${r.note ?? ""}`);
console.log(`recorded in ${record("storage", { sizeMiB: SIZE / MiB, runs: RUNS, partMiB: PART / MiB, parallel: PARALLEL, rows })}`);
