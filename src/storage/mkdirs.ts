/**
 * `mkdir -p` that always ends. Node's `fs.mkdir(dir, { recursive: true })` loops forever (100% CPU)
 * when a directory cannot be created and the kernel answers ENOENT although its parent exists, as
 * procfs does (`/proc/nope`): it takes the ENOENT for a missing parent, creates the parent (which
 * exists), and tries again. Here each missing directory is created once, from the deepest existing
 * ancestor down, and any failure is thrown.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";

export async function mkdirs(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    const st = await fs.stat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: "ENOTDIR", path: at });
      break;
    }
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing.reverse()) {
    await fs.mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err; // created meanwhile by someone else: fine
    });
  }
}
