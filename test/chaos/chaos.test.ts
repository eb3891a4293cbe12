/**
 * The chaos suite: Query 2 (a shuffle, and a parallel upload of the result to one S3 object by the
 * reduce tasks) and a SQL join (written to one object too), through the real CLI on the processes
 * backend, against the complete S3 server (versitygw) behind the fault proxy (5% 503 SlowDown, 1%
 * stalled requests), with ~30% of attempts killed by SIGKILL before, during or after their work
 * (the task runtime's test hook SMELTER_TEST_CHAOS_KILL, src/task-runtime/chaos.ts). Every run
 * gives DuckDB alone's result, or fails with the policy's clear error (a task out of attempts);
 * afterwards nothing is left: no worker process, no work-prefix or staging object, no open
 * multipart upload, no temp file, no partial output. Seeds: SMELTER_CHAOS_SEEDS (unset in
 * `npm test`: seeds 1 and 2, one workload each; `npm run chaos` runs 20 seeds, both workloads).
 * Prints one line per run for docs/reliability.md (SMELTER_CHAOS_LOG=FILE appends them there).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BDB_COLUMNS } from "../../src/datagen/schema.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import type { ObjectStore } from "../../src/storage/contract.js";
import { floatsClose } from "../differential/compare.js";
import { startCompleteS3Server, type CompleteS3Server } from "../helpers/s3-complete.js";
import { FAULT_KINDS, startFaultProxy, type FaultProxy } from "../tooling/fault-proxy.js";
import { allLeftovers, bucketStore, generateTables, readEvents, runCli, s3Env } from "./harness.js";

/** `npm test` (no SMELTER_CHAOS_SEEDS): 2 seeds, one workload each (Query 2, then the join), about a minute; else every workload per seed. */
const SHORT = process.env.SMELTER_CHAOS_SEEDS === undefined;
const SEEDS = Number(process.env.SMELTER_CHAOS_SEEDS ?? "2");
const FIRST_SEED = Number(process.env.SMELTER_CHAOS_FIRST_SEED ?? "1");
const KILL_RATE = 0.3;
const JOIN_SQL = "SELECT r.pageRank AS rank, count(*) AS n, sum(u.duration) AS d FROM uv u JOIN rk r ON u.destURL = r.pageURL GROUP BY r.pageRank";

