/**
 * A configuration file: found (an explicit path, else `smelter.config.json` in the working
 * directory), read, parsed as JSON and validated with a zod schema the caller gives, with errors
 * that name the file, the key and the line (`[smelter] ./smelter.config.json: lambda.concurrency
 * (line 7): must be at least 1`). What the keys mean is the CLI's (src/cli/config.ts). JSON only:
 * it needs no parser dependency and runs no code (a .js/.ts config would execute in the manager
 * with its credentials); see docs/cli/config.md.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { z } from "zod";
import { ConfigError } from "../job/errors.js";

/** The file looked for in the working directory when no path is given. */
export const CONFIG_FILE_NAME = "smelter.config.json";

export interface LoadedConfig<T> {
  /** The file's path as the user wrote it (or ./smelter.config.json). */
  file: string;
  config: T;
}

/**
 * Loads the config: `explicit` (must exist), else `<cwd>/smelter.config.json` (optional: undefined
 * when absent). Throws ConfigError naming the file and key on an unreadable file, bad JSON or a
 * value the schema refuses.
 */
export async function loadConfigFile<S extends z.ZodType>(schema: S, o: { explicit?: string | undefined; cwd?: string }): Promise<LoadedConfig<z.output<S>> | undefined> {
  const file = o.explicit ?? `./${CONFIG_FILE_NAME}`;
  const path = resolve(o.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && o.explicit === undefined) return undefined;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ConfigError(`cannot read the config file ${file} (${why}): fix the path given to --config`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}): the config file is JSON (docs/cli/config.md)`, { cause: err });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => {
      const key = i.path.map(String).join(".");
      const line = key ? lineOf(text, i.path) : undefined;
      return `${key || "(the whole file)"}${line ? ` (line ${line})` : ""}: ${i.message}`;
    });
    throw new ConfigError(`${file}: ${problems.join("; ")} (docs/cli/config.md)`);
  }
  return { file, config: r.data };
}

/** The line of the last key of `path` in the JSON text (its first occurrence after its parent's), for messages; undefined when not found. */
function lineOf(text: string, path: readonly PropertyKey[]): number | undefined {
  let from = 0;
  for (const part of path) {
    if (typeof part !== "string") continue;
    const at = text.indexOf(JSON.stringify(part), from);
    if (at < 0) return undefined;
    from = at;
  }
  return text.slice(0, from).split("\n").length;
}
