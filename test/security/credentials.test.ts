/**
 * Credentials never leave the process environment: jobs run with a known key id, secret and
 * session token (the embedded S3 server started with that pair) through query2, sql and the
 * parallel upload (`--output s3://...csv`), on the processes and threads backends, with
 * `--events`, `--report`, `-v` and `--output FILE.duckdb`; then every byte produced is searched
 * for the three values: stdout and stderr, the events files, the report HTML, the DuckDB file,
 * every object the S3 server holds (results, and any work-prefix object left), and every task
 * payload as the backend received it (an instrumented backend wrapping the real one).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { Backend } from "../../src/backends/contract.js";
import { createBackend } from "../../src/backends/index.js";
import { tablesFromFlags } from "../../src/cli/sql-flags.js";
import { openDuckDb } from "../../src/duckdb/index.js";
import { executePrepared } from "../../src/query/execute.js";
import { prepareQuery } from "../../src/query/prepare.js";
import { runQuery2 } from "../../src/query/query2.js";
import { Manager } from "../../src/scheduler/manager.js";
import { planQuery } from "../../src/sql/plan.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";
import { BDB_TINY_USERVISITS } from "../helpers/bdb-tiny.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const ENTRY = new URL("../../src/builtin-workers/builtin.js", import.meta.url);
const KEY_ID = "AKIASMELTERSECTEST01";
const SECRET = "smelterSecretSecurityTestValue0123456789";
const TOKEN = "smelterSessionTokenSecurityTest0987654321";
const SECRETS = [KEY_ID, SECRET, TOKEN];

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** Asserts that none of the secrets appears in `bytes` (as text, and as UTF-16 for binary files). */
function assertClean(what: string, bytes: Buffer | string): void {
  const buf = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  for (const s of SECRETS) {
    assert.equal(buf.includes(Buffer.from(s)), false, `${what} holds ${s === KEY_ID ? "the access key id" : s === SECRET ? "the secret" : "the session token"}`);
    assert.equal(buf.includes(Buffer.from(s, "utf16le")), false, `${what} holds a secret as UTF-16`);
  }
}

describe("credentials appear in nothing Smelter writes", () => {
  let server: S3Server;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-sec-creds-"));
    server = await startS3Server({ buckets: ["sec"], accessKeyId: KEY_ID, secretAccessKey: SECRET });
    env = { ...server.env, AWS_SESSION_TOKEN: TOKEN };
    const bucket = s3Store({ bucket: "sec", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN } });
    for (const f of readdirSync(BDB_TINY_USERVISITS).filter((f) => f.startsWith("part-")).slice(0, 4)) await bucket.put(`uv/${f}`, readFileSync(join(BDB_TINY_USERVISITS, f)));
    await bucket.put("t/p0.csv", Buffer.from("k,v\na,1\nb,2\na,3\n"));
    await bucket.put("t/p1.csv", Buffer.from("k,v\nc,4\nb,5\n"));
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("CLI: query2 and sql on processes and threads, with --events, --report, -v, --output to S3 and to a DuckDB file", async () => {
    const runs: [string, string[]][] = [
      ["query2-processes", ["query2", "--input", "s3://sec/uv/", "--partitions", "2", "--output", "s3://sec/out/q2.csv", "--backend", "processes", "--workers", "2"]],
      ["sql-threads", ["sql", "SELECT k, sum(v) AS s FROM t GROUP BY k", "--table", "t=s3://sec/t/", "--partitions", "2", "--output", "s3://sec/out/r.csv", "--backend", "threads", "--workers", "2"]],
      ["sql-processes", ["sql", "SELECT k, sum(v) AS s FROM t GROUP BY k", "--table", "t=s3://sec/t/", "--output", join(dir, "r.duckdb"), "--backend", "processes", "--workers", "2"]],
    ];
    for (const [name, args] of runs) {
      const events = join(dir, `${name}.jsonl`);
      const r = await promisify(execFile)(process.execPath, [bin, ...args, "-v", "--events", events, "--report", join(dir, `${name}.html`)], { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 64 << 20 });
      assertClean(`${name}: stdout`, r.stdout);
      assertClean(`${name}: stderr`, r.stderr);
      assert.match(r.stderr, /wrote the job report/, `${name} ran to its end`);
    }
    const produced = filesUnder(dir);
    assert.ok(produced.some((f) => f.endsWith(".duckdb")) && produced.filter((f) => f.endsWith(".html")).length === 3 && produced.filter((f) => f.endsWith(".jsonl")).length === 3, produced.join(", "));
    for (const f of produced) assertClean(f, readFileSync(f));
    const objects = filesUnder(server.dir);
    assert.ok(objects.some((f) => f.includes("q2.csv")) && objects.some((f) => f.includes("r.csv")), `the uploads are there: ${objects.join(", ")}`);
    for (const f of objects) if (statSync(f).size < 64 << 20) assertClean(`the S3 object file ${f}`, readFileSync(f));
  });

  for (const kind of ["processes", "threads"] as const) {
    test(`API: every task payload the ${kind} backend receives is free of credentials (query2, sql with the parallel upload)`, async () => {
      const payloads: string[] = [];
      const saved = { ...process.env };
      Object.assign(process.env, env); // the coordinator and the workers it starts read the standard variables
      const real = createBackend(kind, { entry: ENTRY, workers: 2 });
      const recording: Backend = Object.assign(Object.create(real) as Backend, {
        launch: (task: Parameters<Backend["launch"]>[0], listener: Parameters<Backend["launch"]>[1]) => {
          payloads.push(JSON.stringify(task));
          return real.launch(task, listener);
        },
      });
      const manager = new Manager({ backend: recording });
      const db = await openDuckDb({ threads: 1 });
      try {
        const q2 = await runQuery2(manager, db, { input: "s3://sec/uv/", prefixLen: 8, partitions: 2, csvOutput: `s3://sec/out/api-${kind}.csv` });
        assert.ok(q2.rows > 0);
        const catalog = await tablesFromFlags({ table: ["t=s3://sec/t/"], schema: [] });
        const plan = await planQuery("SELECT k, sum(v) AS s FROM t GROUP BY k", catalog.tables, { workers: 2, partitions: 2 });
        const prepared = await prepareQuery(plan, catalog.listings, { workers: 2 });
        await executePrepared(manager, db, prepared, { output: `s3://sec/out/api-sql-${kind}.csv` });
      } finally {
        db.close();
        await manager.close();
        for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
        Object.assign(process.env, saved);
      }
      assert.ok(payloads.length >= 4, `${payloads.length} payloads recorded`);
      assert.ok(payloads.some((p) => p.includes("s3://sec")), "the payloads name the bucket (the recording works)");
      for (const p of payloads) assertClean(`a ${kind} task payload`, p);
    });
  }
});
