import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { readCsvSql } from "../../src/datagen/write.js";
import { openDuckDb, sqlString } from "../../src/duckdb/index.js";
import { listSplits } from "../../src/splits/discover.js";
import { localStore } from "../../src/storage/local.js";

const run = promisify(execFile);
const BIN = fileURLToPath(new URL("../../../bin/smelter.js", import.meta.url));

describe("smelter datagen", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "smelter-datagen-cli-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("writes uservisits and rankings as headerless CSV part files into a local dir, deterministically", async () => {
    const { stderr } = await run(process.execPath, [BIN, "datagen", "uservisits", "--rows", "30000", "--files", "3", "--pages", "3600", "--seed", "9", "--out", join(dir, "uv")]);
    assert.match(stderr, /30,000 uservisits rows in 3 csv file\(s\)/);
    await run(process.execPath, [BIN, "datagen", "rankings", "--rows", "3600", "--files", "2", "--seed", "9", "--out", join(dir, "rk")]);
    await run(process.execPath, [BIN, "datagen", "uservisits", "--rows", "30000", "--files", "1", "--pages", "3600", "--seed", "9", "--out", join(dir, "uv1")]);
    const files = (await readdir(join(dir, "uv"))).filter((f) => !f.startsWith(".")).sort();
    assert.deepEqual(files, ["part-00000", "part-00001", "part-00002"]);
    const three = Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, "uv", f)))));
    assert.deepEqual(three, await readFile(join(dir, "uv1", "part-00000")), "the same rows whatever the file count");
    const db = await openDuckDb({ threads: 2 });
    try {
      const n = await db.value(`SELECT count(*) FROM ${readCsvSql("uservisits", join(dir, "uv", "part-*"))} u JOIN ${readCsvSql("rankings", join(dir, "rk", "part-*"))} r ON u.destURL = r.pageURL`);
      assert.equal(Number(n), 30_000);
    } finally {
      db.close();
    }
    const splits = await listSplits(localStore(join(dir, "uv")), "part-*", { targetSplitBytes: 1024 * 1024 });
    assert.equal(splits.length, 6);
    assert.ok(splits.every((s) => s.format === "csv"));
  });

  it("writes Parquet through DuckDB with typed columns and several row groups", async () => {
    await run(process.execPath, [BIN, "datagen", "uservisits", "--rows", "20000", "--files", "2", "--format", "parquet", "--row-group-rows", "4096", "--out", join(dir, "pq")]);
    const files = (await readdir(join(dir, "pq"))).filter((f) => !f.startsWith(".")).sort();
    assert.deepEqual(files, ["part-00000.parquet", "part-00001.parquet"]);
    const db = await openDuckDb({ threads: 2 });
    try {
      const types = await db.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(join(dir, "pq", "*.parquet"))})`);
      assert.deepEqual(
        types.map((t) => `${t.column_name} ${t.column_type}`),
        ["sourceIP VARCHAR", "destURL VARCHAR", "visitDate DATE", "adRevenue FLOAT", "userAgent VARCHAR", "countryCode VARCHAR", "languageCode VARCHAR", "searchWord VARCHAR", "duration INTEGER"],
      );
      assert.equal(Number(await db.value(`SELECT count(*) FROM read_parquet(${sqlString(join(dir, "pq", "*.parquet"))})`)), 20_000);
    } finally {
      db.close();
    }
    const splits = await listSplits(localStore(join(dir, "pq")), "");
    assert.ok(splits.length >= 4, `${splits.length} row-group splits`);
    assert.equal(splits.reduce((s, x) => s + (x.rows ?? 0), 0), 20_000);
  });

  it("says what is wrong with a bad flag", async () => {
    const bad = await run(process.execPath, [BIN, "datagen", "uservisits", "--rows", "-5", "--out", join(dir, "x")]).catch((e: { stderr: string; code: number }) => e);
    assert.equal((bad as { code: number }).code, 1);
    assert.match((bad as { stderr: string }).stderr, /--rows must be at least 0/);
    const bad2 = await run(process.execPath, [BIN, "datagen", "users", "--out", join(dir, "x")]).catch((e: { stderr: string }) => e);
    assert.match((bad2 as { stderr: string }).stderr, /the table must be one of: uservisits, rankings/);
    const bad3 = await run(process.execPath, [BIN, "datagen", "rankings", "--format", "orc", "--out", join(dir, "x")]).catch((e: { stderr: string }) => e);
    assert.match((bad3 as { stderr: string }).stderr, /--format must be csv or parquet/);
  });
});
