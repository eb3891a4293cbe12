/**
 * `npm run bench parallel-upload [-- options]`: time to assemble one object of --size MiB from
 * many tasks (docs/parallel-upload.md) on the threads backend (--workers threads), against a local
 * directory, the complete S3 server (versitygw, `npm run setup:s3`) and the embedded s3rver:
 * - 8 large partitions (parts from the tasks, nothing through the coordinator);
 * - 64 small partitions (every byte staged, read back and re-uploaded by the coordinator);
 * - baseline: one writer streaming the same bytes with `putStream`.
 * Each is the median of --runs runs. Prints a table and appends a JSON line to
 * bench/results/parallel-upload.jsonl.
 *
 * Options: --size MiB (100) --runs N (3) --workers W (2)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadsBackend } from "../src/backends/index.js";
import { parallelUploadJob } from "../src/outputs/parallel-upload-job.js";
import { Manager } from "../src/scheduler/manager.js";
import type { ObjectStore } from "../src/storage/contract.js";
import { localStore } from "../src/storage/local.js";
import { s3Store } from "../src/storage/s3.js";
import { startS3Server } from "../src/storage/server.js";
import { generateBytes, UPLOAD_PARTITION_WORKER } from "../src/builtin-workers/upload-partition.js";
import { startCompleteS3Server } from "../test/helpers/s3-complete.js";
import { median, record } from "./_record.js";
import { badOption, benchArgs, intOption } from "./_args.js";

const MiB = 1024 * 1024;
const args = benchArgs(import.meta.url, "parallel-upload", {
  size: { type: "string", default: "100" },
  runs: { type: "string", default: "3" },
  workers: { type: "string", default: "2" },
});
const SIZE = Number(args.size) * MiB;
if (!Number.isInteger(SIZE) || SIZE < 1) badOption(`--size must be a positive number of MiB (whole bytes), got ${args.size}`);
const RUNS = intOption("runs", args.runs);
const WORKERS = intOption("workers", args.workers);
const ENTRY = new URL("../src/builtin-workers/upload-partition.js", import.meta.url);

interface Row {
  store: string;
  test: string;
  ms: number;
  mbps: number;
  tasksMs?: number;
  completeMs?: number;
  coordinatorMiB?: number;
}
const rows: Row[] = [];
const mbps = (ms: number): number => Math.round((SIZE / 1e6 / (ms / 1000)) * 10) / 10;

async function bench(name: string, store: ObjectStore, taskEnv: Record<string, string>): Promise<void> {
  const manager = new Manager({ backend: threadsBackend({ entry: ENTRY, workers: WORKERS, env: taskEnv }) });
  try {
    for (const partitions of [8, 64]) {
      const sizes = Array.from({ length: partitions }, (_, i) => Math.floor((SIZE * (i + 1)) / partitions) - Math.floor((SIZE * i) / partitions));
      const sources = sizes.map((bytes, i) => ({ kind: "generate" as const, bytes, seed: i }));
      const runs = [];
      for (let r = 0; r < RUNS; r++) {
        const t0 = performance.now();
        const s = await parallelUploadJob(manager, store, `bench/pu-${partitions}-${r}`, sources, UPLOAD_PARTITION_WORKER);
        runs.push({ ms: performance.now() - t0, tasksMs: s.tasksMs, completeMs: s.completeMs, coordinatorMiB: s.coordinatorBytes / MiB });
        await store.delete(`bench/pu-${partitions}-${r}`);
      }
      const ms = median(runs.map((x) => x.ms));
      rows.push({ store: name, test: `${partitions} partitions of ${(SIZE / partitions / MiB).toFixed(2)} MiB`, ms: Math.round(ms), mbps: mbps(ms), tasksMs: median(runs.map((x) => x.tasksMs)), completeMs: median(runs.map((x) => x.completeMs)), coordinatorMiB: Math.round(runs[0]!.coordinatorMiB) });
    }
    const times = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      await store.putStream(`bench/single-${r}`, generateBytes(1, SIZE));
      times.push(performance.now() - t0);
      await store.delete(`bench/single-${r}`);
    }
    const ms = median(times);
    rows.push({ store: name, test: "one writer, putStream (baseline)", ms: Math.round(ms), mbps: mbps(ms) });
  } finally {
    await manager.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), "smelter-bench-pu-"));
try {
  await bench("local dir", localStore(dir), {});
  for (const [name, start] of [
    ["versitygw", () => startCompleteS3Server({ buckets: ["bench"] })],
    ["s3rver", () => startS3Server({ buckets: ["bench"] })],
  ] as const) {
    const server = await start();
    try {
      const creds = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
      const env = { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: server.region, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey };
      await bench(name, s3Store({ bucket: "bench", endpoint: server.endpoint, region: server.region, credentials: creds }), env);
    } finally {
      await server.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`parallel upload of ${SIZE / MiB} MiB, ${WORKERS} worker threads, median of ${RUNS}`);
console.table(rows);
console.log(`recorded in ${record("parallel-upload", { sizeMiB: SIZE / MiB, workers: WORKERS, runs: RUNS, rows })}`);
