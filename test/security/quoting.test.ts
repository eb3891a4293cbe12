/**
 * Identifiers and URLs reach DuckDB only quoted: object keys, column names, CSV options and output
 * paths holding quotes and SQL are read as data (a table name with quotes is refused as a flag), through the CLI (threads
 * backend), from a local directory and from the embedded S3 server; the answers are exact and
 * the SQL hidden in the names never runs (the file it would write does not appear).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { sqlIdentifier, sqlString } from "../../src/duckdb/sql.js";
import { s3Store } from "../../src/storage/s3.js";
import { startS3Server, type S3Server } from "../../src/storage/server.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;

describe("hostile names are quoted, never run", () => {
  let dir: string;
  let pwned: string;
  let server: S3Server;
  /** A column name that closes the string and the call, then writes a file, if pasted into SQL unquoted. */
  let evilColumn: string;
  const weirdColumn = 'we"ird col';
  const body = () => `id,"we""ird col","${evilColumn.replaceAll('"', '""')}"\n1,10,a\n2,20,b\n3,12,c\n`;
  const smelter = (args: string[], env: Record<string, string> = {}) => promisify(execFile)(process.execPath, [bin, ...args, "--backend", "threads", "--workers", "2", "-q", "--format", "json"], { env: { ...process.env, ...env }, timeout: 120_000 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "smelter-sec-quote-"));
    pwned = join(dir, "pwned.txt");
    evilColumn = `x'); COPY (SELECT 1) TO '${pwned}'; --"`;
    mkdirSync(join(dir, `t'a"ble`));
    writeFileSync(join(dir, `t'a"ble`, `it's "q"; DROP.csv`), body());
    server = await startS3Server({ buckets: ["quote"] });
    const bucket = s3Store({ bucket: "quote", endpoint: server.endpoint, region: server.region, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    await bucket.put(`q'"/it's "q"; DROP.csv`, Buffer.from(body()));
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the quoting functions double what must be doubled", () => {
    assert.equal(sqlString("it's"), "'it''s'");
    assert.equal(sqlIdentifier('we"ird'), '"we""ird"');
  });

  test("a table name with quotes is refused before anything runs", async () => {
    await assert.rejects(smelter(["sql", `SELECT 1 FROM "t'a""ble"`, "--table", `t'a"ble=${join(dir, `t'a"ble`)}/`]), (err: unknown) => {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 1);
      assert.match(e.stderr, /^\[smelter\] bad flags: --table takes NAME=VALUE/);
      return true;
    });
  });

  for (const where of ["local", "s3"] as const) {
    test(`${where}: a key, a table name and columns with quotes and SQL in them; exact answers; nothing run`, async () => {
      const table = where === "local" ? `tq=${join(dir, `t'a"ble`)}/` : `tq=s3://quote/q'"/`;
      const output = join(dir, `out-${where} 'o"k.csv`);
      const r = await smelter(
        [
          "sql",
          `SELECT count(*) AS n, sum(${sqlIdentifier(weirdColumn)}) AS s, max(${sqlIdentifier(evilColumn)}) AS m FROM tq`,
          "--table",
          table,
          "--null-string",
          "'); COPY (SELECT 2) TO 'x'; --",
          "--output",
          output,
        ],
        where === "s3" ? server.env : {},
      );
      const rows = JSON.parse(r.stdout) as { n: number; s: number | string; m: string }[];
      assert.equal(rows.length, 1);
      assert.deepEqual({ n: rows[0]!.n, s: String(rows[0]!.s), m: rows[0]!.m }, { n: 3, s: "42", m: "c" });
      assert.equal(readFileSync(output, "utf8"), "n,s,m\n3,42,c\n");
      assert.equal(existsSync(pwned), false, "the COPY hidden in a column name did not run");
      assert.equal(existsSync(join(process.cwd(), "x")), false, "the COPY hidden in --null-string did not run");
    });
  }
});
