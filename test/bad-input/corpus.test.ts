/** The corpus's shape: at least 80 CLI cases, each named once, each category run by one of the cli-*.test.ts files. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CLI_CASES } from "./cases.js";

test("the CLI corpus has at least 80 cases, each named once, every category run", () => {
  const names = CLI_CASES.map((c) => `${c.category}/${c.name}`);
  assert.equal(new Set(names).size, names.length);
  assert.ok(CLI_CASES.length >= 80, `${CLI_CASES.length} cases`);
  const runners = ["data", "storage", "sql-flags"].map((p) => readFileSync(new URL(`./cli-${p}.test.js`, import.meta.url), "utf8")).join("\n");
  for (const category of new Set(CLI_CASES.map((c) => c.category))) assert.ok(runners.includes(JSON.stringify(category)), `category ${category} is run`);
});
