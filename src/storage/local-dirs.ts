/**
 * Creates a directory and its missing parents, one level at a time. Node's own
 * `mkdir(dir, { recursive: true })` loops forever (100% CPU) when a level answers ENOENT although
 * its parent exists, as under /proc (`mkdir /proc/nope` is ENOENT): measured on Node 20. Here a
 * level that cannot be made fails at once with the errno of that level.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";

export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR", path: d });
      break;
    }
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await fs.mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
}

/**
 * Makes `dir`, then runs `f`, which creates an entry in it (opens a file, renames one in, makes a
 * temp directory). Cleanups remove emptied directories (a local store's DELETE, the end of a job,
 * s3rver's own), so `dir` or a parent can vanish between the two: on ENOENT it is made again and
 * `f` retried, up to 10 times, while `retry` says the ENOENT can be that (a rename's source still
 * exists). The one place for that race; its callers are the local store's writes, attempts' temp
 * directories and the embedded server's PUTs.
 */
export async function inDir<T>(dir: string, f: () => Promise<T>, retry: () => Promise<boolean> = async () => true): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      await makeDirs(dir);
      return await f();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || tries >= 10 || !(await retry())) throw err;
    }
  }
}
