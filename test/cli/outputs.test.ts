/**
 * What commands write, checked before the job starts: an existing --output file or object is
 * refused unless --overwrite; an --output or --events path in a missing or unwritable directory
 * fails at once with Smelter's message (no stack, no job started, no 100% CPU spin); a local
 * result leaves nothing beside it (no .smelter/); datagen refuses to mix its part files with an
 * earlier run's unless --clean, naming them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { openResultObject } from "../../src/outputs/result-object.js";
import { localStore } from "../../src/storage/local.js";
import { memoryStore } from "../../src/storage/memory.js";

const bin = new URL("../../../bin/smelter.js", import.meta.url).pathname;
const smelter = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });

describe("outputs: checked before the job, never silently replaced, nothing left beside them", () => {
  let dir: string;
  let input: string;
  const query2 = (...args: string[]) => smelter("query2", "--input", input, "--backend", "threads", "--workers", "2", ...args);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "smelter-outputs-"));
    mkdirSync(join(dir, "in"));
    const rows = Array.from({ length: 3000 }, (_, i) => `10.1.${i % 200}.${i % 7},page${i},1980-01-01,${(i % 97) * 0.5},ua,US,EN,w,${i % 9}`);
    writeFileSync(join(dir, "in", "part-00000"), `${rows.join("\n")}\n`);
    input = `${join(dir, "in")}/`;
  });

  const failsBeforeTheJob = (r: ReturnType<typeof smelter>, message: RegExp) => {
    assert.notEqual(r.status, null, "the command ended (no spin)");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at |node:internal/, "no Node stack");
    assert.doesNotMatch(r.stderr, /map .*(done|running)|\bj[0-9a-f]{5}\b/, "no job started");
    assert.equal(r.stdout, "");
  };

  test("--events and --output in a missing or unwritable directory fail at once, naming the path", () => {
    failsBeforeTheJob(query2("--events", "/proc/nope/x.jsonl"), /^\[smelter\] --events \/proc\/nope\/x\.jsonl: directory \/proc\/nope does not exist/m);
    failsBeforeTheJob(query2("--output", "/proc/nope/r.csv"), /^\[smelter\] --output \/proc\/nope\/r\.csv: directory \/proc\/nope does not exist/m);
    failsBeforeTheJob(query2("--output", "/proc/r.csv"), /^\[smelter\] --output \/proc\/r\.csv: cannot write in \/proc/m);
    failsBeforeTheJob(query2("--output", "/proc/nope/r.duckdb"), /directory \/proc\/nope does not exist/);
    failsBeforeTheJob(smelter("sql", "SELECT count(*) FROM t", "--table", `t=${input}`, "--schema", "t=bdb:uservisits", "--events", join(dir, "nope", "e.jsonl")), /--events .*e\.jsonl: directory .*nope does not exist/);
  });

  test("a local store never spins on a directory it cannot create (Node's recursive mkdir loops on /proc)", async () => {
    await assert.rejects(localStore("/proc/nope").put("r.csv", new TextEncoder().encode("x")), /ENOENT/);
    await assert.rejects(localStore("/proc/nope", { create: true }).put("a/b.csv", new TextEncoder().encode("x")), /ENOENT/);
  });

  test("an existing --output file or object is refused unless --overwrite", async () => {
    const csv = join(dir, "r.csv");
    writeFileSync(csv, "old\n");
    failsBeforeTheJob(query2("--output", csv), /--output .*r\.csv already exists: pass --overwrite to replace it/);
    assert.equal(readFileSync(csv, "utf8"), "old\n");
    const ok = query2("--output", csv, "--overwrite", "--quiet", "--format", "json");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(readFileSync(csv, "utf8"), /^prefix,adRevenue\n/);
    const db = join(dir, "r.duckdb");
    writeFileSync(db, "not a database");
    failsBeforeTheJob(query2("--output", db), /--output .*r\.duckdb already exists: pass --overwrite/);
    const replaced = query2("--output", db, "--overwrite", "--quiet", "--format", "json");
    assert.equal(replaced.status, 0, replaced.stderr);
    // An object in a store (S3 alike: a memory store here).
    const bucket = memoryStore("outputs-test");
    await bucket.put("results/r.csv", new TextEncoder().encode("old"));
    await assert.rejects(openResultObject("memory://outputs-test/results/r.csv", ["csv"]), /already exists: pass --overwrite/);
    assert.equal((await openResultObject("memory://outputs-test/results/r.csv", ["csv"], { overwrite: true })).key, "results/r.csv");
  });

  test("a local --output leaves only the result beside the user's files (no .smelter/), written by tasks or by the coordinator", () => {
    for (const [name, extra] of [["by-tasks", ["--partitions", "2"]], ["by-coordinator", []]] as const) {
      const out = join(dir, name);
      mkdirSync(out);
      writeFileSync(join(out, "mine.txt"), "the user's file\n");
      const r = query2("--output", join(out, "r.csv"), "--quiet", "--format", "json", ...extra);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(out).sort(), ["mine.txt", "r.csv"], name);
    }
    const s = smelter("sql", "SELECT sourceIP, adRevenue FROM uv WHERE adRevenue > 40", "--table", `uv=${input}`, "--schema", "uv=bdb:uservisits", "--backend", "threads", "--workers", "2", "--quiet", "--format", "json", "--output", join(dir, "by-tasks", "scan.parquet"));
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(readdirSync(join(dir, "by-tasks")).sort(), ["mine.txt", "r.csv", "scan.parquet"]);
  });

  test("datagen into a directory holding an earlier run's part files refuses, naming them; --clean deletes them first", () => {
    const out = join(dir, "gen");
    const gen = (...args: string[]) => smelter("datagen", "uservisits", "--out", out, "--rows", "200", ...args);
    assert.equal(gen("--files", "3").status, 0);
    writeFileSync(join(out, "README.txt"), "keep me\n");
    const again = gen("--files", "2");
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds part files of an earlier run \(part-00000, part-00001, part-00002\).*--clean/);
    assert.doesNotMatch(again.stderr, /\n\s+at /);
    const clean = gen("--files", "2", "--clean");
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stderr, /deleted 3 part file\(s\) of an earlier run .*\(part-00000, part-00001, part-00002\)/);
    assert.deepEqual(readdirSync(out).sort(), ["README.txt", "part-00000", "part-00001"]);
    assert.ok(!existsSync(join(out, "part-00002")));
  });
});
