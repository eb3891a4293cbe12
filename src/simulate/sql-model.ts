/**
 * The task model of a SQL plan's stages: what each task of a prepared query reads (its splits'
 * bytes, or its partition of its producers' outputs: one GET per producer task), how much CPU its
 * operators take on one core of this machine (CSV scan with filter and projection, hash join,
 * hash aggregate, Parquet read and write), and how many rows and bytes it writes. Every figure is
 * an estimate from the tables' shapes (shapes.ts) and the plan stage itself (its inputs, whether
 * its SQL groups or limits, its output columns' types); the costs were measured with DuckDB
 * (docs/simulation.md, "Task model").
 */
import type { PreparedQuery } from "../query/prepare.js";
import type { PlanStage, SqlPlan } from "../sql/model.js";
import { splitBytes } from "../splits/split.js";
import { groupsIn, tableBytes, type TableShape } from "./shapes.js";

/** CPU costs of DuckDB operators, one thread, on one core of this machine. */
export interface SqlTaskModel {
  /** Reading CSV: tokenizing, casting, the stage's filter and projection, per GB of CSV. */
  csvScanSecondsPerGb: number;
  /** Reading Parquet (a producer's segments), per GB. */
  parquetReadSecondsPerGb: number;
  /** Writing Parquet (the stage's output), per GB written. */
  parquetWriteSecondsPerGb: number;
  /** Hash aggregate: per input row, and per group it holds. */
  aggregateUsPerRow: number;
  aggregateUsPerGroup: number;
  /** Hash join: per row of both sides (build and probe). */
  joinUsPerRow: number;
  /** Fixed CPU per task (DuckDB instance, plan, writer), ms. */
  taskOverheadMs: number;
  /** Bytes of one value of a type in a Parquet segment (compressed). */
  valueBytes: (type: string) => number;
}

/**
 * Measured with DuckDB (@duckdb/node-api, 1 thread) as process CPU time on 1M rows of `smelter
 * datagen uservisits` (169.3 MB of CSV) and 120,000 of rankings (docs/simulation.md gives the
 * queries); the machine was loaded (load average ~21 on 2 cores), which inflates CPU time too.
 */
