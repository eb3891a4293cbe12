/**
 * Checks made before a job starts on a local file it will write (`--output`, `--events`): the
 * directory exists and takes a new file (a probe file is created and removed at once: a read-only
 * or missing directory, or one on a filesystem that refuses files such as /proc, fails here in
 * milliseconds, not after the query), the path is not a directory, and an existing file is not
 * replaced unless `overwrite`.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ConfigError } from "../job/errors.js";
import { systemContext } from "../job/runtime-context.js";

export interface LocalTargetOptions {
  /** Replace an existing file. @default false: an existing file is refused */
  overwrite?: boolean;
  /** The file is replaced anyway (an events log): no overwrite check. @default false */
  replaces?: boolean;
}

export async function checkLocalTarget(flag: string, file: string, o: LocalTargetOptions = {}): Promise<void> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st) throw new ConfigError(`${flag} ${file}: directory ${dir} does not exist: create it first, or write somewhere else`);
  if (!st.isDirectory()) throw new ConfigError(`${flag} ${file}: ${dir} is not a directory (a file is there): pick a path whose parents are directories`);
  const existing = await fs.stat(abs).catch(() => undefined);
  if (existing?.isDirectory()) throw new ConfigError(`${flag} ${file} is a directory: give a file name`);
  if (existing && !o.overwrite && !o.replaces) throw new ConfigError(`${flag} ${file} already exists: pass --overwrite to replace it, or choose another name`);
  const probe = path.join(dir, `.smelter-probe-${systemContext().ids.hex(16)}`);
  try {
    await (await fs.open(probe, "wx")).close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new ConfigError(`${flag} ${file}: cannot write in ${dir} (${code || (err as Error).message}): pick a writable directory`, { cause: err });
  }
  await fs.rm(probe, { force: true });
}
