/**
 * Writes a job's facts into a DuckDB database beside its result table: `attempts` (every
 * attempt), and from the job report `stages` (per-stage summary) and `costs` (the cost estimate).
 */
import type { DuckDb } from "../duckdb/index.js";
import { sqlIdentifier } from "../duckdb/sql.js";
import type { AttemptRow } from "../report/attempts.js";
import type { JobReport } from "../report/job-report.js";

type Column<R> = [keyof R & string, string];

const ATTEMPT_COLUMNS: Column<AttemptRow>[] = [
  ["attempt_id", "VARCHAR"], ["task_id", "VARCHAR"], ["stage", "INTEGER"], ["stage_name", "VARCHAR"], ["cause", "VARCHAR"],
  ["speculation_rule", "VARCHAR"], ["duplicate_of", "VARCHAR"], ["runtime_id", "VARCHAR"], ["status", "VARCHAR"], ["won", "BOOLEAN"], ["cold_start", "BOOLEAN"],
  ["launched_at", "TIMESTAMP"], ["running_at", "TIMESTAMP"], ["ended_at", "TIMESTAMP"], ["kill_requested_at", "TIMESTAMP"], ["kill_ended_at", "TIMESTAMP"],
  ["error_type", "VARCHAR"], ["error_message", "VARCHAR"], ["retryable", "BOOLEAN"],
  ["wall_ms", "DOUBLE"], ["cpu_ms", "DOUBLE"], ["peak_rss_bytes", "BIGINT"], ["bytes_read", "BIGINT"], ["bytes_written", "BIGINT"],
  ["read_requests", "BIGINT"], ["write_requests", "BIGINT"],
];

export async function writeAttemptsTable(db: DuckDb, rows: AttemptRow[], table = "attempts"): Promise<void> {
  await writeTable(db, table, ATTEMPT_COLUMNS, rows);
}

export interface StageRow {
  stage: number; name: string; worker: string | null; tasks: number; tasks_succeeded: number; tasks_failed: number; attempts: number;
  retries: number; speculative: number; speculative_won: number; failed_attempts: number; lost_attempts: number; cancelled_attempts: number;
  abandoned_attempts: number; unfinished_attempts: number; elapsed_ms: number; median_task_ms: number; p95_task_ms: number; max_task_ms: number;
  skew: number; slowest_attempt: string | null; attempt_ms: number; wasted_ms: number; bytes_read: number; bytes_written: number;
  read_requests: number; write_requests: number; rows_in: number | null; rows_out: number | null; critical_path_tasks: number;
}
const STAGE_COLUMNS: Column<StageRow>[] = [
  ["stage", "INTEGER"], ["name", "VARCHAR"], ["worker", "VARCHAR"], ["tasks", "BIGINT"], ["tasks_succeeded", "BIGINT"], ["tasks_failed", "BIGINT"], ["attempts", "BIGINT"],
  ["retries", "BIGINT"], ["speculative", "BIGINT"], ["speculative_won", "BIGINT"], ["failed_attempts", "BIGINT"], ["lost_attempts", "BIGINT"], ["cancelled_attempts", "BIGINT"],
  ["abandoned_attempts", "BIGINT"], ["unfinished_attempts", "BIGINT"], ["elapsed_ms", "DOUBLE"], ["median_task_ms", "DOUBLE"], ["p95_task_ms", "DOUBLE"], ["max_task_ms", "DOUBLE"],
  ["skew", "DOUBLE"], ["slowest_attempt", "VARCHAR"], ["attempt_ms", "DOUBLE"], ["wasted_ms", "DOUBLE"], ["bytes_read", "BIGINT"], ["bytes_written", "BIGINT"],
  ["read_requests", "BIGINT"], ["write_requests", "BIGINT"], ["rows_in", "BIGINT"], ["rows_out", "BIGINT"], ["critical_path_tasks", "INTEGER"],
];