describe(`chaos: ${SEEDS} seed(s), ${KILL_RATE * 100}% of attempts killed, 5% SlowDown, 1% stalls`, () => {
  let server: CompleteS3Server;
  let data: ObjectStore;
  let out: ObjectStore;
  let local: string;
  let inputs = new Set<string>();
  let wantQ2 = new Map<string, number>();
  let wantJoin = new Map<string, number[]>();

  before(async () => {
    server = await startCompleteS3Server({ buckets: ["data", "out"] });
    data = bucketStore(server, "data");
    out = bucketStore(server, "out");
    local = mkdtempSync(join(tmpdir(), "smelter-chaos-data-"));
    inputs = await generateTables(local, data, [
      { table: "uservisits", dir: "uv", rows: 8000, files: 3 },
      { table: "rankings", dir: "rk", rows: 960, files: 1 },
    ]);
    // DuckDB alone, on the same files.
    const db = await openDuckDb();
    const read = (t: "uservisits" | "rankings", dir: string) => `read_csv('${join(local, dir)}/*', header=false, columns={${BDB_COLUMNS[t].map((c) => `'${c.name}': '${c.type}'`).join(", ")}})`;
    const q2 = await db.all<{ prefix: string; rev: number }>(`SELECT substr(sourceIP, 1, 8) AS prefix, sum(adRevenue) AS rev FROM ${read("uservisits", "uv")} GROUP BY 1`);
    wantQ2 = new Map(q2.map((r) => [r.prefix, Number(r.rev)]));
    const j = await db.all<{ rank: number; n: bigint; d: bigint }>(JOIN_SQL.replace("FROM uv u JOIN rk r", `FROM ${read("uservisits", "uv")} u JOIN ${read("rankings", "rk")} r`));
    wantJoin = new Map(j.map((r) => [String(r.rank), [Number(r.n), Number(r.d)]]));
    db.close();
    assert.ok(wantQ2.size > 100 && wantJoin.size > 10, "the reference has rows");
  });
  after(async () => {
    await data?.close();
    await out?.close();
    await server?.stop();
    if (local) rmSync(local, { recursive: true, force: true });
  });

  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    for (const kind of SHORT ? ([seed % 2 === 1 ? "query2" : "join"] as const) : (["query2", "join"] as const)) {
      test(`seed ${seed}: ${kind} gives DuckDB's result or a clear error, and leaves nothing`, async () => {
        const proxy: FaultProxy = await startFaultProxy({ target: server.endpoint, seed: seed * 2 + (kind === "join" ? 1 : 0), rates: { slowDown: 0.05, stall: 0.01 } });
        try {
          const events = join(local, `ev-${kind}-${seed}.jsonl`);
          const key = `${kind}-${seed}.csv`;
          const common = ["--task-bytes", "200000", "--workers", "2", "--backend", "processes", "--quiet", "--format", "csv", "--events", events, "--output", `s3://out/${key}`];
          const args =
            kind === "query2"
              ? ["query2", "--input", "s3://data/uv/", "--partitions", "2", ...common]
              : ["sql", JOIN_SQL, "--table", "uv=s3://data/uv/", "--schema", "uv=bdb:uservisits", "--table", "rk=s3://data/rk/", "--schema", "rk=bdb:rankings", "--partitions", "2", ...common];
          const env = { ...s3Env({ ...server, endpoint: proxy.endpoint }), SMELTER_TEST_CHAOS_KILL: `rate=${KILL_RATE},seed=${seed}`, SMELTER_S3_FIRST_BYTE_TIMEOUT_MS: "3000", SMELTER_S3_STALL_TIMEOUT_MS: "1500" };
          const run = runCli(args, env);
          const exit = await run.exited;
          const evs = readEvents(events) as unknown as { type: string; time: number; taskId?: string; error?: { message: string } }[];
          const kills = evs.filter((e) => e.type === "attempt-failed" && /killed by SIGKILL/.test(e.error?.message ?? "")).length;
          // From a task's first failed attempt to its success: the longest recovery.
          const firstFault = new Map<string, number>();
          let recoveryMs = 0;
          for (const e of evs) {
            if (e.type === "attempt-failed" && e.taskId && !firstFault.has(e.taskId)) firstFault.set(e.taskId, e.time);
            if (e.type === "task-succeeded" && e.taskId && firstFault.has(e.taskId)) recoveryMs = Math.max(recoveryMs, e.time - firstFault.get(e.taskId)!);
          }
          let outcome: string;
          if (exit.code === 0) {
            const csv = (await out.get(key).then((b) => Buffer.from(b).toString("utf8"))).trim().split("\n");
            assert.equal(run.stdout().trim(), csv.join("\n"), "stdout and the object hold the same rows");
            const rows = csv.slice(1).map((l) => l.split(","));
            if (kind === "query2") {
              assert.equal(rows.length, wantQ2.size);
              for (const [p, v] of rows) assert.ok(floatsClose(Number(v), wantQ2.get(p!)!), `prefix ${p}: ${v} vs DuckDB ${wantQ2.get(p!)}`);
            } else {
              assert.equal(rows.length, wantJoin.size);
              for (const [r, n, d] of rows) assert.deepEqual([Number(n), Number(d)], wantJoin.get(r!), `rank ${r}`);
            }
            await out.delete(key);
            outcome = `exact (${rows.length} rows compared)`;
          } else {
            assert.equal(exit.code, 1);
            assert.match(run.stderr(), /\[smelter\] task j\w+-s\d+-t\d+ \(worker "smelter\.sql\.stage"\) failed after 3 attempt\(s\)|\[smelter\] \[s3\]/, run.stderr());
            assert.doesNotMatch(run.stderr(), /\n\s+at /, "no stack trace");
            assert.equal(await out.head(key), undefined, "no output object after a failure");
            outcome = "failed loudly: a task out of attempts";
          }
          await new Promise((r) => setTimeout(r, 300)); // a killed worker's pipes close
          const left = await allLeftovers(run, [data, out], (k) => inputs.has(k));
          const s = proxy.stats;
          const line = `[chaos] seed ${seed} ${kind}: ${outcome}; ${evs.filter((e) => e.type === "attempt-launched").length} attempts, ${kills} killed; ${s.requests} S3 requests, ${FAULT_KINDS.map((k) => `${s.faults[k]} ${k}`).join(", ")}; leftovers ${left.length}; longest recovery ${Math.round(recoveryMs)} ms`;
          process.stderr.write(`${line}\n`);
          if (process.env.SMELTER_CHAOS_LOG) writeFileSync(process.env.SMELTER_CHAOS_LOG, `${line}\n`, { flag: "a" });
          assert.deepEqual(left, []);
        } finally {
          await proxy.stop();
        }
      });
    }
  }
});
