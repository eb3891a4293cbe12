/**
 * The differential suite in `npm test`: a fixed set of seeds for every family of cases
 * (test/differential/cases.ts), each generated input run through its path (`smelter sql`'s
 * library calls, runQuery2, a defineMapReduce job) on threads or processes, a local directory or
 * the embedded S3 server, and compared with DuckDB alone on the same files. A case in a known
 * failure class (known-failures.ts; empty now) is skipped with its reason.
 * `npm run fuzz` runs many more seeds; a failing case prints its replay command.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { drawCase, FAMILIES, type CaseSpec } from "./cases.js";
import { describeCase, DifferentialEnv, replayCommand, runCase } from "./harness.js";

/**
 * Seeds run by `npm test` (chosen only so that together they draw every input kind, checked
 * below; three seeds of every family, 27 cases, since no case is skipped as a known failure any
 * more: the run stays within the time of the 35 cases it ran before).
 */
export const FIXED_SEEDS = [1, 2, 30];

describe("differential: every path equals DuckDB alone on generated inputs", () => {
  let env: DifferentialEnv;
  before(async () => {
    env = await new DifferentialEnv().open({ s3: true });
  });
  after(async () => {
    await env?.close();
  });

  for (const family of Object.keys(FAMILIES)) {
    for (const seed of FIXED_SEEDS) {
      test(`${family} seed ${seed}`, async (t) => {
        const o = await runCase(env, seed, family);
        if (o.status === "skip") return t.skip(o.detail);
        assert.equal(o.status, "pass", `${o.detail}\n  ${describeCase(o.spec)}\n  replay: ${replayCommand(o.spec)}`);
      });
    }
  }

  test("the fixed seeds draw every input kind, path, backend and store the suite knows", () => {
    const cases: CaseSpec[] = Object.keys(FAMILIES).flatMap((f) => FIXED_SEEDS.map((s) => drawCase(s, f)));
    const tables = cases.flatMap((c) => c.tables);
    const csv = tables.filter((t) => t.flags.format === "csv");
    const want: [string, boolean][] = [
      ["headered CSV", csv.some((t) => t.flags.header)],
      ["headerless CSV", csv.some((t) => !t.flags.header)],
      ["quoted fields", csv.some((t) => t.flags.quoting)],
      ["quoted newlines", csv.some((t) => t.flags.quotedNewlines)],
      ["CRLF", tables.some((t) => t.flags.crlf)],
      ["BOM", tables.some((t) => t.flags.bom)],
      ["no final newline", tables.some((t) => !t.flags.finalNewline && t.flags.format !== "parquet")],
      ["an empty file", tables.some((t) => t.flags.emptyFile)],
      ["a header-only file", csv.some((t) => t.flags.headerOnly)],
      ["columns in different orders", tables.some((t) => t.flags.shuffledColumns)],
      ["NDJSON", tables.some((t) => t.flags.format === "ndjson")],
      ["gzip", tables.some((t) => t.flags.gzip)],
      ["Parquet with several row groups", tables.some((t) => t.flags.rowGroups)],
      ["threads", cases.some((c) => c.backend === "threads")],
      ["processes", cases.some((c) => c.backend === "processes")],
      ["local directory", cases.some((c) => c.storage === "local")],
      ["embedded S3 server", cases.some((c) => c.storage === "s3")],
      ["R = 1", cases.some((c) => c.partitions === 1)],
      ["R >= 12", cases.some((c) => (c.partitions ?? 0) >= 12)],
      ["default R", cases.some((c) => c.partitions === undefined)],
      ["task bytes under 64", cases.some((c) => (c.taskBytes ?? Infinity) < 64)],
      ["sql, query2 and functions", ["sql", "query2", "functions"].every((p) => cases.some((c) => c.path === p))],
      ["joins broadcast and partitioned", ["broadcast", "partitioned"].every((j) => cases.some((c) => c.join === j))],
      ["ORDER BY cases", cases.some((c) => c.ordered)],
      ["runSqlCli / runQuery2Cli with the command's flags", cases.some((c) => c.viaCli)],
      // What the last known failure classes needed (issue 9).
      ["a --schema over headered CSV with per-file column orders", cases.some((c) => c.path === "sql" && c.schema === "given" && c.tables.some((t) => t.flags.format === "csv" && t.flags.shuffledColumns))],
      ["sniffed NDJSON with per-object key orders", cases.some((c) => c.path === "sql" && c.schema === "sniffed" && c.tables.some((t) => t.flags.format === "ndjson" && t.flags.shuffledColumns))],
      ["a join over a gzip or BOM table", cases.some((c) => c.tables.length > 1 && c.tables.some((t) => t.flags.gzip || t.flags.bom))],
    ];
    const missing = want.filter(([, ok]) => !ok).map(([what]) => what);
    assert.deepEqual(missing, [], `the fixed seeds draw no case with: ${missing.join(", ")}`);
  });
});
