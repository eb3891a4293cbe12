/**
 * Whole objects as local file paths for the coordinator's DuckDB (map or reducer outputs it reads
 * itself): in place for a store whose objects are local files (`store.localPath`), else fetched
 * into a temp dir. Used by the query executor's coordinator (src/query/execute.ts: SQL and Query 2).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import type { ObjectStore } from "../storage/contract.js";

/** Local paths of whole objects: in place for a store whose objects are local files (`store.localPath`), else fetched into a temp dir (`release` deletes it). */
export async function localFiles(store: ObjectStore, keys: string[]): Promise<{ paths: string[]; release: () => Promise<void> }> {
  const localPath = store.localPath;
  if (localPath) return { paths: keys.map((k) => localPath(k)), release: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), "smelter-gather-"));
  try {
    const limit = pLimit(8);
    const paths = await Promise.all(
      keys.map((key, i) =>
        limit(async () => {
          const file = join(dir, `o${i}.parquet`);
          await writeFile(file, await store.get(key));
          return file;
        }),
      ),
    );
    return { paths, release: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
