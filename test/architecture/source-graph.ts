/**
 * The import graph of src/, read with the TypeScript compiler's own pre-processor
 * (`ts.preProcessFile`: every `import`, `import type`, `export ... from`, `import("...")` and
 * `require`), so the architecture tests see exactly what tsc compiles, with no extra dependency.
 * Paths are relative to src/ with `/` separators (`scheduler/stage.ts`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** dist/test/architecture -> the repository root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SRC = join(ROOT, "src");

export interface SourceFile {
  /** Relative to src/: `scheduler/stage.ts`, `index.ts`. */
  path: string;
  text: string;
}

/** Every .ts file under src/ (declaration files excluded), sorted. */
export function sourceFiles(): SourceFile[] {
  return readdirSync(SRC, { recursive: true })
    .map((f) => String(f).split("\\").join("/"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort()
    .map((path) => ({ path, text: readFileSync(join(SRC, path), "utf8") }));
}

/** One file's imports: `local` resolved to src-relative `.ts` paths (those leaving src/ dropped), `packages` as written. */
export interface FileImports {
  local: string[];
  packages: string[];
}

export function importsOf(file: SourceFile): FileImports {
  const local: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of ts.preProcessFile(file.text, true, true).importedFiles) {
    if (!fileName.startsWith(".")) {
      packages.push(fileName);
      continue;
    }
    const resolved = posix.normalize(posix.join(posix.dirname(file.path), fileName)).replace(/\.js$/, ".ts");
    if (!resolved.startsWith("../")) local.push(resolved);
  }
  return { local, packages };
}

/** The whole graph: file -> its imports. */
export function importGraph(files: SourceFile[] = sourceFiles()): Map<string, FileImports> {
  return new Map(files.map((f) => [f.path, importsOf(f)]));
}

/** The layer (top folder under src/) of a path: `scheduler/stage.ts` -> `scheduler`; `index.ts` -> `(root)`. */
export function layerOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "(root)" : path.slice(0, slash);
}