export interface CostRow {
  /** `storage`, or where compute runs: local, lambda, fargate, fargate-spot. */
  scope: string;
  /** `charge` rows add up to a scope's cost; `waste` rows say how much of its compute bought results that were not used. */
  kind: "charge" | "waste";
  item: string;
  quantity: number;
  unit: string;
  unit_price: number;
  usd: number;
  /** True for the place this job ran and for storage: its cost is SUM(usd) WHERE this_run AND kind = 'charge'. */
  this_run: boolean;
  prices_as_of: string;
}
const COST_COLUMNS: Column<CostRow>[] = [["scope", "VARCHAR"], ["kind", "VARCHAR"], ["item", "VARCHAR"], ["quantity", "DOUBLE"], ["unit", "VARCHAR"], ["unit_price", "DOUBLE"], ["usd", "DOUBLE"], ["this_run", "BOOLEAN"], ["prices_as_of", "VARCHAR"]];

/** Tables `stages` and `costs` from a job report. */
export async function writeReportTables(db: DuckDb, report: JobReport): Promise<void> {
  const stages: StageRow[] = report.stages.map((s) => ({
    stage: s.stage, name: s.name, worker: s.worker ?? null, tasks: s.tasks, tasks_succeeded: s.tasksSucceeded, tasks_failed: s.tasksFailed, attempts: s.attempts,
    retries: s.retries, speculative: s.speculative, speculative_won: s.speculativeWon, failed_attempts: s.failedAttempts, lost_attempts: s.lostAttempts,
    cancelled_attempts: s.cancelledAttempts, abandoned_attempts: s.abandonedAttempts, unfinished_attempts: s.unfinishedAttempts, elapsed_ms: s.elapsedMs,
    median_task_ms: s.medianTaskMs, p95_task_ms: s.p95TaskMs, max_task_ms: s.maxTaskMs, skew: s.skew, slowest_attempt: s.slowestAttempt ?? null,
    attempt_ms: s.attemptMs, wasted_ms: s.wastedMs, bytes_read: s.bytesRead, bytes_written: s.bytesWritten, read_requests: s.readRequests,
    write_requests: s.writeRequests, rows_in: s.rowsIn ?? null, rows_out: s.rowsOut ?? null,
    critical_path_tasks: report.criticalPath.filter((c) => c.stage === s.stage).length,
  }));
  const c = report.cost;
  const asOf = c.prices.asOf;
  const costs: CostRow[] = c.lines.map((l) => ({ scope: l.scope, kind: "charge", item: l.item, quantity: l.quantity, unit: l.unit, unit_price: l.unitPrice, usd: l.usd, this_run: l.scope === "storage" || l.scope === c.actual, prices_as_of: asOf }));
  for (const p of c.places) {
    for (const [item, usd] of [["failed attempts (what retries cost)", p.failures], ["lost races (what speculation cost)", p.speculation], ["cancelled attempts", p.cancelled]] as const) {
      costs.push({ scope: p.place, kind: "waste", item, quantity: usd, unit: "USD", unit_price: 1, usd, this_run: p.place === c.actual, prices_as_of: asOf });
    }
  }
  await writeTable(db, "stages", STAGE_COLUMNS, stages);
  await writeTable(db, "costs", COST_COLUMNS, costs);
}

async function writeTable<R>(db: DuckDb, table: string, columns: Column<R>[], rows: R[]): Promise<void> {
  const t = sqlIdentifier(table);
  await db.run(`CREATE OR REPLACE TABLE ${t} (${columns.map(([n, ty]) => `${n} ${ty}`).join(", ")})`);
  const placeholders = `(${columns.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows.slice(i, i + 200);
    const params = batch.flatMap((r) => columns.map(([n, ty]) => toParam(r[n as keyof R], ty)));
    await db.run(`INSERT INTO ${t} VALUES ${batch.map(() => placeholders).join(", ")}`, params as never);
  }
}

function toParam(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString().replace("T", " ").replace("Z", "");
  if (type === "BIGINT") return BigInt(Math.round(v as number));
  return v;
}
