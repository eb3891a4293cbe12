/**
 * The layering of docs/architecture.md, checked over src/'s import graph: which layer may import
 * which, the packages only adapters load, no import cycles, and the doc's table saying the same
 * as the rules (layer-rules.ts). The checks are also run on small made-up graphs, so a check
 * that stopped finding anything would fail here too.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ANY, describeAllowed, importCycles, KNOWN_MISPLACED, LAYERS, layerViolations, ruleCycle } from "./layer-rules.js";
import { importGraph, layerOf, ROOT, SRC, type FileImports } from "./source-graph.js";

const graph = importGraph();
const list = (lines: string[]): string => `\n  ${lines.join("\n  ")}`;

describe("layers (docs/architecture.md)", () => {
  it("reads the whole of src/", () => {
    assert.ok(graph.size > 100, `only ${graph.size} files found under src/`);
    assert.ok(graph.get("scheduler/stage.ts")?.local.includes("job/errors.ts"), "scheduler/stage.ts -> job/errors.ts resolved");
  });

  it("every import stays within what its layer may import", () => {
    const violations = layerViolations(graph);
    assert.deepEqual(violations, [], `layer violations:${list(violations)}`);
  });

  it("no import cycles between files", () => {
    const cycles = importCycles(graph).map((c) => c.join(" <-> "));
    assert.deepEqual(cycles, [], `import cycles:${list(cycles)}`);
  });

  it("the layer table itself is a hierarchy (no cycle between layers)", () => {
    assert.equal(ruleCycle(), undefined);
  });

  it("every known violation is still real (empty the list as the moves land)", () => {
    for (const [file, { layer, movedBy }] of Object.entries(KNOWN_MISPLACED)) {
      assert.ok(existsSync(join(SRC, file)), `src/${file} has moved (${movedBy}): remove it from KNOWN_MISPLACED in test/architecture/layer-rules.ts`);
      assert.notEqual(layerOf(file), layer);
    }
  });

  it("docs/architecture.md's layer table lists the same layers and imports as the rules", () => {
    const doc = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");
    const table = documentedLayers(doc);
    assert.deepEqual(Object.keys(table).sort(), Object.keys(LAYERS).sort(), "the table's rows are the layers");
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      assert.deepEqual(table[layer], [...allowed].sort(), `docs/architecture.md: what ${layer}/ may import`);
    }
  });
});

describe("the layer checks find what they must", () => {
  const g = (edges: Record<string, string[]>, packages: Record<string, string[]> = {}): Map<string, FileImports> =>
    new Map(Object.entries(edges).map(([f, local]) => [f, { local, packages: packages[f] ?? [] }]));

  it("an import reaching up a layer, an unknown layer, an adapter package in the core", () => {
    const v = layerViolations(
      g({ "task-runtime/runtime.ts": ["backends/threads.ts", "job/errors.ts"], "scheduler/stage.ts": ["backends/contract.ts", "backends/threads.ts"], "nowhere/x.ts": [], "sql/plan.ts": [] }, { "scheduler/stage.ts": ["@duckdb/node-api", "zod", "node:fs"], "sql/plan.ts": ["@aws-sdk/client-s3"] }),
    );
    assert.deepEqual(v.length, 6, list(v));
    assert.match(v.join("\n"), /src\/task-runtime\/runtime\.ts imports src\/backends\/threads\.ts: task-runtime\/ may import job\/ \(/);
    assert.match(v.join("\n"), /src\/scheduler\/stage\.ts imports src\/backends\/threads\.ts/);
    assert.doesNotMatch(v.join("\n"), /imports src\/backends\/contract\.ts/, "scheduler/ may import the backend contract file");
    assert.match(v.join("\n"), /layer "nowhere\/" is not in the layer table/);
    assert.match(v.join("\n"), /src\/scheduler\/stage\.ts imports @duckdb\/node-api: duckdb\/ is the one place/);
    assert.match(v.join("\n"), /src\/sql\/plan\.ts imports @aws-sdk\/client-s3: only storage\/s3\*\.ts/);
  });

  it("a file known to be misplaced is checked as the layer it is moving to", () => {
    const edges = g({ "sql/execute.ts": ["mapreduce/stages.ts", "cli/main.ts"] });
    const v = layerViolations(edges, LAYERS, (p) => (p === "sql/execute.ts" ? "query" : layerOf(p)));
    assert.deepEqual(v, [`src/sql/execute.ts imports src/cli/main.ts: query/ may import ${describeAllowed(LAYERS.query!)} (docs/architecture.md)`]);
  });

  it("cycles: two files, three files, a file importing itself; none in a chain", () => {
    assert.deepEqual(importCycles(g({ "a/x.ts": ["a/y.ts"], "a/y.ts": ["a/x.ts"], "b/p.ts": ["b/q.ts"], "b/q.ts": ["b/r.ts"], "b/r.ts": ["b/p.ts"], "c/s.ts": ["c/s.ts"], "d/1.ts": ["d/2.ts"], "d/2.ts": [] })), [["a/x.ts", "a/y.ts"], ["b/p.ts", "b/q.ts", "b/r.ts"], ["c/s.ts"]]);
  });

  it("a layer table with a cycle is refused", () => {
    assert.deepEqual(ruleCycle({ a: ["b"], b: ["c/file.ts"], c: ["a"], top: [ANY] }), ["a", "b", "c", "a"]);
  });
});

/** The table under "## The layers": layer -> what it may import (sorted), from its first and last columns. */
function documentedLayers(doc: string): Record<string, string[]> {
  const section = doc.slice(doc.indexOf("## The layers"));
  const rows: Record<string, string[]> = {};
  for (const line of section.split("\n").slice(1)) {
    if (line.startsWith("## ")) break;
    if (!line.startsWith("| `src/")) continue;
    const cells = line.split("|").map((c) => c.trim());
    const first = cells[1]!;
    const layer = /^`src\/([\w-]+)\/`$/.exec(first)?.[1] ?? (first.includes("`src/index.ts`") ? "(root)" : first);
    const mayImport = cells[cells.length - 2]!;
    rows[layer] = /any layer/.test(mayImport) ? [ANY] : [...mayImport.matchAll(/`([\w-]+)\/([\w.-]+\.ts)?`/g)].map((m) => (m[2] ? `${m[1]}/${m[2]}` : m[1]!)).sort();
  }
  return rows;
}
