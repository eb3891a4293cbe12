/** Small pieces the built-in DuckDB workers share: phase timers and DuckDB errors told in the input's terms. */
import type { LocalFile } from "../mapreduce/materialize.js";
import type { TaskContext } from "../task-runtime/context.js";
import { duckdbText, INVALID_UNICODE_HINT, isInvalidUnicode } from "../duckdb/messages.js";

/** Adds the ms since `t` to the task's counter `name` (a phase timer); returns now. */
export function lap(ctx: TaskContext, name: string, t: number): number {
  const now = performance.now();
  ctx.count(name, now - t);
  return now;
}

/** How a split is named in messages: its object's URL (or key) and byte range. */
export function splitName(f: LocalFile): string {
  const object = f.split.store ? `${f.split.store.replace(/\/$/, "")}/${f.split.key}` : f.split.key;
  return `${object} [bytes ${f.split.range.start}-${f.split.range.end})`;
}

/**
 * A DuckDB error's message without its prefix and SQL echo, with local temp paths replaced by the
 * splits they hold, and without what names DuckDB's own options (its "Possible solutions" and
 * the reader's option dump: `ignore_errors`, `strict_mode`, `sample_size`...), which Smelter
 * spells differently (--bad-rows skip, --schema, --table-option) and the hint after it gives.
 */
export function duckdbMessage(err: unknown, files: LocalFile[]): string {
  let message = duckdbText((err as Error).message.replace(/^\[smelter\] (DuckDB: )?/, "").replace(/\n\s+in SQL:[\s\S]*$/, ""));
  // A temp file's path becomes its split's name; the object's own URL, which holds the path of a local object read in place, stays as it is (not a URL inside a URL).
  for (const f of files) {
    const url = f.object;
    const name = (text: string) => text.split(f.path).join(splitName(f));
    message = url ? message.split(url).map(name).join(url) : name(message);
  }
  return message;
}


/**
 * What a DuckDB failure means and what to do: only errors about the data (conversion, CSV
 * parsing, invalid input) point at the input's format and --schema and are final; a full disk
 * or memory is the worker's, not the input's, and another attempt (elsewhere, later) may work.
 */
export function duckdbFailure(err: unknown, inputHint = "Check the input's format and columns (--schema, --delimiter, --header ...), fix or remove the malformed rows, or skip them with --bad-rows skip (counted)"): { hint: string; nonRetryable: boolean; type: string } {
  const m = (err as Error)?.message ?? String(err);
  if (/No space left on device|ENOSPC|disk is full|Disk quota exceeded|could not write all bytes/i.test(m))
    return { hint: "The worker's temp disk is full: free space there (TMPDIR) or give workers more disk; it can be retried", nonRetryable: false, type: "DiskFull" };
  if (/Out of Memory Error|failed to allocate|std::bad_alloc|memory limit/i.test(m))
    return { hint: "DuckDB ran out of memory: give workers more memory, or make tasks smaller (more --partitions); it can be retried", nonRetryable: false, type: "OutOfMemory" };
  if (/\bIO Error\b|Permission denied|Input\/output error/i.test(m)) return { hint: "A local file could not be read or written: check the worker's temp directory; it can be retried", nonRetryable: false, type: "IOError" };
  if (/INTERNAL Error/.test(m)) return { hint: "DuckDB failed inside (an internal error, a bug in DuckDB) on this input: fix or remove the rows it names, or read them another way (other options, --schema types)", nonRetryable: true, type: "DuckDbInternal" };
  if (isInvalidUnicode(m)) return { hint: INVALID_UNICODE_HINT.replace(/^t/, "T"), nonRetryable: true, type: "InputError" };
  // A conversion that is not the CSV reader's (no "CSV Error"): the query's own cast (`g::INTEGER`) as likely as the input.
  if (/Conversion Error|Could not convert/i.test(m) && !/CSV Error/i.test(m))
    return { hint: "A value could not be converted: by a cast in the query (CAST, ::, a function's argument), or in reading the input with the table's column types (--schema). Check the query's casts first (TRY_CAST gives NULL instead); --bad-rows skip skips only rows the input cannot be read as", nonRetryable: true, type: "InputError" };
  if (/CSV Error|Invalid Input Error|Error when sniffing|malformed/i.test(m))
    return { hint: inputHint, nonRetryable: true, type: "InputError" };
  if (/Binder Error|Catalog Error|Parser Error/i.test(m)) return { hint: "Check the column and table names against the input's columns (--schema)", nonRetryable: true, type: "InputError" };
  return { hint: "", nonRetryable: true, type: "DuckDbError" };
}
