/** Writes a job's attempts into a DuckDB database as table `attempts`, beside its result table. */
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier } from "../duckdb/sql.js";
import type { AttemptRow } from "../report/attempts.js";

const COLUMNS: [keyof AttemptRow, string][] = [
  ["attempt_id", "VARCHAR"], ["task_id", "VARCHAR"], ["stage", "INTEGER"], ["stage_name", "VARCHAR"], ["cause", "VARCHAR"],
  ["speculation_rule", "VARCHAR"], ["runtime_id", "VARCHAR"], ["status", "VARCHAR"], ["won", "BOOLEAN"],
  ["launched_at", "TIMESTAMP"], ["running_at", "TIMESTAMP"], ["ended_at", "TIMESTAMP"], ["error_type", "VARCHAR"], ["error_message", "VARCHAR"],
  ["wall_ms", "DOUBLE"], ["cpu_ms", "DOUBLE"], ["peak_rss_bytes", "BIGINT"], ["bytes_read", "BIGINT"], ["bytes_written", "BIGINT"],
  ["read_requests", "BIGINT"], ["write_requests", "BIGINT"],
];

export async function writeAttemptsTable(db: DuckDb, rows: AttemptRow[], table = "attempts"): Promise<void> {
  const t = sqlIdentifier(table);
  await db.run(`CREATE OR REPLACE TABLE ${t} (${COLUMNS.map(([n, ty]) => `${n} ${ty}`).join(", ")})`);
  const placeholders = `(${COLUMNS.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows.slice(i, i + 200);
    const params = batch.flatMap((r) => COLUMNS.map(([n, ty]) => toParam(r[n], ty)));
    await db.run(`INSERT INTO ${t} VALUES ${batch.map(() => placeholders).join(", ")}`, params as never);
  }
}

function toParam(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().replace("T", " ").replace("Z", "");
  if (type === "BIGINT") return BigInt(Math.round(v as number));
  return v;
}
