import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateRankings } from "../../src/datagen/rankings.js";
import { generateUservisits } from "../../src/datagen/uservisits.js";
import { readCsvSql } from "../../src/datagen/write.js";
import { openDuckDb, sqlString } from "../../src/duckdb/index.js";
import { BDB_TINY } from "../helpers/bdb-tiny.js";

const TINY = BDB_TINY;

function text(chunks: Iterable<Uint8Array>): string {
  return Buffer.concat([...chunks]).toString("latin1");
}
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("uservisits and rankings generators", () => {
  it("are deterministic for a seed, differ across seeds, and do not depend on how rows are cut into files", () => {
    const a = text(generateUservisits({ seed: 42, rows: 70_000, pages: 5000 }));
    assert.equal(md5(text(generateUservisits({ seed: 42, rows: 70_000, pages: 5000, chunkRows: 999 }))), md5(a));
    assert.notEqual(md5(text(generateUservisits({ seed: 43, rows: 70_000, pages: 5000 }))), md5(a));
    const parts = [0, 12_345, 65_536, 66_000, 70_000];
    let joined = "";
    for (let i = 0; i + 1 < parts.length; i++) joined += text(generateUservisits({ seed: 42, startRow: parts[i], rows: (parts[i + 1] ?? 0) - (parts[i] ?? 0), pages: 5000 }));
    assert.equal(joined, a);
    const r = text(generateRankings({ seed: 42, rows: 3000 }));
    assert.equal(text(generateRankings({ seed: 42, rows: 1000, startRow: 2000 })), r.split("\n").slice(2000).join("\n"));
    assert.notEqual(text(generateRankings({ seed: 7, rows: 3000 })), r);
  });

  it("writes uservisits rows in the benchmark's format and HiBench's ranges", () => {
    const lines = text(generateUservisits({ seed: 1, rows: 20_000, pages: 2400 })).split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 20_000);
    let scientific = 0;
    for (const line of lines) {
      const f = line.split(",");
      assert.equal(f.length, 9, line);
      const ip = (f[0] ?? "").split(".").map(Number);
      assert.equal(ip.length, 4);
      assert.ok(ip[0]! >= 1 && ip[0]! <= 254 && ip[1]! >= 0 && ip[1]! <= 254 && ip[2]! >= 0 && ip[2]! <= 254 && ip[3]! >= 1 && ip[3]! <= 254, line);
      assert.match(f[1] ?? "", /^[a-z]{10,100}$/);
      assert.match(f[2] ?? "", /^(19[7-9]\d|200\d|201[0-2])-\d\d-\d\d$/);
      const rev = Number(f[3]);
      assert.ok(rev >= 0 && rev < 1 && Number.isInteger(Math.fround(rev) * 2 ** 24), line);
      if (f[3]?.includes("E-")) scientific++;
      assert.match(f[5] ?? "", /^[A-Z]{3}$/);
      assert.ok(f[6]?.startsWith(`${f[5]}-`), line);
      const d = Number(f[8]);
      assert.ok(Number.isInteger(d) && d >= 1 && d <= 10, line);
    }
    assert.ok(scientific > 5 && scientific < 100, `${scientific} revenues in scientific notation (tiny has 14 in 10,000)`);
    const bytes = lines.reduce((s, l) => s + l.length + 1, 0) / lines.length;
    assert.ok(bytes > 150 && bytes < 185, `${bytes} bytes a row (the benchmark: about 164)`);
  });

  it("loads in DuckDB with the benchmark's schema, like the real tiny data, and destURL joins rankings.pageURL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "smelter-datagen-test-"));
    const db = await openDuckDb({ threads: 2 });
    try {
      const pages = 1200;
      await writeFile(join(dir, "uv.csv"), Buffer.concat([...generateUservisits({ seed: 5, rows: 10_000, pages })]));
      await writeFile(join(dir, "rk.csv"), Buffer.concat([...generateRankings({ seed: 5, rows: pages })]));
      await db.run(`CREATE TABLE uv AS SELECT * FROM ${readCsvSql("uservisits", join(dir, "uv.csv"))}`);
      await db.run(`CREATE TABLE rk AS SELECT * FROM ${readCsvSql("rankings", join(dir, "rk.csv"))}`);
      const stats = await db.all(`SELECT count(*) AS n, min(visitDate)::VARCHAR AS lo, max(visitDate)::VARCHAR AS hi, min(duration) AS dmin, max(duration) AS dmax, count(DISTINCT destURL) AS urls FROM uv`);
      assert.equal(Number(stats[0]?.n), 10_000);
      assert.ok(String(stats[0]?.lo) >= "1970-01-01" && String(stats[0]?.hi) <= "2012-04-30");
      assert.deepEqual([stats[0]?.dmin, stats[0]?.dmax], [1, 10]);
      const joined = await db.value(`SELECT count(*) FROM uv JOIN rk ON uv.destURL = rk.pageURL`);
      assert.equal(Number(joined), 10_000, "every visit joins a ranking");
      assert.equal(Number(await db.value(`SELECT count(DISTINCT pageURL) FROM rk`)), pages);
      const rk = await db.all(`SELECT min(avgDuration) AS a, max(avgDuration) AS b, min(pageRank) AS r FROM rk`);
      assert.ok(Number(rk[0]?.a) >= 1 && Number(rk[0]?.b) <= 99 && Number(rk[0]?.r) >= 11);
      const tiny = await db.value(`SELECT count(*) FROM ${readCsvSql("uservisits", join(TINY, "uservisits", "part-*"))}`);
      assert.equal(Number(tiny), 10_000);
      const tinyJoin = await db.value(
        `SELECT count(*) FROM ${readCsvSql("uservisits", join(TINY, "uservisits", "part-*"))} u JOIN ${readCsvSql("rankings", join(TINY, "rankings", "part-*"))} r ON u.destURL = r.pageURL`,
      );
      assert.ok(Number(tinyJoin) > 9000, `${String(tinyJoin)} tiny visits join`);
      assert.ok(sqlString("it's") === "'it''s'");
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
