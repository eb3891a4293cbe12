/**
 * Shared by the end-to-end CLI tests of the remote backends (lambda-cli, fargate-cli): running
 * `bin/smelter.js` without blocking the test process (which serves the endpoints), and the Big
 * Data Benchmark's tiny tables in DuckDB alone, the reference the results are compared with.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openDuckDb } from "../../src/duckdb/index.js";
import { sqlString } from "../../src/duckdb/sql.js";
import { BDB_TINY } from "./bdb-tiny.js";

const bin = fileURLToPath(new URL("../../../bin/smelter.js", import.meta.url));

/** Runs the CLI as a child process; SIGKILLed after `timeoutMs`. */
export function smelter(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 150_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
  });
}

/** Runs `sql` in DuckDB alone over the tiny uservisits and rankings (views of those names). */
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
