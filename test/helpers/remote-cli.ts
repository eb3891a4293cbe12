/**
 * What the remote backends' end-to-end CLI tests share (lambda-cli, fargate-cli, kubernetes-cli): the CLI run
 * as a child process (the test process keeps serving the endpoint), the tiny Big Data Benchmark
 * tables put into a bucket, and DuckDB alone's answer to compare with.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openDuckDb } from "../../src/duckdb/index.js";
import { sqlString } from "../../src/duckdb/sql.js";
import { s3Store } from "../../src/storage/s3.js";
import type { S3Server } from "../../src/storage/server.js";
import { BDB_TINY } from "./bdb-tiny.js";

const bin = fileURLToPath(new URL("../../../bin/smelter.js", import.meta.url));

/** Runs the CLI without blocking this process (SIGKILLed after 120 s). */
export function smelter(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
  });
}

/** Puts the tiny uservisits and rankings tables under `s3://<bucket>/tiny/`. */
export async function putBdbTiny(s3: S3Server, bucketName: string): Promise<void> {
  const bucket = s3Store({ bucket: bucketName, endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  for (const table of ["uservisits", "rankings"]) {
    for (const f of readdirSync(`${BDB_TINY}${table}`)) await bucket.put(`tiny/${table}/${f}`, readFileSync(`${BDB_TINY}${table}/${f}`));
  }
}

/** `sql` over the tiny tables (views uservisits and rankings) in DuckDB alone. */
export async function duckdbAlone(sql: string): Promise<Record<string, unknown>[]> {
  const db = await openDuckDb({ threads: 1 });
  try {
    await db.run(`CREATE VIEW uservisits AS SELECT * FROM read_csv(${sqlString(`${BDB_TINY}uservisits/*`)}, header = false, columns = {'sourceIP': 'VARCHAR', 'destURL': 'VARCHAR', 'visitDate': 'DATE', 'adRevenue': 'FLOAT', 'userAgent': 'VARCHAR', 'countryCode': 'VARCHAR', 'languageCode': 'VARCHAR', 'searchWord': 'VARCHAR', 'duration': 'INTEGER'})`);
    await db.run(`CREATE VIEW rankings AS SELECT * FROM read_csv(${sqlString(`${BDB_TINY}rankings/*`)}, header = false, columns = {'pageURL': 'VARCHAR', 'pageRank': 'INTEGER', 'avgDuration': 'INTEGER'})`);
    return await db.all(sql);
  } finally {
    db.close();
  }
}

/** The query2 and join queries both CLI tests run, and how they check a result against DuckDB alone's. */
export const QUERY2_SQL = "SELECT substr(sourceIP, 1, 8) AS prefix, sum(adRevenue) AS adRevenue FROM uservisits GROUP BY 1";
export const JOIN_SQL = "SELECT v.sourceIP, count(*) AS visits, sum(r.pageRank) AS ranks FROM uservisits AS v JOIN rankings AS r ON r.pageURL = v.destURL GROUP BY v.sourceIP";

/** Asserts that `smelter query2 --prefix-len 8 --format json` printed DuckDB alone's answer to QUERY2_SQL (sums within 1e-6 relative). */
export async function assertQuery2Matches(stdout: string): Promise<void> {
  const rows = JSON.parse(stdout) as { prefix: string; adRevenue: number }[];
  const want = await duckdbAlone(QUERY2_SQL);
  assert.equal(rows.length, want.length);
  const byPrefix = new Map(want.map((w) => [w.prefix as string, Number(w.adRevenue)]));
  for (const row of rows) {
    const w = byPrefix.get(row.prefix);
    assert.ok(w !== undefined && Math.abs(row.adRevenue - w) <= 1e-6 * Math.max(1, Math.abs(w)), `${row.prefix}: ${row.adRevenue} vs ${w}`);
  }
}

/** Asserts that `smelter sql JOIN_SQL --format json` printed DuckDB alone's answer. */
export async function assertJoinMatches(stdout: string): Promise<void> {
  const rows = JSON.parse(stdout) as { sourceIP: string; visits: number | string; ranks: number | string }[];
  const want = await duckdbAlone(`${JOIN_SQL} ORDER BY 1`);
  assert.equal(rows.length, want.length);
  const got = new Map(rows.map((x) => [x.sourceIP, [Number(x.visits), Number(x.ranks)]]));
  for (const w of want) assert.deepEqual(got.get(w.sourceIP as string), [Number(w.visits), Number(w.ranks)], String(w.sourceIP));
}
