/**
 * docs/architecture.md's layer table as data, and the checks that hold src/ to it. A layer is a
 * top folder of src/; it may import itself, the layers listed here, and nothing else. An entry
 * naming a file (`backends/contract.ts`) allows that one file of a layer. The table in the doc
 * must list the same (layers.test.ts compares them).
 */
import type { FileImports } from "./source-graph.js";
import { layerOf } from "./source-graph.js";

/** Any layer: the entry points (the CLI, the package's index). */
export const ANY = "*";

export const LAYERS: Record<string, readonly string[]> = {
  job: [],
  storage: ["job"],
  duckdb: ["job"],
  config: ["job"],
  "task-runtime": ["job"],
  backends: ["job", "task-runtime"],
  scheduler: ["job", "backends/contract.ts"],
  report: ["job", "scheduler"],
  splits: ["job", "storage"],
  shuffle: ["job", "storage", "task-runtime"],
  datagen: ["job", "storage", "duckdb"],
  outputs: ["job", "storage", "duckdb", "task-runtime", "scheduler", "report"],
  mapreduce: ["job", "storage", "duckdb", "task-runtime", "scheduler", "splits", "shuffle", "outputs", "datagen"],
  sql: ["job", "storage", "duckdb", "splits", "shuffle", "datagen"],
  "builtin-workers": ["job", "storage", "duckdb", "task-runtime", "splits", "shuffle", "outputs", "mapreduce", "sql"],
  query: ["job", "storage", "duckdb", "scheduler", "splits", "shuffle", "outputs", "mapreduce", "sql", "builtin-workers", "datagen"],
  simulate: ["job", "storage", "scheduler", "backends/contract.ts", "splits", "shuffle", "mapreduce"],
  cli: [ANY],
  /** src/index.ts, src/s3.ts: the package's entry points. */
  "(root)": [ANY],
};

/**
 * KNOWN VIOLATIONS, to be emptied by the change named with each: a file that sits in the wrong
 * layer today, checked as if it were already where it is going. The lead empties this list
 * when that change merges (the test fails on an entry whose file has moved).
 */
export const KNOWN_MISPLACED: Record<string, { layer: string; movedBy: string }> = {
};

/** npm packages only some files may load: the core stays free of adapters. */
export const PACKAGE_RULES: { pattern: RegExp; allowed: (path: string) => boolean; why: string }[] = [
  { pattern: /^@duckdb\//, allowed: (p) => layerOf(p) === "duckdb", why: "duckdb/ is the one place that opens DuckDB" },
  { pattern: /^@aws-sdk\/client-s3$/, allowed: (p) => /^storage\/s3[\w-]*\.ts$/.test(p), why: "only storage/s3*.ts load the S3 SDK" },
  { pattern: /^s3rver$/, allowed: (p) => p === "storage/server.ts", why: "only storage/server.ts loads s3rver" },
];

/** Layers whose only npm import may be zod: the core (no AWS, DuckDB, Kubernetes...). */
export const CORE_LAYERS = ["job", "scheduler", "task-runtime"];

/** The layer a file is checked as. */
export function checkedLayer(path: string): string {
  return KNOWN_MISPLACED[path]?.layer ?? layerOf(path);
}

function allows(layer: string, target: string, rules: Record<string, readonly string[]>): boolean {
  const allowed = rules[layer] ?? [];
  const targetLayer = layerOf(target);
  return targetLayer === layer || allowed.includes(ANY) || allowed.includes(targetLayer) || allowed.includes(target);
}

/** `job/, backends/contract.ts`, as the doc's table writes it. */
export function describeAllowed(allowed: readonly string[]): string {
  return allowed.map((a) => (a.endsWith(".ts") || a === ANY ? a : `${a}/`)).join(", ") || "no other layer";
}

/** Every import that breaks the layer rules, the package rules, or lands in a layer with no rule, in words. */
export function layerViolations(graph: Map<string, FileImports>, rules: Record<string, readonly string[]> = LAYERS, misplaced: (path: string) => string = checkedLayer): string[] {
  const out: string[] = [];
  for (const [file, { local, packages }] of graph) {
    const layer = misplaced(file);
    if (!(layer in rules)) {
      out.push(`src/${file}: layer "${layer}/" is not in the layer table: add it (test/architecture/layer-rules.ts and docs/architecture.md)`);
      continue;
    }
    for (const target of local) {
      if (!allows(layer, target, rules)) out.push(`src/${file} imports src/${target}: ${layer}/ may import ${describeAllowed(rules[layer] ?? [])} (docs/architecture.md)`);
    }
    for (const pkg of packages) {
      if (pkg.startsWith("node:")) continue;
      for (const rule of PACKAGE_RULES) if (rule.pattern.test(pkg) && !rule.allowed(file)) out.push(`src/${file} imports ${pkg}: ${rule.why}`);
      if (CORE_LAYERS.includes(layer) && pkg !== "zod") out.push(`src/${file} imports ${pkg}: the core (${CORE_LAYERS.join("/, ")}/) imports no package but zod`);
    }
  }
  return out;
}

/** Import cycles between files (strongly connected components of two or more files, or a file importing itself). */
export function importCycles(graph: Map<string, FileImports>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.local ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.local.includes(v)) cycles.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A cycle among the layers the rules allow (a layer table must be a hierarchy), or undefined. */
export function ruleCycle(rules: Record<string, readonly string[]> = LAYERS): string[] | undefined {
  const deps = (layer: string): string[] => [...new Set((rules[layer] ?? []).filter((t) => t !== ANY).map((t) => (t.includes("/") ? layerOf(t) : t)))].filter((t) => t !== layer);
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (layer: string): string[] | undefined => {
    if (state.get(layer) === "done") return undefined;
    if (state.get(layer) === "open") return [...path.slice(path.indexOf(layer)), layer];
    state.set(layer, "open");
    path.push(layer);
    for (const d of deps(layer)) {
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(layer, "done");
    return undefined;
  };
  for (const layer of Object.keys(rules)) {
    const found = visit(layer);
    if (found) return found;
  }
  return undefined;
}