export const sqlTaskModel: SqlTaskModel = {
  csvScanSecondsPerGb: 3.4, // measured: Query 3's scan + date filter + projection of uservisits: 575 ms for 169.3 MB
  parquetReadSecondsPerGb: 2.0, // measured: 4 columns of 1M rows (75.8 MB of Parquet) read in 149 ms
  parquetWriteSecondsPerGb: 5.7, // measured: the same 1M rows written in 435 ms
  aggregateUsPerRow: 0.03, // fitted to two measurements: Query 2A's partial aggregate (1M rows -> 341k groups, ~90 ms)
  aggregateUsPerGroup: 0.17, // and GROUP BY sourceIP after the join (1M rows -> 1M groups, ~200 ms)
  joinUsPerRow: 0.038, // measured: 1M uservisits rows probing 120k rankings rows, 43 ms beyond reading both
  taskOverheadMs: 60, // assumed: DuckDB instance + plan + Parquet writer
  // assumed, by type; datagen measures 12.6 B a row for 2A's partials (8-character prefix + double) and ~55 B for a URL
  valueBytes: (type) => {
    const t = type.toUpperCase();
    if (/^(VARCHAR|TEXT|STRING|BLOB)/.test(t)) return 16;
    if (/^(HUGEINT|UHUGEINT|DECIMAL\((19|[2-3]\d))/.test(t)) return 16;
    if (/^(INTEGER|INT4|FLOAT|REAL|DATE|UINTEGER)/.test(t)) return 4;
    if (/^(BOOLEAN|TINYINT|UTINYINT)/.test(t)) return 1;
    if (/^(SMALLINT|USMALLINT)/.test(t)) return 2;
    return 8;
  },
};

/** The model with every CPU cost multiplied by `k` (a calibration's `cpuScale`). */
export function scaleTaskModel(m: SqlTaskModel, k: number): SqlTaskModel {
  return {
    ...m,
    csvScanSecondsPerGb: m.csvScanSecondsPerGb * k,
    parquetReadSecondsPerGb: m.parquetReadSecondsPerGb * k,
    parquetWriteSecondsPerGb: m.parquetWriteSecondsPerGb * k,
    aggregateUsPerRow: m.aggregateUsPerRow * k,
    aggregateUsPerGroup: m.aggregateUsPerGroup * k,
    joinUsPerRow: m.joinUsPerRow * k,
    taskOverheadMs: m.taskOverheadMs * k,
  };
}

/** One read of a task: `requests` GETs (default: ranged parts) under `prefix`. */
export interface TaskRead {
  prefix: string;
  bytes: number;
  requests?: number;
}

export interface TaskEstimate {
  reads: TaskRead[];
  /** CPU on one core, ms. */
  cpuMs: number;
  outRows: number;
  outBytes: number;
}

export interface StageEstimate {
  tasks: TaskEstimate[];
  outRows: number;
  outBytes: number;
  /** The largest table behind the stage's rows, and its rows (after filters) behind them: groups are counted in it. */
  fact: TableShape;
  factRows: number;
  /** Its rows are partial or final aggregates by the query's group keys. */
  grouped: boolean;
  /** 0-based indexes of the stages it reads: its tasks wait for them to finish. */
  waitsFor: number[];
}

/** The input prefix of a table's synthetic objects, and the shuffle's. */
export const tablePrefix = (name: string): string => `${name}/`;
export const SHUFFLE_PREFIX = "_smelter/jobs/";

const GROUP_BY = /\bGROUP\s+BY\b/i;

/** Output rows of a stage's SQL after its LIMIT, if any. */
function limited(sql: string, rows: number): number {
  const m = /\bLIMIT\s+(\d+)\s*(OFFSET\s+\d+\s*)?\)?\s*(AS\s+\S+\s*)?$/i.exec(sql);
  return m ? Math.min(rows, Number(m[1])) : rows;
}

const rowBytes = (columns: { type: string }[], m: SqlTaskModel): number => columns.reduce((s, c) => s + m.valueBytes(c.type), 0);

interface Flow {
  rows: number;
  bytes: number;
  fact: TableShape;
  factRows: number;
  /** Partitions it is spread over (1: read whole), and whether keyed by the group keys. */
  partitions: number;
  grouped: boolean;
}

/** Every task of every stage of `prepared`, estimated from the tables' shapes. */
export function estimateStages(prepared: PreparedQuery, shapes: Map<string, TableShape>, m: SqlTaskModel = sqlTaskModel): StageEstimate[] {
  const plan = prepared.plan;
  const out: StageEstimate[] = [];
  for (const s of plan.stages) {
    const prep = prepared.stages[s.id - 1]!;
    const tasks: TaskEstimate[] = [];
    let fact: TableShape | undefined;
    let factRows = 0;
    for (const t of prep.tasks) {
      const e = estimateTask(plan, s, t.splits.reduce((a, x) => a + splitBytes(x), 0), shapes, out, m);
      tasks.push(e.task);
      fact = e.fact;
      factRows += e.factRows;
    }
    out.push({
      tasks,
      outRows: tasks.reduce((a, t) => a + t.outRows, 0),
      outBytes: tasks.reduce((a, t) => a + t.outBytes, 0),
      fact: fact ?? shapes.values().next().value!,
      factRows,
      grouped: GROUP_BY.test(s.sql),
      waitsFor: s.inputs.flatMap((i) => ("stage" in i ? [i.stage - 1] : [])),
    });
  }
  return out;
}

