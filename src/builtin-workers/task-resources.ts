/**
 * What a worker keeps across tasks (warm workers): one DuckDB per worker thread or process, and
 * stores opened by URL (S3 clients reuse their connections). The DuckDB is lent to one task at a
 * time (`withDuckDb`), so tasks that name views alike never see each other's (the inline backend
 * runs several tasks in one process).
 */
import { openDuckDb, type DuckDb } from "../duckdb/index.js";

let shared: { threads: number; db: Promise<DuckDb> } | undefined;
let queue: Promise<void> = Promise.resolve();

/** Runs `f` with this worker's DuckDB (reopened only when the thread count changes), one task at a time. */
export async function withDuckDb<T>(threads: number, f: (db: DuckDb) => Promise<T>): Promise<T> {
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
    return await f(await shared.db);
  } finally {
    release();
  }
}

export { cachedStore } from "../storage/cache.js";
