/**
 * What the remote backends' flags (lambda, fargate) share: where a backend keeps what it passes
 * through object storage when the job gives no work store of its own (the same default for every
 * `--<name>-store`), and the check a backend passes before the job starts.
 */
import { withSlash } from "../backends/remote/keys.js";
import { parseStoreUrl } from "../storage/url.js";

export { withSlash };

/** `<work>/<name>/` for an s3:// --work, else the bucket of the job's first s3:// input (`--input`, else the first `--table NAME=URL`) under `_smelter/<name>/`. */
export function defaultRemoteStore(name: string, flags: Record<string, unknown>): string | undefined {
  const work = flags.work;
  if (typeof work === "string" && work.startsWith("s3://")) return `${withSlash(work)}${name}/`;
  const input = firstInput(flags);
  if (typeof input === "string" && input.startsWith("s3://")) return `s3://${(parseStoreUrl(input) as { bucket: string }).bucket}/_smelter/${name}/`;
  return undefined;
}

/** The job's first input: `--input`, else the first `--table NAME=URL`'s URL. */
function firstInput(flags: Record<string, unknown>): unknown {
  if (flags.input !== undefined) return flags.input;
  const tables = Array.isArray(flags.table) ? (flags.table as unknown[]) : [];
  const first = tables.find((t): t is string => typeof t === "string" && t.includes("="));
  return first?.slice(first.indexOf("=") + 1);
}


/** Runs the backend's check (its endpoint, credentials and resources) before any job; a backend that fails it is closed. */
export async function checkedBackend<B extends { check(): Promise<unknown>; close?(): Promise<void> }>(backend: B): Promise<B> {
  try {
    await backend.check();
  } catch (err) {
    await backend.close?.();
    throw err;
  }
  return backend;
}
