/**
 * A prepared query as text for `smelter explain`: tables (as listed), stages with the tasks that
 * will run (a leaf stage's packed splits, from the table's one listing), their inputs, SQL,
 * shuffles, and the coordinator.
 */
import { describeDialect } from "../splits/dialect.js";
import { fmtBytes } from "../sql/bytes.js";
import type { PlanStage, SqlPlan } from "../sql/model.js";
import type { Split } from "../splits/split.js";
import type { PreparedQuery, PreparedStage } from "./prepare.js";

/** Tasks whose splits are printed per leaf stage (all of them with --format json). */
const TASKS_SHOWN = 20;

/** A prepared query (tasks known), or a bare plan (tasks per split, as the planner estimates them). */
export function formatPlan(given: PreparedQuery | SqlPlan): string {
  const p = "plan" in given ? given : undefined;
  const plan = p ? p.plan : (given as SqlPlan);
  const out: string[] = [];
  out.push(`query: ${plan.query.replace(/\s+/g, " ").trim()}`);
  out.push(`plan: ${plan.strategy}`);
  if (p) out.push(`workers: ${p.workers}`);
  for (const t of plan.tables) {
    const l = p?.listings.get(t.name);
    const size = l ? `${l.objects} object${l.objects === 1 ? "" : "s"}, ${fmtBytes(l.bytes)}` : [t.splits !== undefined ? `${t.splits} split${t.splits === 1 ? "" : "s"}` : "", t.bytes !== undefined ? fmtBytes(t.bytes) : "size unknown"].filter(Boolean).join(", ");
    out.push(`table ${t.name}: ${t.url} (${t.format}${t.format === "csv" ? `, ${describeDialect(t)}` : ""}${t.badRows === "skip" ? ", bad rows skipped and counted" : ""}; ${size})`);
    if (t.format === "csv" && t.detected?.length) out.push(`  sniffed from its first objects with data (up to 10, as DuckDB alone sniffs a glob): ${t.detected.join(", ")}`);
    if (t.format === "csv" && t.sniffedFrom) out.push(`  each later object sniffed by the task reading its start, and refused if its dialect or a column's type differs (as DuckDB alone checks each file of a glob)`);
  }
  for (const n of plan.notes) out.push(`note: ${n}`);
  for (const n of p?.pruned ?? []) out.push(`note: ${n}`);
  for (const s of plan.stages) {
    const prepared = p?.stages[s.id - 1];
    out.push("");
    out.push(`stage ${s.id}: ${s.name}`);
    out.push(`  tasks: ${prepared ? tasks(s, prepared) : estimated(plan, s)}`);
    if (prepared?.leaf) {
      for (const t of prepared.tasks.slice(0, TASKS_SHOWN)) out.push(`    task ${t.n}: ${splitList(t.splits)}`);
      if (prepared.tasks.length > TASKS_SHOWN) out.push(`    ... ${prepared.tasks.length - TASKS_SHOWN} more (--format json lists every task's splits)`);
    }
    for (const i of s.inputs) out.push(`  input ${i.view}: ${"table" in i ? (i.read === "split" ? `the task's splits of table ${i.table}` : `all of table ${i.table} (broadcast)`) : i.read === "partition" ? `the task's partition of stage ${i.stage}` : `every row of stage ${i.stage}`}`);
    out.push(`  sql: ${s.sql}`);
    if (s.uncombined) out.push(`  without the combine (a task whose sampled keys are 90% distinct or more): ${s.uncombined.sql}`);
    out.push(`  columns: ${s.columns.map((c) => `${c.name} ${c.type}`).join(", ")}`);
    out.push(s.output.kind === "shuffle" ? `  output: shuffle by ${s.output.keys.join(", ")} into ${s.output.partitions} partitions (${s.output.partitionBy})` : "  output: gathered on the coordinator");
  }
  out.push("");
  out.push(`coordinator: ${plan.coordinator.sql}`);
  out.push(`  inputs: ${plan.coordinator.inputs.map((i) => `${i.view} = every row of stage ${i.stage}`).join(", ")}`);
  out.push(`  result: ${plan.columns.map((c) => `${c.name} ${c.type}`).join(", ")}`);
  const rs = plan.coordinator.resultStage;
  out.push(rs !== null ? `  rows: stage ${rs}'s rows as they are (a CSV --output is uploaded by its tasks, one partition each)` : "  rows: made here (ORDER BY, LIMIT, DISTINCT or a final aggregate; an --output object is uploaded by the coordinator)");
  return out.join("\n");
}

function tasks(s: PlanStage, p: PreparedStage): string {
  const n = p.tasks.length;
  if (s.tasks.kind === "single") return "1 (every input read whole)";
  if (s.tasks.kind === "partitions") return `${n} (one per partition)`;
  const leaf = p.leaf!;
  return `${n} (splits of ${leaf.table}, ${fmtBytes(leaf.bytes)}, packed ~${fmtBytes(leaf.taskBytes)} a task)`;
}

/** A bare plan's task counts: one per split of the table (the planner's estimate). */
function estimated(plan: SqlPlan, s: PlanStage): string {
  if (s.tasks.kind === "single") return "1 (every input read whole)";
  if (s.tasks.kind === "partitions") return `${s.tasks.count} (one per partition)`;
  const name = s.tasks.table;
  const t = plan.tables.find((x) => x.name === name);
  return t?.splits === undefined ? `one per split of ${name}` : `~${t.splits} (one per split of ${name}${t.bytes !== undefined ? `, ${fmtBytes(t.bytes)}` : ""})`;
}

function splitList(splits: Split[]): string {
  const one = (x: Split) => (x.range.start === 0 && x.range.end === x.fileSize ? x.key : `${x.key} [${x.range.start}, ${x.range.end})`);
  const shown = splits.slice(0, 3).map(one).join(", ");
  return splits.length > 3 ? `${splits.length} splits: ${shown}, ...` : shown;
}
