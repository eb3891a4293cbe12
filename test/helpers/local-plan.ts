/**
 * A local plan executor: runs a plan's stage SQL in ONE DuckDB, exactly as the engine would
 * distribute it (one task per file of a split table, the shuffle as `partitionBy` evaluated per
 * row, one task per partition, gathered stages as views for the coordinator), and DuckDB alone on
 * the same files, and compares the two. No scheduler, no object storage: a semantic check of the
 * planner's SQL.
 */
import assert from "node:assert/strict";
import type { DuckDb } from "../../src/duckdb/index.js";
import { sqlIdentifier } from "../../src/duckdb/sql.js";
import { sourceSql } from "../../src/mapreduce/aggregate.js";
import type { SqlPlan } from "../../src/sql/model.js";
import type { SqlTable } from "../../src/sql/tables.js";

type Row = unknown[];
const q = sqlIdentifier;

async function rows(db: DuckDb, sql: string): Promise<{ names: string[]; rows: Row[] }> {
  const r = await db.connection.runAndReadAll(sql);
  return { names: r.columnNames(), rows: r.getRowsJS() as Row[] };
}

function tableSource(t: SqlTable, files: string[]): string {
  return sourceSql({ format: t.format, columns: t.columns, delimiter: t.delimiter, header: t.header }, files);
}

/** Runs `plan` stage by stage over `files` (table name -> files; each file is one split). */
export async function runPlanLocally(db: DuckDb, plan: SqlPlan, files: Record<string, string[]>): Promise<{ names: string[]; rows: Row[]; tasks: number[] }> {
  const table = (name: string) => plan.tables.find((t) => t.name === name)!;
  const filesOf = (name: string) => files[name] ?? assert.fail(`no files for table ${name}`);
  const tasks: number[] = [];
  for (const s of plan.stages) {
    const out = `__out${s.id}`;
    await db.run(`CREATE OR REPLACE TEMP TABLE ${out} (${[...s.columns.map((c) => `${q(c.name)} ${c.type}`), "__p UBIGINT"].join(", ")})`);
    const count = s.tasks.kind === "splits" ? filesOf(s.tasks.table).length : s.tasks.kind === "partitions" ? s.tasks.count : 1;
    tasks.push(count);
    for (let task = 0; task < count; task++) {
      for (const i of s.inputs) {
        let body: string;
        if ("table" in i) body = `SELECT * FROM ${tableSource(table(i.table), i.read === "split" ? [filesOf(i.table)[task]!] : filesOf(i.table))}`;
        else body = `SELECT * EXCLUDE (__p) FROM __out${i.stage}${i.read === "partition" ? ` WHERE __p = ${task}` : ""}`;
        await db.run(`CREATE OR REPLACE TEMP VIEW ${q(i.view)} AS ${body}`);
      }
      const p = s.output.kind === "shuffle" ? s.output.partitionBy : "0";
      await db.run(`INSERT INTO ${out} SELECT *, ${p} AS __p FROM (${s.sql})`);
    }
  }
  for (const i of plan.coordinator.inputs) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(i.view)} AS SELECT * EXCLUDE (__p) FROM __out${i.stage}`);
  const r = await rows(db, plan.coordinator.sql);
  for (const s of plan.stages) await db.run(`DROP TABLE IF EXISTS __out${s.id}`);
  return { ...r, tasks };
}

/** DuckDB alone: the query over views of every file of each table. */
export async function runDirect(db: DuckDb, sql: string, tables: SqlTable[], files: Record<string, string[]>): Promise<{ names: string[]; rows: Row[] }> {
  for (const t of tables) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(t.name)} AS SELECT * FROM ${tableSource(t, files[t.name]!)}`);
  return rows(db, sql);
}

function norm(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x));
  return v;
}

const sortKey = (r: Row) => JSON.stringify(r.map((v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v)));

/** Equal results: same columns, same rows (in order if `ordered`), floats within relative 1e-6. */
export function assertSameResult(got: { names: string[]; rows: Row[] }, want: { names: string[]; rows: Row[] }, ordered: boolean, label: string): void {
  assert.deepEqual(got.names, want.names, `${label}: column names`);
  assert.equal(got.rows.length, want.rows.length, `${label}: row count`);
  const g = got.rows.map((r) => r.map(norm));
  const w = want.rows.map((r) => r.map(norm));
  if (!ordered) {
    g.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
    w.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  }
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    for (let j = 0; j < b.length; j++) {
      const x = a[j];
      const y = b[j];
      if (typeof x === "number" && typeof y === "number" && !(Number.isInteger(x) && Number.isInteger(y) && Math.abs(y) < 2 ** 53)) {
        const rel = Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);
        assert.ok(rel <= 1e-6 || Math.abs(x - y) < 1e-9, `${label}: row ${i} column ${want.names[j]}: ${x} vs ${y} (relative error ${rel})`);
      } else assert.deepEqual(x, y, `${label}: row ${i} column ${want.names[j]}: ${String(x)} vs ${String(y)}`);
    }
  }
}
