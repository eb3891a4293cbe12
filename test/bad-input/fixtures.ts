/**
 * The bad inputs, made small and cheap in a temp directory (a 17 MiB record is a sparse file),
 * and the servers the corpus shares: one embedded S3 server (bucket `bad`), one silent endpoint,
 * one closed port.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDuckDb } from "../../src/duckdb/index.js";
import { sqlString } from "../../src/duckdb/sql.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server } from "../../src/storage/server.js";
import { BDB_TINY } from "../helpers/bdb-tiny.js";
import { listenOnLoopback } from "../tooling/listen.js";
import { startSilentServer } from "../tooling/silent-server.js";
import { startServers } from "../helpers/test-servers.js";
import type { CorpusContext } from "./harness.js";

/** One directory per table, each holding one object. */
const CSV_TABLES: Record<string, string | Buffer> = {
  good: "a,b\n1,2\n3,4\n",
  ragged: "a,b\n1,2\n3,4,5\n6\n",
  quote: 'a,b\n1,"unterminated\n3,4\n',
  types: "a,b\n1,2\nabc,4\n5,6\nx,y\n",
  utf8: Buffer.concat([Buffer.from("a,b\n1,"), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from("\n3,4\n")]),
  headeronly: "a,b\n",
  emptyobj: "",
  dates: "a,d\n1,2021-02-30\n",
};

export async function buildFixtures(): Promise<{ ctx: CorpusContext; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "smelter-bad-input-"));
  for (const [name, body] of Object.entries(CSV_TABLES)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "x.csv"), body);
  }
  mkdirSync(join(dir, "emptydir"));
  // A record over the 16 MiB limit, made cheaply: a sparse file of 17 MiB with no line break.
  mkdirSync(join(dir, "hugerecord"));
  writeFileSync(join(dir, "hugerecord", "x.csv"), "a\n");
  truncateSync(join(dir, "hugerecord", "x.csv"), 17 << 20);
  // Parquet: a good one, then broken copies.
  for (const d of ["pq", "pqtrunc", "pqmagic", "pqnot", "pqempty", "pqmid"]) mkdirSync(join(dir, d));
  const db = await openDuckDb({ threads: 1 });
  try {
    await db.run(`COPY (SELECT range AS a, range * 2 AS b, 'v' || range AS s FROM range(2000)) TO ${sqlString(join(dir, "pq", "x.parquet"))} (FORMAT parquet, ROW_GROUP_SIZE 500)`);
  } finally {
    db.close();
  }
  const good = readFileSync(join(dir, "pq", "x.parquet"));
  writeFileSync(join(dir, "pqtrunc", "x.parquet"), good.subarray(0, Math.floor(good.length / 2)));
  const magic = Buffer.from(good);
  magic.write("PAR0", magic.length - 4);
  writeFileSync(join(dir, "pqmagic", "x.parquet"), magic);
  writeFileSync(join(dir, "pqnot", "x.parquet"), "a,b\n1,2\n");
  writeFileSync(join(dir, "pqempty", "x.parquet"), "");
  // The footer intact, a data page zeroed: the file lists and plans, then fails while read.
  const mid = Buffer.from(good);
  mid.fill(0, 4, Math.floor(mid.length / 2));
  writeFileSync(join(dir, "pqmid", "x.parquet"), mid);
  // query2's input: the tiny uservisits, and rankings given in its place (wrong columns).
  mkdirSync(join(dir, "uv"));
  copyFileSync(join(BDB_TINY, "uservisits", "part-00000"), join(dir, "uv", "part-00000"));
  // Events files for report / logs.
  writeFileSync(join(dir, "garbage.jsonl"), "this is not json\n{\"also\": \"not an event\"}\n");
  writeFileSync(join(dir, "empty.jsonl"), "");
  writeFileSync(join(dir, "prices-bad.json"), "{ not json");
  writeFileSync(join(dir, "prices-wrong.json"), JSON.stringify({ lambda: { gbSecond: "cheap" } }));
  writeFileSync(join(dir, "exists.csv"), "already here\n");
  writeFileSync(join(dir, "afile"), "a file, not a directory\n");

  // A real events file (report and logs cases), from the smallest job there is.
  const pi = spawnSync(process.execPath, [new URL("../../../bin/smelter.js", import.meta.url).pathname, "pi", "--tasks", "2", "--samples", "1000", "--stragglers", "0", "--backend", "inline", "-q", "--events", join(dir, "events.jsonl")], { encoding: "utf8", timeout: 60_000 });
  if (pi.status !== 0) throw new Error(`smelter pi for the events fixture failed: ${pi.stderr}`);
  const full = mountFullDisk(join(dir, "full"));

  const servers = await startServers({ s3: () => startS3Server({ buckets: ["bad"] }), silent: () => startSilentServer() });
  // A port where nothing listens, freed after the servers took theirs: freed before, the silent server could be given it
  // (a CI run got "no response within 500 ms" from it instead of "connection refused").
  const closedServer = createServer();
  const closedPort = await listenOnLoopback(closedServer);
  await new Promise<void>((resolve) => closedServer.close(() => resolve()));
  const bucket = s3Store({ bucket: "bad", endpoint: servers.s3.endpoint, region: servers.s3.region, credentials: { accessKeyId: servers.s3.accessKeyId, secretAccessKey: servers.s3.secretAccessKey } });
  await bucket.put("t/x.csv", Buffer.from(CSV_TABLES.good as string));
  await bucket.put("types/x.csv", Buffer.from(CSV_TABLES.types as string));
  await bucket.put("pqtrunc/x.parquet", good.subarray(0, 100));
  await bucket.put("exists.csv", Buffer.from("already here\n"));
  await bucket.put("uv/part-00000", readFileSync(join(dir, "uv", "part-00000")));
  return {
    ctx: { dir, s3: servers.s3.endpoint, s3Env: servers.s3.env, silent: servers.silent.endpoint, closed: `http://127.0.0.1:${closedPort}`, ...(full ? { full } : {}) },
    async stop() {
      if (full) spawnSync("umount", ["-l", full]);
      await servers.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A full disk: a 1 MiB tmpfs filled to the last byte. Mounting needs root (and a kernel that
 * lets this container mount); where it cannot, the full-disk cases are skipped and say so.
 */
function mountFullDisk(at: string): string | undefined {
  mkdirSync(at);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", at], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  try {
    writeFileSync(join(at, "filler"), Buffer.alloc(2 << 20));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  }
  return at;
}
