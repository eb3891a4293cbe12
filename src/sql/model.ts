/**
 * A query plan as plain JSON data: stages of tasks, each running one SQL statement in DuckDB over
 * named inputs (views), with its output either shuffled into R partitions by a hash of key
 * expressions or gathered to the coordinator; and the SQL the coordinator runs last.
 *
 * How a stage runs (the same in the engine and in tests' local executor):
 * - every input becomes a view with the input's `view` name: a table's files (this task's split,
 *   or all of them for a broadcast), or the rows an earlier stage wrote (this task's partition, or
 *   everything it gathered);
 * - the stage's `sql` runs over those views;
 * - its rows go to partition `partitionBy` (an expression over the stage's output columns,
 *   `hash(...) % R`), or to the coordinator.
 * The coordinator's `sql` runs over views `__s<N>` of the gathered stages' rows.
 */
import type { HivePruning } from "./prune.js";
import type { SqlTable } from "./tables.js";

export type StageInput =
  /** A table: `split` = this task's split of it (one task per split); `whole` = all of it (broadcast). */
  | { view: string; table: string; read: "split" | "whole" }
  /** An earlier stage's rows: `partition` = this task's partition (one task per partition); `all` = every row. */
  | { view: string; stage: number; read: "partition" | "all" };

export type StageOutput =
  | { kind: "shuffle"; partitions: number; keys: string[]; partitionBy: string }
  | { kind: "gather" };

export interface PlanStage {
  /** 1, 2, ... in the order they run. */
  id: number;
  /** What it does, e.g. "scan uservisits + partial aggregate". */
  name: string;
  /** How many tasks: one per split of `table`, one per partition of the input, or one. */
  tasks: { kind: "splits"; table: string } | { kind: "partitions"; count: number } | { kind: "single" };
  inputs: StageInput[];
  sql: string;
  /** The stage's output columns (names and DuckDB types), from binding its SQL. */
  columns: { name: string; type: string }[];
  output: StageOutput;
  /**
   * A split stage of partial aggregates: the same columns without the combine (one row of
   * partials per input row, each cast to its partial's type), and the group key columns. A task
   * whose keys are nearly all distinct runs this instead of `sql`: grouping would shrink nothing
   * and costs about what the final aggregate costs (src/builtin-workers/sql-stage.ts).
   */
  uncombined?: { sql: string; keys: string[] };
}

export interface SqlPlan {
  /** The query as given. */
  query: string;
  /** How the query was planned, e.g. "partial aggregate", "broadcast join + partial aggregate". */
  strategy: string;
  tables: SqlTable[];
  stages: PlanStage[];
  coordinator: {
    inputs: { view: string; stage: number }[];
    sql: string;
    /**
     * The stage whose gathered rows ARE the result (in any order, columns in result order), when
     * the coordinator only renames them (no ORDER BY, LIMIT, DISTINCT or aggregate left to apply).
     * Its tasks can then write their share of the result themselves (e.g. parts of one object).
     */
    resultStage: number | null;
  };
  /**
   * The result's columns, as DuckDB alone names and types them in a table (or a CSV/Parquet file):
   * a repeated name gets a suffix (`x`, `x_1`, `x_2`, compared case-insensitively).
   */
  columns: { name: string; type: string }[];
  /** Decisions worth showing (why broadcast, why raw rows are shuffled, ...). */
  notes: string[];
  /** Tables in hive-style directories whose objects the WHERE prunes by their directories' values (sql/prune.ts): query/prepare.ts packs tasks of those only. */
  pruning?: HivePruning[];
}

export interface PlanOptions {
  /**
   * R for every shuffle. @default derived from the tables' bytes: max(workers, bytes / 8 / 256 MiB), else 4; and a grouped
   * aggregate whose partials (bytes / 8) fit one reducer's 256 MiB has no final stage: the coordinator finishes it
   */
  partitions?: number;
  /** Workers (the floor of the derived R). @default 4 */
  workers?: number;
  /** Broadcast the smaller join side when it has at most this many bytes. @default 64 MiB */
  broadcastBytes?: number;
  /** Force a join strategy. @default "auto" */
  join?: "auto" | "broadcast" | "partitioned";
  /** Plan what cannot be distributed (but is exact over all inputs at once) as ONE task. @default false */
  allowSingleTask?: boolean;
}
