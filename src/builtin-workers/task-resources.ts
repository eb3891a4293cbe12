/**
 * What a worker keeps across tasks (warm workers): one DuckDB per worker thread or process, and
 * stores opened by URL (S3 clients reuse their connections). The DuckDB is lent to one task at a
 * time (`withDuckDb`), so tasks that name views alike never see each other's (the inline backend
 * runs several tasks in one process).
 */
import { mkdtemp, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { openDuckDb, type DuckDb } from "../duckdb/index.js";
import { jobTempDir } from "../job/temporaries.js";
import { inDir } from "../storage/local-dirs.js";
import type { TaskContext } from "../task-runtime/context.js";

let shared: { threads: number; db: Promise<DuckDb> } | undefined;
let queue: Promise<void> = Promise.resolve();

/**
 * Runs `f` with this worker's DuckDB (reopened only when the thread count changes), one task at a
 * time. When `signal` aborts (the attempt is killed: Ctrl-C, a lost speculative race), the query
 * running is interrupted, so the attempt ends within the kill's grace and its worker stays warm.
 * Without it a long query ran on, and a pool thread still in it was terminated with its DuckDB
 * busy, which aborted the whole process ("terminate called after throwing an instance of
 * 'Napi::Error'", every Ctrl-C of `smelter sql --backend threads` on 10M rows).
 */
export async function withDuckDb<T>(threads: number, f: (db: DuckDb) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const previous = queue;
  let release!: () => void;
  queue = new Promise<void>((r) => (release = r));
  await previous;
  try {
    if (shared?.threads !== threads) {
      const old = shared;
      shared = { threads, db: openDuckDb({ threads }) };
      if (old) (await old.db).close();
    }
    const db = await shared.db;
    const interrupt = () => db.connection.interrupt();
    signal?.addEventListener("abort", interrupt, { once: true });
    try {
      signal?.throwIfAborted();
      return await f(db);
    } finally {
      signal?.removeEventListener("abort", interrupt);
    }
  } finally {
    release();
  }
}

export { cachedStore } from "../storage/cache.js";

/**
 * A new directory for one attempt's temporary files, under its job's local temp directory
 * (`<tmpdir>/smelter-jobs/<jobId>/<attemptId>-<random>/`): the attempt removes it when it ends
 * ({@link releaseAttemptTempDir}), and the coordinator removes the job's directory when the job
 * ends, so an attempt killed from outside leaves nothing (src/job/temporaries.ts). The job's
 * directory can vanish while this makes it (another attempt released the last one): made again.
 */
export async function attemptTempDir(ctx: Pick<TaskContext, "jobId" | "attemptId">): Promise<string> {
  const parent = jobTempDir(ctx.jobId);
  return inDir(parent, () => mkdtemp(join(parent, `${ctx.attemptId}-`)));
}

/**
 * Removes an attempt's directory, and its job's directory when that is now empty: a worker whose
 * temp dir is not its coordinator's (another machine, or a container sharing this one's /tmp)
 * leaves no empty `smelter-jobs/<jobId>/` behind.
 */
export async function releaseAttemptTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rmdir(dirname(dir)).catch(() => undefined); // not empty (other attempts), or gone: theirs to remove
}
