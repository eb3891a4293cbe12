/** The planner's working state: the session, options, and the stages planned so far (as trees). */
import { sqlIdentifier } from "../duckdb/sql.js";
import { selectNode, withAlias, type Expr, type SelectNode, type TableRef } from "./ast.js";
import type { PlanOptions, StageInput, StageOutput, PlanStage } from "./model.js";
import type { SqlSession } from "./parse.js";
import type { SqlTable } from "./tables.js";

export interface StageDraft {
  id: number;
  name: string;
  tasks: PlanStage["tasks"];
  inputs: StageInput[];
  node: SelectNode;
  output: StageOutput;
}

export class PlanContext {
  readonly stages: StageDraft[] = [];
  readonly notes: string[] = [];
  readonly partitions: number;
  constructor(
    readonly session: SqlSession,
    readonly tables: SqlTable[],
    readonly options: PlanOptions,
    readonly sql: string,
    readonly aggregates: Set<string>,
  ) {
    this.partitions = options.partitions ?? derivePartitions(tables, options.workers ?? 4);
  }

  add(stage: Omit<StageDraft, "id">): StageDraft {
    const s = { ...stage, id: this.stages.length + 1 };
    this.stages.push(s);
    return s;
  }

  /** A shuffle by columns of the stage's output (quoted names). */
  shuffleBy(columns: string[]): StageOutput {
    const keys = columns.map(sqlIdentifier);
    return { kind: "shuffle", partitions: this.partitions, keys, partitionBy: `hash(${keys.join(", ")}) % ${this.partitions}` };
  }

  /** DuckDB types of `exprs` evaluated over `from`. */
  async typesOf(exprs: Expr[], from: TableRef): Promise<string[]> {
    if (exprs.length === 0) return [];
    const node = selectNode({ select: exprs.map((e, i) => withAlias(e, `__t${i}`)), from });
    return (await this.session.describe(await this.session.print(node))).map((c) => c.type);
  }

  /** Text of one expression. */
  async exprSql(e: Expr): Promise<string> {
    const text = await this.session.print(selectNode({ select: [withAlias(e, "")], from: { type: "EMPTY", alias: "", sample: null } }));
    return text.replace(/^SELECT /, "");
  }
}

/** R from the tables' bytes: partial aggregates estimated at 1/8 of the input, 256 MiB per reducer; at least `workers`. */
export function derivePartitions(tables: SqlTable[], workers: number): number {
  const bytes = tables.reduce((s, t) => s + (t.bytes ?? 0), 0);
  return Math.max(1, Math.min(4096, Math.max(workers, Math.ceil(bytes / 8 / (256 * 1024 * 1024)))));
}
