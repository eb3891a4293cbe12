/** A plan as text for `smelter explain`: stages, their tasks and inputs, SQL, shuffles, the coordinator. */
import { describeDialect } from "../splits/dialect.js";
import { fmtBytes } from "./bytes.js";
import type { PlanStage, SqlPlan } from "./model.js";

export function formatPlan(plan: SqlPlan): string {
  const out: string[] = [];
  out.push(`query: ${plan.query.replace(/\s+/g, " ").trim()}`);
  out.push(`plan: ${plan.strategy}`);
  for (const t of plan.tables) {
    const size = [t.splits !== undefined ? `${t.splits} split${t.splits === 1 ? "" : "s"}` : "", t.bytes !== undefined ? fmtBytes(t.bytes) : "size unknown"].filter(Boolean).join(", ");
    out.push(`table ${t.name}: ${t.url} (${t.format}${t.format === "csv" ? `, ${describeDialect(t)}` : ""}${t.badRows === "skip" ? ", bad rows skipped and counted" : ""}; ${size})`);
    if (t.format === "csv" && t.detected?.length) out.push(`  sniffed from its first object: ${t.detected.join(", ")}`);
  }
  for (const n of plan.notes) out.push(`note: ${n}`);
  for (const s of plan.stages) {
    out.push("");
    out.push(`stage ${s.id}: ${s.name}`);
    out.push(`  tasks: ${tasks(plan, s)}`);
    for (const i of s.inputs) out.push(`  input ${i.view}: ${"table" in i ? (i.read === "split" ? `one split of table ${i.table}` : `all of table ${i.table} (broadcast)`) : i.read === "partition" ? `the task's partition of stage ${i.stage}` : `every row of stage ${i.stage}`}`);
    out.push(`  sql: ${s.sql}`);
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

function tasks(plan: SqlPlan, s: PlanStage): string {
  if (s.tasks.kind === "single") return "1 (every input read whole)";
  if (s.tasks.kind === "partitions") return `${s.tasks.count} (one per partition)`;
  const name = s.tasks.table;
  const t = plan.tables.find((x) => x.name === name);
  const n = t?.splits;
  return n === undefined ? `one per split of ${name}` : `${n} (one per split of ${name}${t?.bytes !== undefined ? `, ${fmtBytes(t.bytes)}` : ""})`;
}