function estimateTask(plan: SqlPlan, s: PlanStage, splitBytesOfTask: number, shapes: Map<string, TableShape>, done: StageEstimate[], m: SqlTaskModel): { task: TaskEstimate; fact: TableShape; factRows: number } {
  const flows: Flow[] = [];
  const reads: TaskRead[] = [];
  let cpuMs = m.taskOverheadMs;
  for (const i of s.inputs) {
    if ("table" in i) {
      const shape = shapes.get(i.table.toLowerCase())!;
      const bytes = i.read === "split" ? splitBytesOfTask : tableBytes(shape);
      const rows = (bytes / shape.bytesPerRow) * shape.selectivity;
      reads.push({ prefix: tablePrefix(shape.name), bytes });
      cpuMs += (bytes / 1e9) * m.csvScanSecondsPerGb * 1000;
      flows.push({ rows, bytes, fact: shape, factRows: rows, partitions: 1, grouped: false });
    } else {
      const p = done[i.stage - 1]!;
      const producer = plan.stages[i.stage - 1]!;
      const r = i.read === "partition" && producer.output.kind === "shuffle" ? producer.output.partitions : 1;
      const bytes = p.outBytes / r;
      reads.push({ prefix: SHUFFLE_PREFIX, bytes, requests: p.tasks.length });
      cpuMs += (bytes / 1e9) * m.parquetReadSecondsPerGb * 1000;
      flows.push({ rows: p.outRows / r, bytes, fact: p.fact, factRows: p.factRows / r, partitions: r, grouped: p.grouped });
    }
  }
  // A join: every row of the side from the larger table (before filters: the fact table) finds one row of the other (a foreign-key join).
  const main = flows.reduce((a, f) => (f.fact.rows > a.fact.rows || (f.fact === a.fact && f.rows > a.rows) ? f : a), flows[0]!);
  let rows = main.rows;
  if (flows.length > 1) cpuMs += (flows.reduce((a, f) => a + f.rows, 0) * m.joinUsPerRow) / 1000;
  if (GROUP_BY.test(s.sql)) {
    // Final aggregate over partials shuffled by the group keys: its share of all groups. Else the groups in its rows.
    const groups = main.grouped ? groupsIn(main.fact, main.factRows * main.partitions) / main.partitions : groupsIn(main.fact, main.factRows);
    const out = Math.min(rows, groups);
    cpuMs += (rows * m.aggregateUsPerRow + out * m.aggregateUsPerGroup) / 1000;
    rows = out;
  }
  rows = limited(s.sql, rows);
  const outBytes = rows * rowBytes(s.columns, m);
  cpuMs += (outBytes / 1e9) * m.parquetWriteSecondsPerGb * 1000;
  return { task: { reads, cpuMs, outRows: rows, outBytes }, fact: main.fact, factRows: main.factRows };
}

/** The coordinator's work: the gathered stages' segments (one GET per task), read and, when its SQL groups, aggregated. */
export function estimateCoordinator(plan: SqlPlan, stages: StageEstimate[], m: SqlTaskModel = sqlTaskModel): { reads: TaskRead[]; cpuMs: number; rows: number } {
  const reads: TaskRead[] = [];
  let cpuMs = 0;
  let rows = 0;
  let main: StageEstimate | undefined;
  for (const i of plan.coordinator.inputs) {
    const s = stages[i.stage - 1]!;
    reads.push({ prefix: SHUFFLE_PREFIX, bytes: s.outBytes, requests: s.tasks.length });
    cpuMs += (s.outBytes / 1e9) * m.parquetReadSecondsPerGb * 1000;
    rows += s.outRows;
    if (!main || s.outRows > main.outRows) main = s;
  }
  if (GROUP_BY.test(plan.coordinator.sql) && main) {
    const out = Math.min(rows, groupsIn(main.fact, main.factRows));
    cpuMs += (rows * m.aggregateUsPerRow + out * m.aggregateUsPerGroup) / 1000;
    rows = out;
  }
  return { reads, cpuMs, rows: limited(plan.coordinator.sql, rows) };
}
