/**
 * A local plan executor: runs a plan's stage SQL in ONE DuckDB, exactly as the engine would
 * distribute it (one task per file of a split table, the shuffle as `partitionBy` evaluated per
 * row, one task per partition, gathered stages as views for the coordinator), and DuckDB alone on
 * the same files, and compares the two. No scheduler, no object storage: a semantic check of the
 * planner's SQL.
 */
import assert from "node:assert/strict";
import type { DuckDb } from "../../src/duckdb/index.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sqlIdentifier, sqlString } from "../../src/duckdb/sql.js";
import { sourceSql } from "../../src/mapreduce/table-source.js";
import { parseHeader } from "../../src/splits/csv-split.js";
import type { SqlPlan } from "../../src/sql/model.js";
import { tableSpecOf, type SqlTable } from "../../src/sql/tables.js";

type Row = unknown[];
const q = sqlIdentifier;

/** A result: column names and types, rows with floating-point values as numbers and every other value as DuckDB's text (exact). */
export interface TestResult {
  names: string[];
  types: string[];
  rows: Row[];
}

const FLOATING = /^(FLOAT|REAL|DOUBLE|FLOAT4|FLOAT8)$/i;

/** Reads a table: names and types from DESCRIBE, values exact (text) except floats. */
export async function readTable(db: DuckDb, table: string): Promise<TestResult> {
  const cols = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${q(table)}`);
  const list = cols.map((c) => (FLOATING.test(c.column_type) ? q(c.column_name) : `CAST(${q(c.column_name)} AS VARCHAR)`)).join(", ");
  const r = await db.connection.runAndReadAll(`SELECT ${list} FROM ${q(table)}`);
  return { names: cols.map((c) => c.column_name), types: cols.map((c) => c.column_type), rows: r.getRowsJS() as Row[] };
}

/**
 * Reads a result file (CSV with a header, or Parquet) back as table `like` is typed: CSV fields
 * as text cast to its types, Parquet columns (which must have its names) cast to them.
 */
export async function readFileLike(db: DuckDb, file: string, like: string): Promise<TestResult> {
  const cols = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE ${q(like)}`);
  const table = `${like}__back`;
  if (file.endsWith(".csv")) {
    const raw = cols.map((_, i) => `'c${i}': 'VARCHAR'`).join(", ");
    await db.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} AS SELECT ${cols.map((c, i) => `CAST(c${i} AS ${c.column_type}) AS ${q(c.column_name)}`).join(", ")} FROM read_csv(${sqlString(file)}, header = false, skip = 1, columns = {${raw}})`);
  } else {
    const names = (await db.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).map((c) => c.column_name);
    assert.deepEqual(names, cols.map((c) => c.column_name), `${file}: Parquet column names`);
    await db.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} AS SELECT ${cols.map((c) => `CAST(${q(c.column_name)} AS ${c.column_type}) AS ${q(c.column_name)}`).join(", ")} FROM read_parquet(${sqlString(file)})`);
  }
  try {
    return await readTable(db, table);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${q(table)}`);
  }
}

/** The header line DuckDB writes for table `table` in a CSV file. */
export async function csvHeaderOf(db: DuckDb, table: string, dir: string): Promise<string> {
  const file = join(dir, `${table}-header.csv`);
  await db.run(`COPY (SELECT * FROM ${q(table)} LIMIT 0) TO ${sqlString(file)} (FORMAT csv, HEADER true)`);
  return readFileSync(file, "utf8").split("\n")[0]!;
}

/** Runs `sql` into a temp table (so columns are named as DuckDB names a stored result) and reads it. */
async function materialize(db: DuckDb, sql: string, table: string): Promise<TestResult> {
  await db.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} AS ${sql}`);
  try {
    return await readTable(db, table);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${q(table)}`);
  }
}

/** A table's whole files as a task reads them: the table's dialect, each file's header names (matched by name). */
function tableSource(t: SqlTable, files: string[]): string {
  const spec = tableSpecOf(t);
  if (t.format !== "csv" || !t.header) return sourceSql(spec, files);
  const firstLine = (path: string) => {
    const bytes = readFileSync(path);
    const nl = bytes.indexOf(10);
    return nl < 0 ? bytes : bytes.subarray(0, nl + 1);
  };
  return sourceSql(spec, files.map((path) => ({ path, headerLine: true, names: parseHeader(firstLine(path), t, path), object: path })));
}

/** Runs `plan` stage by stage over `files` (table name -> files; each file is one split). */
export async function runPlanLocally(db: DuckDb, plan: SqlPlan, files: Record<string, string[]>): Promise<TestResult & { tasks: number[] }> {
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
      // As the engine's task does: the stage's rows, columns by the names it bound.
      await db.run(`INSERT INTO ${out} SELECT ${s.columns.map((c) => q(c.name)).join(", ")}, ${p} AS __p FROM (${s.sql}) AS __q`);
    }
  }
  for (const i of plan.coordinator.inputs) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(i.view)} AS SELECT * EXCLUDE (__p) FROM __out${i.stage}`);
  const r = await materialize(db, plan.coordinator.sql, "__result");
  for (const s of plan.stages) await db.run(`DROP TABLE IF EXISTS __out${s.id}`);
  return { ...r, tasks };
}

/** DuckDB alone: the query over views of every file of each table, its result stored as a table. */
export async function runDirect(db: DuckDb, sql: string, tables: SqlTable[], files: Record<string, string[]>): Promise<TestResult> {
  for (const t of tables) await db.run(`CREATE OR REPLACE TEMP VIEW ${q(t.name)} AS SELECT * FROM ${tableSource(t, files[t.name]!)}`);
  return materialize(db, sql, "__direct");
}

const sortKey = (r: Row) => JSON.stringify(r.map((v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v)));
const byKey = (a: Row, b: Row) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0);

/**
 * Equal results: same column names and types, same rows (in order if `ordered`); floating-point
 * values within a relative 1e-6, every other value exactly (as text: HUGEINT, DECIMAL, dates).
 */
export function assertSameResult(got: TestResult, want: TestResult, ordered: boolean, label: string): void {
  assert.deepEqual(got.names, want.names, `${label}: column names`);
  assert.deepEqual(got.types, want.types, `${label}: column types`);
  assert.equal(got.rows.length, want.rows.length, `${label}: row count`);
  const g = ordered ? got.rows : [...got.rows].sort(byKey);
  const w = ordered ? want.rows : [...want.rows].sort(byKey);
  for (let i = 0; i < w.length; i++) {
    const a = g[i]!;
    const b = w[i]!;
    for (let j = 0; j < b.length; j++) {
      const x = a[j];
      const y = b[j];
      if (typeof x === "number" && typeof y === "number" && x !== y) { // equal (infinities too) needs no tolerance
        const rel = Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);
        assert.ok(rel <= 1e-6 || Math.abs(x - y) < 1e-9, `${label}: row ${i} column ${want.names[j]}: ${x} vs ${y} (relative error ${rel})`);
      } else assert.deepEqual(x, y, `${label}: row ${i} column ${want.names[j]}: ${String(x)} vs ${String(y)}`);
    }
  }
}
