/** The planner's working state: the session, options, and the stages planned so far (as trees). */
import { sqlIdentifier } from "../duckdb/sql.js";
import { derivePartitions as partitionsFor, mergeOnCoordinator, partialBytes, REDUCER_BYTES } from "../shuffle/sizing.js";
import { selectNode, withAlias, type Expr, type SelectNode, type TableRef } from "./ast.js";
import { fmtBytes } from "./bytes.js";
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
  /**
   * A partial aggregate's split stage: the same rows' partials without the combine, for tasks
   * whose group keys are nearly all distinct. `node` projects the keys and what the aggregates
   * read per row; `columns` gives each output column as SQL over it (model.ts `uncombined`).
   */
  uncombined?: { node: SelectNode; keys: string[]; columns: { name: string; sql: string }[] };
}

export class PlanContext {
  readonly stages: StageDraft[] = [];
  readonly notes: string[] = [];
  readonly partitions: number;
  /**
   * Grouped aggregates finish on the coordinator (their partials gathered, no shuffle, no final
   * stage): no R was given and the partials are estimated small, by the shuffle's sizing rule (src/shuffle/sizing.ts)
   * ({@link mergeOnCoordinator}); the note says why. Undefined: reducers as usual.
   */
  readonly mergeOnCoordinator: string | undefined;
  constructor(
    readonly session: SqlSession,
    readonly tables: SqlTable[],
    readonly options: PlanOptions,
    readonly sql: string,
    readonly aggregates: Set<string>,
  ) {
    this.partitions = options.partitions ?? derivePartitions(tables, options.workers ?? 4);
    const bytes = inputBytes(tables);
    this.mergeOnCoordinator =
      options.partitions === undefined && bytes !== undefined && mergeOnCoordinator(bytes)
        ? `partials ~${fmtBytes(partialBytes(bytes))} (1/8 of the input's ${fmtBytes(bytes)}), at most one reducer's ${fmtBytes(REDUCER_BYTES)}: the final aggregate runs on the coordinator over the gathered partials (no final stage); pass --partitions R for R reducers`
        : undefined;
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
  return partitionsFor({ mapOutputBytes: partialBytes(inputBytes(tables) ?? 0), workers });
}

/** The tables' bytes; undefined when a table's size is unknown. */
function inputBytes(tables: SqlTable[]): number | undefined {
  return tables.every((t) => t.bytes !== undefined) ? tables.reduce((s, t) => s + t.bytes!, 0) : undefined;
}
