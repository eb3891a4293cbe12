/**
 * Safety of the SQL surface, as a user meets it: a `--schema` cannot smuggle statements into
 * DuckDB (names are quoted, type names validated), a query reads only the tables given with
 * `--table` (no table functions, no file paths; `--allow-single-task` included), and statements
 * other than SELECT are refused with one message. Every case also checks that nothing was read or
 * written.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { isTypeName } from "../../src/duckdb/type-names.js";
import { planQuery } from "../../src/sql/plan.js";
import { parseSchema, parseTables } from "../../src/sql/tables.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const smelter = (command: string, ...args: string[]) => spawnSync(process.execPath, [bin, command, ...args], { encoding: "utf8", timeout: 60_000 });

describe("SQL surface safety", () => {
  let dir: string;
  let t: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-safety-"));
    mkdirSync(join(dir, "t"));
    writeFileSync(join(dir, "t", "part-0.csv"), "a,b\nx,1\ny,2\n");
    writeFileSync(join(dir, "secret.csv"), "s\nhidden-value\n");
    t = `t=${join(dir, "t")}/`;
  });

  test("--schema: statements smuggled in a type are refused before DuckDB sees them, and write nothing", () => {
    const target = join(dir, "x.csv");
    const schema = `t=a VARCHAR); COPY (SELECT 1) TO '${target}'; CREATE TABLE z (a VARCHAR`;
    for (const command of ["sql", "explain"]) {
      const r = smelter(command, "SELECT count(*) FROM t", "--table", t, "--schema", schema, ...(command === "sql" ? ["--backend", "inline"] : []));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /cannot read schema .*is not a type name/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(existsSync(target), false, `${command}: the COPY did not run`);
    }
    assert.throws(() => parseSchema("a VARCHAR DEFAULT 1"), /is not a type name/);
    assert.throws(() => parseTables([{ name: "t", url: "x/", format: "csv", columns: [{ name: "a", type: "INT); DROP TABLE t; --" }] }]), /is not a type name/);
    // Names are quoted identifiers: any text is a name, never SQL.
    assert.deepEqual(parseSchema('"a); DROP TABLE t; --" VARCHAR'), [{ name: "a); DROP TABLE t; --", type: "VARCHAR" }]);
  });

  test("type names: the types users write are accepted, anything else is not", () => {
    for (const ok of ["VARCHAR", "bigint", "DOUBLE PRECISION", "DECIMAL(10, 2)", "TIMESTAMP WITH TIME ZONE", "INTEGER[]", "DOUBLE[3]", "STRUCT(a INTEGER, \"b c\" VARCHAR)", "MAP(VARCHAR, INTEGER[])"]) assert.ok(isTypeName(ok), ok);
    for (const bad of ["", "VARCHAR)", "VARCHAR; DROP TABLE t", "INT DEFAULT 5", "INT CHECK (a > 0)", "VARCHAR COLLATE 'x'", "ENUM('a')", "DECIMAL(10, 2", "INT, b INT"]) assert.equal(isTypeName(bad), false, bad);
  });

  test("table functions and file paths are refused everywhere, --allow-single-task included", async () => {
    const secret = join(dir, "secret.csv");
    const queries = [
      `SELECT * FROM read_csv('${secret}')`,
      `SELECT * FROM '${secret}'`,
      `SELECT a FROM t WHERE a IN (SELECT s FROM read_csv('${secret}'))`,
      `WITH x AS (SELECT * FROM read_text('${secret}')) SELECT * FROM t, x`,
      `SELECT * FROM t JOIN glob('${dir}/*') g ON true`,
      `SELECT count(*) FROM (SELECT * FROM '${secret}') AS s`,
    ];
    for (const q of queries) {
      const r = smelter("sql", q, "--table", t, "--allow-single-task", "--backend", "inline", "--format", "csv");
      assert.equal(r.status, 1, `${q}: ${r.stdout}`);
      assert.match(r.stderr, /(table functions cannot be used|reads the file).*: a query reads only the tables given with --table NAME=URL/, q);
      assert.doesNotMatch(r.stdout + r.stderr, /hidden-value/, "the file was not read");
    }
    await assert.rejects(planQuery("SELECT * FROM main.t", [{ name: "t", url: "x/", format: "csv", columns: [{ name: "a", type: "VARCHAR" }] }], { allowSingleTask: true }), /a schema-qualified table \(main\.t\)/);
    // A CTE's own name is fine.
    const ok = smelter("sql", "WITH x AS (SELECT a FROM t) SELECT count(*) AS n FROM x", "--table", t, "--backend", "inline", "--format", "csv", "--quiet");
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "n\n2");
  });

  test("DROP, COPY, CREATE, INSERT, PRAGMA: only SELECT queries are supported", () => {
    for (const q of ["DROP TABLE t", `COPY (SELECT 1) TO '${join(dir, "copied.csv")}'`, "CREATE TABLE z AS SELECT 1", "INSERT INTO t VALUES ('z', 3)", "PRAGMA version", "SELECT 1 FROM t; DROP TABLE t"]) {
      const r = smelter("sql", q, "--table", t, "--backend", "inline");
      assert.equal(r.status, 1, q);
      assert.match(r.stderr, /^\[smelter\] \[sql\] only SELECT queries are supported: /m, q);
    }
    assert.equal(existsSync(join(dir, "copied.csv")), false);
  });
});
