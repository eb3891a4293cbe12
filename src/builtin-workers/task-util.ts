/** Small pieces the built-in DuckDB workers share: phase timers and DuckDB errors told in the input's terms. */
import type { LocalFile } from "../mapreduce/materialize.js";
import type { TaskContext } from "../task-runtime/context.js";

/** Adds the ms since `t` to the task's counter `name` (a phase timer); returns now. */
export function lap(ctx: TaskContext, name: string, t: number): number {
  const now = performance.now();
  ctx.count(name, now - t);
  return now;
}

/** How a split is named in messages: its key and byte range. */
export function splitName(f: LocalFile): string {
  return `${f.split.key} [bytes ${f.split.range.start}-${f.split.range.end})`;
}

/** A DuckDB error's message without its prefix and SQL echo, with local temp paths replaced by the splits they hold. */
export function duckdbMessage(err: unknown, files: LocalFile[]): string {
  let message = (err as Error).message.replace(/^\[smelter\] (DuckDB: )?/, "").replace(/\n\s+in SQL:[\s\S]*$/, "");
  for (const f of files) message = message.split(f.path).join(splitName(f));
  return message;
}
