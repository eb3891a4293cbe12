/**
 * What the SQL input tests share (test/sql/inputs.test.ts, exact-inputs.test.ts): a temp directory
 * to write input files into, DuckDB alone, a planner session and a threads engine of 2 workers,
 * all closed (and the directory removed) by `close`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadsBackend } from "../../src/backends/index.js";
import { openDuckDb, type DuckDb } from "../../src/duckdb/index.js";
import { Manager } from "../../src/scheduler/manager.js";
import { SqlSession } from "../../src/sql/parse.js";

const entry = new URL("../../src/builtin-workers/builtin.js", import.meta.url);

export interface InputTestEnv {
  dir: string;
  db: DuckDb;
  session: SqlSession;
  threads: Manager;
  /** Writes files under dir/name/ and returns the directory URL (with a trailing slash). */
  files(name: string, contents: Record<string, string | Uint8Array>): string;
  close(): Promise<void>;
}

export async function openInputTestEnv(prefix: string): Promise<InputTestEnv> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = await openDuckDb({ threads: 1 });
  const session = await SqlSession.open();
  const threads = new Manager({ backend: threadsBackend({ entry, workers: 2 }) });
  return {
    dir,
    db,
    session,
    threads,
    files(name, contents) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      for (const [f, text] of Object.entries(contents)) writeFileSync(join(d, f), text);
      return `${d}/`;
    },
    async close() {
      db.close();
      session.close();
      await threads.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
